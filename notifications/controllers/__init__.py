"""Business rules of the service; no Flask request objects or status codes here."""
