"""cunyi's server: HTTP API, pages, authentication and persistence."""
