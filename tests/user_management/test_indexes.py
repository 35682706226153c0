"""Index changes never crash-loop a worker; `flask sync-indexes` is the upgrade step that applies them.

mongomock refuses a same-named index with other options, but without MongoDB's error
code; where the code matters the tests make `create_index` raise what a real server
raises (OperationFailure 85 IndexOptionsConflict, 86 IndexKeySpecsConflict).
"""
import logging

import mongomock
import mongomock.collection
import mongomock.database
import pytest
from mongomock.store import ServerStore
from pymongo.errors import OperationFailure

from user_management.models import DOCUMENTS, Invite, Throttle, User
from user_management.utils import indexes
from user_management.utils.database import database_state
from user_management.utils.indexes import DeclaredIndex, plan_sync

TTL_INDEX = "expiresAt_1"


@pytest.fixture
def existing_database(monkeypatch):
    """A mongomock server the test fills before the app boots (every client shares its store)."""
    store = ServerStore()

    class SharedStoreClient(mongomock.MongoClient):
        def __init__(self, *args, **kwargs):
            kwargs.pop("_store", None)
            super().__init__(*args, _store=store, **kwargs)

    monkeypatch.setattr(mongomock, "MongoClient", SharedStoreClient)
    return SharedStoreClient()


def database_name(app):
    return app.config["MONGODB_URI"].rsplit("/", 1)[1]


def boot_with(app_factory, existing_database, prepare):
    """Build the app after `prepare(db)` has written to the database it will use."""
    probe = app_factory()
    db = existing_database[database_name(probe)]
    for document in DOCUMENTS:
        db.drop_collection(document._get_collection_name())
    prepare(db)
    return app_factory()


def error_lines(caplog):
    return [record for record in caplog.records if record.levelno >= logging.ERROR
            and record.name == "user_management.utils.indexes"]


def ready(app):
    return app.test_client().get("/health/ready")


def test_models_leave_index_creation_to_the_service():
    """mongoengine would otherwise create indexes on first use, and crash a request on a conflict."""
    for document in DOCUMENTS:
        assert document._meta.get("auto_create_index") is False, document.__name__


def test_start_up_creates_every_declared_index(app):
    for document in DOCUMENTS:
        existing = document._get_collection().index_information()
        for index in indexes.declared_indexes(document):
            assert index.name in existing, f"{document.__name__}: {index.name}"
    assert database_state(app).index_status() == "ok"


def test_a_changed_ttl_already_in_the_database_is_reported_not_fatal(app_factory, existing_database, caplog):
    """The database holds the TTL index with other seconds (an older release): the app still boots."""
    app = boot_with(app_factory, existing_database,
                    lambda db: db["throttles"].create_index([("expiresAt", 1)], expireAfterSeconds=3600))
    [line] = error_lines(caplog)
    message = line.getMessage()
    assert "throttles.expiresAt_1" in message and "flask --app wsgi:user_management_app sync-indexes" in message
    response = ready(app)
    assert response.status_code == 200 and response.json["checks"]["indexes"] == "conflict"


@pytest.mark.parametrize("code, kind", [(85, "IndexOptionsConflict"), (86, "IndexKeySpecsConflict")])
def test_a_server_conflict_error_is_one_clear_line(app_factory, caplog, monkeypatch, code, kind):
    """What a real MongoDB answers when an index exists with other options or keys."""
    create_index = mongomock.collection.Collection.create_index

    def conflicting(self, keys, **options):
        if self.name == "throttles" and options.get("name") == TTL_INDEX:
            raise OperationFailure("An equivalent index already exists with a different name and options",
                                   code=code, details={"errmsg": "Index already exists with different options",
                                                       "code": code, "codeName": kind})
        return create_index(self, keys, **options)

    monkeypatch.setattr(mongomock.collection.Collection, "create_index", conflicting)
    app = app_factory()  # boots
    [line] = error_lines(caplog)
    message = line.getMessage()
    assert message.count("\n") == 0
    assert f"throttles.{TTL_INDEX}" in message and kind in message and "sync-indexes" in message
    assert line.collection == "throttles" and line.index == TTL_INDEX and line.code == code
    assert ready(app).json["checks"]["indexes"] == "conflict"
    # Every other index was still created.
    assert "key_1" in Throttle._get_collection().index_information()


def test_a_unique_index_the_data_violates_is_reported_with_its_fix(app_factory, existing_database, caplog):
    """Two pending invites for one address (possible before the index existed): boot, say what to clean up."""
    def duplicates(db):
        for token in ("a", "b"):
            db["invites"].insert_one({"email": "dup@acme.test", "status": "pending", "tokenHash": token})

    app = boot_with(app_factory, existing_database, duplicates)
    [line] = error_lines(caplog)
    assert "invites.one_pending_invite_per_email" in line.getMessage()
    assert "remove the duplicate documents" in line.getMessage()
    assert ready(app).status_code == 200


# --- the plan: what sync-indexes would change, from index_information() ---------------------------

def throttle_plan(existing, prune=False):
    return plan_sync("throttles", indexes.declared_indexes(Throttle), existing, prune)


def server_style(**indexes_by_name):
    """index_information() as a MongoDB server answers it (v, float directions)."""
    info = {"_id_": {"v": 2, "key": [("_id", 1)]}}
    for name, (keys, options) in indexes_by_name.items():
        info[name] = {"v": 2, "key": [(field, float(direction)) for field, direction in keys], **options}
    return info


IN_SYNC = {"key_1": ([("key", 1)], {"unique": True}), TTL_INDEX: ([("expiresAt", 1)], {"expireAfterSeconds": 0})}


