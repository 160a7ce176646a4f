"""cunyi's pure domain: the sync rules and the coverage engine (standard library only)."""
