"""Operational plumbing shared by both services: JSON logs, request ids, Prometheus metrics."""
from .observability import init_observability

__all__ = ["init_observability"]