def test_plan_is_empty_when_in_sync():
    assert throttle_plan(server_style(**IN_SYNC)) == []


def test_plan_creates_what_is_missing():
    [action] = throttle_plan(server_style(key_1=IN_SYNC["key_1"]))
    assert (action.kind, action.index, action.options) == ("create", TTL_INDEX, {"expireAfterSeconds": 0})


def test_plan_changes_a_ttl_in_place_with_collmod():
    existing = server_style(**{**IN_SYNC, TTL_INDEX: ([("expiresAt", 1)], {"expireAfterSeconds": 3600})})
    [action] = throttle_plan(existing)
    assert (action.kind, action.index, action.options) == ("collMod", TTL_INDEX, {"expireAfterSeconds": 0})
    assert "3600 -> 0" in action.describe()


def test_plan_drops_and_creates_an_index_made_unique():
    existing = server_style(**{**IN_SYNC, "key_1": ([("key", 1)], {})})
    actions = throttle_plan(existing)
    assert [(a.kind, a.index) for a in actions] == [("drop", "key_1"), ("create", "key_1")]
    assert actions[1].options["unique"] is True


def test_plan_drops_and_creates_an_index_whose_keys_changed():
    existing = server_style(**{**IN_SYNC, "key_1": ([("key", 1), ("other", 1)], {"unique": True})})
    assert [(a.kind, a.index) for a in throttle_plan(existing)] == [("drop", "key_1"), ("create", "key_1")]


def test_plan_replaces_the_same_keys_under_another_name():
    existing = server_style(key_1=IN_SYNC["key_1"], ttl=([("expiresAt", 1)], {"expireAfterSeconds": 0}))
    actions = throttle_plan(existing)
    assert [(a.kind, a.index) for a in actions] == [("drop", "ttl"), ("create", TTL_INDEX)]


def test_plan_leaves_undeclared_indexes_unless_pruning():
    existing = server_style(**IN_SYNC, operator_added=([("count", 1)], {}))
    assert throttle_plan(existing) == []
    [action] = throttle_plan(existing, prune=True)
    assert (action.kind, action.index) == ("drop", "operator_added")


def test_plan_knows_the_partial_unique_index():
    declared = [DeclaredIndex.from_spec(spec) for spec in Invite._meta["index_specs"]]
    [pending] = [index for index in declared if index.name == "one_pending_invite_per_email"]
    existing = {"one_pending_invite_per_email": {"key": [("email", 1), ("status", 1)], "unique": True,
                                                 "partialFilterExpression": {"status": "pending"}}}
    assert plan_sync("invites", [pending], existing) == []
    changed = {"one_pending_invite_per_email": {**existing["one_pending_invite_per_email"],
                                                "partialFilterExpression": {"status": "sent"}}}
    assert [a.kind for a in plan_sync("invites", [pending], changed)] == ["drop", "create"]


# --- the command ---------------------------------------------------------------------------------

@pytest.fixture
def collmod_recorder(monkeypatch):
    """mongomock has no collMod: record the command and apply it to the index the way MongoDB would."""
    calls = []

    def command(self, command, *args, **kwargs):
        if command == "collMod":
            calls.append((args[0], kwargs["index"]))
            self[args[0]]._store.indexes[kwargs["index"]["name"]]["expireAfterSeconds"] = \
                kwargs["index"]["expireAfterSeconds"]
            return {"ok": 1.0}
        return original(self, command, *args, **kwargs)

    original = mongomock.database.Database.command
    monkeypatch.setattr(mongomock.database.Database, "command", command)
    return calls


def test_sync_indexes_applies_the_upgrade(app_factory, existing_database, collmod_recorder):
    def old_release(db):
        db["throttles"].create_index([("expiresAt", 1)], expireAfterSeconds=3600)
        db["lockouts"].create_index([("key", 1)])  # not unique yet
        db["audit_events"].create_index([("gone", 1)], name="gone_1")

    app = boot_with(app_factory, existing_database, old_release)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["sync-indexes", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would collMod throttles.expiresAt_1: expireAfterSeconds 3600 -> 0" in dry.output
    assert "would drop lockouts.key_1" in dry.output and "would create lockouts.key_1" in dry.output
    assert "gone_1" not in dry.output

    result = runner.invoke(args=["sync-indexes", "--prune"])
    assert result.exit_code == 0, result.output
    assert collmod_recorder == [("throttles", {"name": "expiresAt_1", "expireAfterSeconds": 0})]
    assert Throttle._get_collection().index_information()["expiresAt_1"]["expireAfterSeconds"] == 0
    assert Throttle._get_collection().database["lockouts"].index_information()["key_1"]["unique"] is True
    assert "gone_1" not in Throttle._get_collection().database["audit_events"].index_information()
    assert runner.invoke(args=["sync-indexes"]).output.strip() == "indexes in sync"


def test_sync_indexes_refuses_a_unique_index_over_duplicates_and_keeps_the_old_one(app):
    users = User._get_collection()
    users.drop_index("email_1")
    users.create_index([("email", 1)], name="email_1")
    for _ in range(2):
        users.insert_one({"email": "twin@acme.test", "role": "operator"})
    result = app.test_cli_runner().invoke(args=["sync-indexes"])
    assert result.exit_code == 1
    assert "refused users.email_1" in result.output and "twin@acme.test" in result.output
    assert "email_1" in users.index_information()  # the old index was not dropped
    assert not users.index_information()["email_1"].get("unique")
