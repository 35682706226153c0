"""The indexes the models declare, and bringing a database's indexes in line with them.

Start-up (`ensure_indexes`) only creates what is missing. An index that already exists
with other options (a changed `expireAfterSeconds`, an index made unique later) or a
unique index the data violates makes MongoDB refuse the creation; that is reported in
one log line naming the fix and left alone, so workers never crash-loop on it.

`flask sync-indexes` (`plan_sync` and `apply_plan`) is the upgrade step that changes
them: `collMod` for a new `expireAfterSeconds`, drop and create for any other change.
"""
import json
import logging
from dataclasses import dataclass, field

from pymongo import IndexModel
from pymongo.errors import OperationFailure

log = logging.getLogger(__name__)

SYNC_COMMAND = "flask --app wsgi:user_management_app sync-indexes"
# MongoDB's codes for "an index with these keys or this name exists with other options",
# and for a unique index that existing documents violate.
INDEX_OPTIONS_CONFLICT = 85
INDEX_KEY_SPECS_CONFLICT = 86
DUPLICATE_KEY = 11000
CONFLICT_CODES = {INDEX_OPTIONS_CONFLICT: "IndexOptionsConflict", INDEX_KEY_SPECS_CONFLICT: "IndexKeySpecsConflict",
                  DUPLICATE_KEY: "DuplicateKey"}
# The options that make two indexes with the same keys different; false booleans are the defaults.
COMPARED_OPTIONS = ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression", "collation", "hidden")
BOOLEAN_OPTIONS = ("unique", "sparse", "hidden")
DEFAULT_INDEX = "_id_"


@dataclass(frozen=True)
class DeclaredIndex:
    """One index as a model declares it: name, keys and creation options."""

    name: str
    keys: tuple
    options: dict = field(hash=False)

    @classmethod
    def from_spec(cls, spec):
        """Build from one of mongoengine's `index_specs` (db field names, directions)."""
        options = {key: value for key, value in spec.items() if key not in ("fields", "cls")}
        document = IndexModel(list(spec["fields"]), **options).document
        keys = tuple(document.pop("key").items())
        name = document.pop("name")
        return cls(name=name, keys=_normal_keys(keys), options=document)


@dataclass(frozen=True)
class Action:
    """One change `sync-indexes` makes to a collection's indexes."""

    kind: str  # "create", "collMod", "drop"
    collection: str
    index: str
    reason: str
    keys: tuple = ()
    options: dict = field(default_factory=dict, hash=False)
    replaces: str = ""  # an index of the same keys under another name, dropped first

    def describe(self):
        """One line for the operator."""
        return f"{self.kind} {self.collection}.{self.index}: {self.reason}"


@dataclass
class IndexProblem:
    """A declared index start-up could not create."""

    collection: str
    index: str
    reason: str


def declared_indexes(document):
    """The indexes `document` (a mongoengine Document class) declares."""
    return [DeclaredIndex.from_spec(spec) for spec in document._meta["index_specs"]]


def _normal_keys(keys):
    """Keys as ((field, direction), ...), with numeric directions as ints (servers may answer 1.0)."""
    return tuple((name, int(direction) if isinstance(direction, (int, float)) else direction)
                 for name, direction in keys)


def _normal_options(options):
    """The options that matter for comparing two indexes, defaults left out."""
    normal = {}
    for key in COMPARED_OPTIONS:
        value = options.get(key)
        if key in BOOLEAN_OPTIONS:
            if value:
                normal[key] = True
        elif value is not None:
            normal[key] = int(value) if key == "expireAfterSeconds" else json.loads(json.dumps(value, default=str))
    return normal


def _identity(keys, options):
    """What MongoDB treats as the same index: its keys and its partial filter."""
    return keys, json.dumps(_normal_options(options).get("partialFilterExpression"), sort_keys=True)


def ensure_indexes(documents):
    """Create each declared index that is missing; return the ones MongoDB refused (each logged once).

    Connection errors propagate: the caller retries later.
    """
    problems = []
    for document in documents:
        collection = document._get_collection()
        for index in declared_indexes(document):
            try:
                collection.create_index(list(index.keys), name=index.name, **index.options)
            except OperationFailure as exc:
                problems.append(_report(collection.name, index, exc))
    return problems


def _report(collection, index, exc):
    """Log one line naming the collection, the index, why, and the fix; return the problem."""
    kind = CONFLICT_CODES.get(exc.code, f"code {exc.code}")
    if exc.code == DUPLICATE_KEY:
        fix = f"remove the duplicate documents, then run `{SYNC_COMMAND}`"
    else:
        fix = f"run `{SYNC_COMMAND}`"
    reason = f"{kind}: {_first_line(exc)}"
    log.error(
        f"index {collection}.{index.name} not created ({reason}); the service runs without the change; {fix}",
        extra={"collection": collection, "index": index.name, "code": exc.code, "fix": fix},
    )
    return IndexProblem(collection=collection, index=index.name, reason=reason)


