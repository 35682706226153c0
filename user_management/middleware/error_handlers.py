"""Every error leaves the service as `{success: false, message, errors?}` (see servicekit.errors)."""
from servicekit.errors import error_response, register_error_handlers  # noqa: F401  (the service's entry points)
