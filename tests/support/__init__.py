"""Helpers shared by the test tiers (import as `support.<module>`; tests/ is on sys.path)."""