def _first_line(exc):
    details = getattr(exc, "details", None) or {}
    message = details.get("errmsg") or str(exc)
    return message.splitlines()[0][:300]


def plan_sync(collection, declared, existing, prune=False):
    """The actions that make `existing` (a collection's `index_information()`) match `declared`.

    An index with the declared name but other keys, or the declared keys under another
    name, or other options, is dropped and created again, except a change of
    `expireAfterSeconds` alone, which `collMod` applies in place. Indexes nobody
    declares are left alone unless `prune` is set.
    """
    actions = []
    current = {name: info for name, info in existing.items() if name != DEFAULT_INDEX}
    by_identity = {_identity(_normal_keys(info["key"]), info): name for name, info in current.items()}
    matched = set()
    for index in declared:
        info = current.get(index.name)
        create = Action("create", collection, index.name, "missing", index.keys, index.options)
        if info is None:
            other = by_identity.get(_identity(index.keys, index.options))
            if other is not None and other not in {i.name for i in declared}:
                matched.add(other)
                actions.append(Action("drop", collection, other, f"same keys as the declared {index.name}"))
                create = Action("create", collection, index.name, f"replaces {other}", index.keys, index.options,
                                replaces=other)
            actions.append(create)
            continue
        matched.add(index.name)
        have_keys = _normal_keys(info["key"])
        want, have = _normal_options(index.options), _normal_options(info)
        if have_keys != index.keys:
            actions.append(Action("drop", collection, index.name, f"keys {list(have_keys)} -> {list(index.keys)}"))
            actions.append(Action("create", collection, index.name, "new keys", index.keys, index.options))
        elif want == have:
            continue
        elif _only_ttl_differs(want, have):
            reason = f"expireAfterSeconds {have['expireAfterSeconds']} -> {want['expireAfterSeconds']}"
            actions.append(Action("collMod", collection, index.name, reason,
                                  options={"expireAfterSeconds": want["expireAfterSeconds"]}))
        else:
            actions.append(Action("drop", collection, index.name, f"options {have} -> {want}"))
            actions.append(Action("create", collection, index.name, "new options", index.keys, index.options))
    if prune:
        for name in sorted(set(current) - matched - {i.name for i in declared}):
            actions.append(Action("drop", collection, name, "not declared by the model"))
    return actions


def _only_ttl_differs(want, have):
    """True when both are TTL indexes and nothing but the number of seconds differs."""
    if "expireAfterSeconds" not in want or "expireAfterSeconds" not in have:
        return False
    strip = lambda options: {k: v for k, v in options.items() if k != "expireAfterSeconds"}  # noqa: E731
    return strip(want) == strip(have)


def plan_for(documents, prune=False):
    """The sync actions of every document's collection, read from the database."""
    actions = []
    for document in documents:
        collection = document._get_collection()
        actions += plan_sync(collection.name, declared_indexes(document), collection.index_information(), prune)
    return actions


def duplicates(collection, action, limit=3):
    """Up to `limit` key values that more than one document shares, for a unique index `action` creates."""
    if action.kind != "create" or not action.options.get("unique"):
        return []
    group = {name.replace(".", "_"): f"${name}" for name, _direction in action.keys}
    pipeline = [
        {"$match": action.options.get("partialFilterExpression") or {}},
        {"$group": {"_id": group, "count": {"$sum": 1}}},
        {"$match": {"count": {"$gt": 1}}},
        {"$limit": limit},
    ]
    return [row["_id"] for row in collection.aggregate(pipeline)]


def apply_plan(database, actions):
    """Carry out `actions`; return (done, refused) lists of (action, note).

    A unique index the data violates is refused before anything is dropped, so the
    old index stays in place.
    """
    blocked = {}
    for action in actions:
        found = duplicates(database[action.collection], action)
        if found:
            note = f"duplicate values {found}: remove them and run again"
            blocked[(action.collection, action.index)] = note
            if action.replaces:
                blocked[(action.collection, action.replaces)] = note
    done, refused = [], []
    for action in actions:
        note = blocked.get((action.collection, action.index))
        if note:
            refused.append((action, note))
            continue
        try:
            apply_action(database, action)
        except OperationFailure as exc:
            refused.append((action, f"{CONFLICT_CODES.get(exc.code, f'code {exc.code}')}: {_first_line(exc)}"))
            continue
        done.append((action, "done"))
    return done, refused


def apply_action(database, action):
    """Carry out one action on `database` (a pymongo Database)."""
    collection = database[action.collection]
    if action.kind == "collMod":
        database.command("collMod", action.collection,
                         index={"name": action.index, "expireAfterSeconds": action.options["expireAfterSeconds"]})
    elif action.kind == "drop":
        collection.drop_index(action.index)
    elif action.kind == "create":
        collection.create_index(list(action.keys), name=action.index, **action.options)
    else:
        raise ValueError(f"unknown index action {action.kind!r}")
