"""HTTP JSON API (FastAPI) under /api/v1."""
