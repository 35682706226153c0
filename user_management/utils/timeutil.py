"""Time helpers: one clock for the whole service, naive UTC as MongoDB stores it."""
from datetime import datetime, timezone


def utcnow():
    """Return the current time as naive UTC, truncated to the millisecond MongoDB keeps."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def isoformat(moment):
    """Return `moment` (naive UTC) as an ISO 8601 string with a Z suffix, or None."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds") + "Z"
