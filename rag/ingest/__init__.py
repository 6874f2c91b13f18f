"""Reading articles: load files, clean them (datelines, bylines), split into chunks; uploads."""
