"""Server-rendered pages for people: the agency dashboard under /dashboard."""
