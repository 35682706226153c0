"""Page a mongoengine queryset into the shape every list endpoint returns."""
import math


def paginate(queryset, page, limit):
    """Return (items, pagination dict) for 1-based `page` of `limit` items."""
    total = queryset.count()
    items = list(queryset.skip((page - 1) * limit).limit(limit))
    return items, {"page": page, "limit": limit, "total": total, "pages": math.ceil(total / limit) if total else 0}
