"""The JSON API under /api/v1: personal tokens, one error format, an OpenAPI document."""
