"""Public JSON API v1 for the city's website and family portal (contract in openapi.py)."""
