"""Server-rendered pages for supervisors and county administrators (SPEC §10)."""
