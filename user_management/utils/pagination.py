"""Page a mongoengine queryset for the list endpoints."""
import math
from typing import NamedTuple


class Page(NamedTuple):
    """One page of a list: its items and where it sits (1-based `page` of `limit` items, `total` in all)."""

    items: list
    page: int
    limit: int
    total: int

    @property
    def pages(self):
        """How many pages the list has."""
        return math.ceil(self.total / self.limit) if self.total else 0


def paginate(queryset, page, limit, select_related=False, read=None):
    """Return the `Page` numbered `page` of `queryset`.

    `select_related` fetches the page's referenced documents in one query per
    collection, instead of one query per item and field when the answer reads them.
    `read(page_queryset)`, when given, reads the page instead (e.g. as projected raw rows).
    """
    total = queryset.count()
    page_set = queryset.skip((page - 1) * limit).limit(limit)
    if read is not None:
        items = read(page_set)
    else:
        items = page_set.select_related() if select_related else list(page_set)
    return Page(items, page, limit, total)


class Row:
    """A listed item with the answer's extra facts (`locked`, `member_count`…): reads them first, then the item."""

    def __init__(self, item, **extras):
        self._item = item
        self.__dict__.update(extras)

    def __getattr__(self, name):
        return getattr(self._item, name)


def with_rows(page, extras_of):
    """`page` whose items are `Row`s, each with the extras `extras_of(item)` returns."""
    return page._replace(items=[Row(item, **extras_of(item)) for item in page.items])
