"""The JSON API of SPEC §6 and §7."""
