"""Who is calling: JWT verification, the Principal, and the role matrix."""
