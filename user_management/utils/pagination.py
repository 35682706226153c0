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


def paginate(queryset, page, limit, read=list):
    """Return the `Page` numbered `page` of `queryset`; `read(page_queryset)` reads its items
    (Documents by default; the lists pass models.rows' projected raw rows)."""
    total = queryset.count()
    return Page(read(queryset.skip((page - 1) * limit).limit(limit)), page, limit, total)


class WithExtras:
    """A listed item with the answer's extra facts (`locked`, `member_count`…): reads them first, then the item."""

    def __init__(self, item, **extras):
        self._item = item
        self.__dict__.update(extras)

    def __getattr__(self, name):
        return getattr(self._item, name)


def with_rows(page, extras_of):
    """`page` whose items are `WithExtras`, each with the extras `extras_of(item)` returns."""
    return page._replace(items=[WithExtras(item, **extras_of(item)) for item in page.items])
