"""Middleware and handlers that protect every request, whichever way the user came in:
the token API's body limit, cross-origin writes, framing, and database outages."""
