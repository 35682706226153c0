"""Code both services share: the contract between them, errors, config readers, observability, OpenAPI.

Nothing is imported here: gunicorn's master reads `servicekit.gunicorn_settings` before an async
worker monkey-patches, and must not load Flask on the way.
"""
