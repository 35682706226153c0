"""Page a mongoengine queryset into the shape every list endpoint returns."""
import math


def paginate(queryset, page, limit, select_related=False):
    """Return (items, pagination dict) for 1-based `page` of `limit` items.

    `select_related` fetches the page's referenced documents in one query per
    collection, instead of one query per item and field when `to_dict` reads them.
    """
    total = queryset.count()
    page_set = queryset.skip((page - 1) * limit).limit(limit)
    items = page_set.select_related() if select_related else list(page_set)
    return items, {"page": page, "limit": limit, "total": total, "pages": math.ceil(total / limit) if total else 0}
