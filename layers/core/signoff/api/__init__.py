"""The HTTP API: one Powertools resolver, its routers, and the one exception mapping."""
