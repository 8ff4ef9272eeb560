"""The HTTP service: the app factory, its dependencies, the error format and rate limits."""
