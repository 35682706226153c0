"""python-socketio clients for tests, and `settle`: the barrier before checking that an event did NOT arrive.

A late event and an absent one look the same after a sleep; `settle` instead
sends each client a marker over the same Redis channel the services publish on,
after the event in question, and returns once every marker has arrived. Redis
pub/sub, the notifications process and the socket all keep order, so anything
published before the marker has been received by then, on a busy machine too.
"""
import uuid

import socketio
import socketio.exceptions

from .processes import wait_until
from .redis_store import REDIS_URL

EVENTS = ("notification", "inviteStatusUpdate", "sessionEnded", "error", "connect_error")
MARKER = "testMarker"  # an event name no service uses


def connect_socket(url, token=None, origin="http://localhost:5173", transports=None, events=EVENTS,
                   http_session=None):
    """Connect a python-socketio client with `auth: {token}`; events land in `client.received`.

    Raises socketio.exceptions.ConnectionError when refused; the client is on the
    exception as `.client`, the reason in its `received` as a `connect_error`.
    """
    # websocket-client sends its own Origin header, so it is set there (requests sends none).
    client = socketio.Client(reconnection=False, http_session=http_session,
                             websocket_extra_options={"origin": origin})
    client.received = []
    client.markers = set()
    _keep_handler_threads(client)
    for event in events:
        client.on(event, lambda data, event=event: client.received.append((event, data)))
    client.on(MARKER, client.markers.add)
    try:
        client.connect(url, auth={"token": token} if token is not None else None, transports=transports,
                       wait_timeout=5)
    except socketio.exceptions.ConnectionError as exc:
        exc.client = client
        client.disconnect()  # a no-op unless the transport is still up
        raise
    return client


def _keep_handler_threads(client):
    """Record the threads the client runs its event handlers in, for `settle` to join.

    python-socketio starts one thread per incoming message, in arrival order, so
    the handler of an earlier event may still be running when a later one's has
    finished (python-socketio issue #382); `settle` joins the earlier ones.
    """
    eio = client.eio
    spawn = eio.start_background_task
    client.handler_threads = []

    def start_background_task(target, *args, **kwargs):
        task = spawn(target, *args, **kwargs)
        if target == eio.handlers.get("message"):
            client.handler_threads = [thread for thread in client.handler_threads if thread.is_alive()] + [task]
        return task

    eio.start_background_task = start_background_task


def settle(channel, *clients, timeout=10, redis_url=REDIS_URL):
    """Return once every event published on the Socket.IO `channel` before this call has reached `clients`.

    Each client gets a marker addressed to its own session id, published on the
    channel as user_management publishes; whatever was published before it was
    received (and handled) before it.
    """
    emitter = socketio.RedisManager(redis_url, channel=channel, write_only=True)
    pending = []
    for client in clients:
        marker = uuid.uuid4().hex
        emitter.emit(MARKER, marker, room=client.get_sid("/"), namespace="/")
        pending.append((client, marker))
    arrived = wait_until(lambda: all(marker in client.markers for client, marker in pending), timeout=timeout)
    missing = [client.get_sid("/") for client, marker in pending if marker not in client.markers]
    assert arrived, f"markers on {channel} did not reach {missing} within {timeout}s"
    for client, _marker in pending:
        for thread in list(client.handler_threads):
            thread.join(timeout)


def events(client, name, **match):
    """Payloads of `name` events the client received whose fields equal `match`."""
    return [
        data for event, data in list(client.received)
        if event == name and all(data.get(key) == value for key, value in match.items())
    ]


def wait_for_event(client, name, timeout=10, **match):
    """Wait for one `name` event matching `match`; return its payload (fail with what did arrive)."""
    found = wait_until(lambda: events(client, name, **match), timeout=timeout)
    assert found, f"no {name} {match} within {timeout}s; received: {client.received}"
    return found[0]
