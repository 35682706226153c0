"""Socket.IO server tuning: batched broadcasts that let single events through, and lighter idle connections."""
import json
import uuid

import eventlet
import pytest
import redis
import socketio
from engineio import packet as eio_packet
from engineio import socket as eio_socket
from flask import Flask
from flask_socketio import SocketIO

from notifications.utils.realtime import FanOutRedisManager, lighten_connections
from notifications.utils.redis import delete_prefixed
from support.processes import read_log, start_notifications, stop_process, wait_until
from support.sockets import connect_socket

REDIS_URL = "redis://127.0.0.1:6379/0"
ROOM = "role:client_user"


class RecordingServer:
    """The parts of python-socketio's Server the manager uses: records every frame and runs a hook at each yield."""

    packet_class = socketio.packet.Packet

    def __init__(self):
        self.sent = []
        self.tasks = []
        self.at_yield = []

    def _send_eio_packet(self, eio_sid, pkt):
        event, payload = json.loads(pkt.data[1:])
        self.sent.append((eio_sid, event, payload["n"]))

    def start_background_task(self, target, *args, **kwargs):
        self.tasks.append(target)

    def sleep(self, seconds):
        if self.at_yield:
            self.at_yield.pop(0)()


def message(room, n, event="notification"):
    """A published emit as another host's PubSubManager sends it."""
    return {"method": "emit", "event": event, "data": [{"n": n}], "namespace": "/", "room": room,
            "skip_sid": None, "callback": None, "binary": False, "host_id": "other-host"}


@pytest.fixture
def manager():
    """A fan-out manager (batches of 10) with 35 clients c0..c34 in ROOM, each also in its own user room."""
    manager = FanOutRedisManager(REDIS_URL, batch=10, channel="unused", write_only=True)
    manager.set_server(RecordingServer())
    for n in range(35):
        manager.basic_enter_room(f"s{n}", "/", ROOM, eio_sid=f"c{n}")
        manager.basic_enter_room(f"s{n}", "/", f"user:{n}", eio_sid=f"c{n}")
    return manager


def frames(manager, client):
    """The (event, n) frames one client got, in order."""
    return [(event, n) for sid, event, n in manager.server.sent if sid == client]


def test_a_broadcast_leaves_the_listener_at_once_and_goes_out_in_batches(manager):
    """The listener only queues a large emit; the writer sends it a batch at a time, each client once."""
    manager._handle_emit(message(ROOM, 1))
    assert manager.server.sent == [] and len(manager.server.tasks) == 1

    seen_at_yields = []
    manager.server.at_yield = [lambda: seen_at_yields.append(len(manager.server.sent)) for _ in range(4)]
    manager.server.tasks.pop()()
    assert seen_at_yields == [10, 20, 30, 35]
    assert sorted(sid for sid, _event, _n in manager.server.sent) == sorted(f"c{n}" for n in range(35))
    assert manager.pending_fanouts() == 0


def test_a_single_event_during_a_broadcast_waits_one_batch_and_keeps_its_order(manager):
    """A single event published mid-broadcast goes out after the batch in hand, behind that client's broadcast frame."""
    manager._handle_emit(message(ROOM, 1))
    # At the first yield the listener hands over two single events: one for a client the
    # broadcast has not reached yet (c20), one for a client it already reached (c3).
    manager.server.at_yield = [lambda: (manager._handle_emit(message("user:20", 2)),
                                        manager._handle_emit(message("user:3", 3)))]
    manager.server.tasks.pop()()

    order = manager.server.sent
    single_20 = order.index(("c20", "notification", 2))
    assert single_20 <= manager.batch + 1, "the single event waited for more than one batch"
    assert frames(manager, "c20") == [("notification", 1), ("notification", 2)]
    assert frames(manager, "c3") == [("notification", 1), ("notification", 3)]
    assert all(frames(manager, f"c{n}").count(("notification", 1)) == 1 for n in range(35))


def test_broadcasts_back_to_back_arrive_in_order_everywhere(manager):
    """A second broadcast queued behind the first never overtakes it, for any client."""
    manager._handle_emit(message(ROOM, 1))
    manager.server.at_yield = [lambda: manager._handle_emit(message(ROOM, 2))]
    manager.server.tasks.pop()()
    assert len(manager.server.tasks) == 0, "the running writer takes the second broadcast"
    assert all(frames(manager, f"c{n}") == [("notification", 1), ("notification", 2)] for n in range(35))


def test_small_emits_are_written_by_the_listener_itself(manager):
    """Up to a batch of clients, nothing is handed to a background task."""
    manager._handle_emit(message("user:4", 7))
    assert frames(manager, "c4") == [("notification", 7)] and manager.server.tasks == []


def test_emits_with_data_shapes_as_python_socketio_sends_them(manager):
    """No argument, one argument and several arguments give the frames python-socketio's own manager gives."""
    manager.server._send_eio_packet = lambda eio_sid, pkt: manager.server.sent.append(pkt.data)
    for data in ([None], [{"a": 1}], [1, "two"]):
        manager._handle_emit({**message("user:1", 0), "data": data})
    assert manager.server.sent == ['2["notification"]', '2["notification",{"a":1}]', '2["notification",1,"two"]']


@pytest.fixture
def eventlet_server():
    """A python-socketio server in eventlet mode with a 50 ms ping interval, lightened."""
    sio = SocketIO()
    app = Flask(__name__)
    sio.init_app(app, async_mode="eventlet", ping_interval=0.05)
    lighten_connections(app, sio.server)
    return sio.server


def test_ping_is_a_hub_timer_not_a_green_thread(eventlet_server):
    """engineio's per-client ping task becomes a timer: same PING after the interval, no green thread kept."""
    sock = eio_socket.Socket(eventlet_server.eio, "sid-1")
    sock.last_ping = None
    assert eventlet_server.eio.start_background_task(sock._send_ping) is None
    with eventlet.Timeout(5):
        pkt = sock.queue.get()
    assert pkt.packet_type == eio_packet.PING and sock.last_ping is not None


def test_no_ping_for_a_closed_socket(eventlet_server):
    """A socket closed before its ping is due gets nothing (a later timer is the barrier)."""
    sock = eio_socket.Socket(eventlet_server.eio, "sid-2")
    eventlet_server.eio.start_background_task(sock._send_ping)
    sock.closed = True
    eventlet.hubs.get_hub().schedule_call_global(0.2, sock.queue.put, "barrier")
    with eventlet.Timeout(5):
        assert sock.queue.get() == "barrier"


def test_other_background_tasks_still_run(eventlet_server):
    """Only the ping task is replaced."""
    done = eventlet.event.Event()
    task = eventlet_server.eio.start_background_task(done.send, "ran")
    with eventlet.Timeout(5):
        assert done.wait() == "ran"
    assert task is not None


@pytest.fixture
def server_process(jwks_server, redis_prefix):
    """One notifications process (gunicorn, eventlet) that fans out to more than 2 clients in batches of 2."""
    prefix = f"test-{uuid.uuid4().hex}"
    env = {"APP_ENV": "development", "REDIS_URL": REDIS_URL, "REDIS_KEY_PREFIX": prefix,
           "SOCKETIO_CHANNEL": f"{prefix}:socketio", "CORS_ORIGIN": "http://localhost:5173",
           "EMAIL_SENDER_ENABLED": "false", "SOCKETIO_FANOUT_BATCH": "2", "JWKS_URL": jwks_server.url,
           "SHARED_KEY_PREFIX": redis_prefix}
    url, process = start_notifications(env, worker_class="eventlet")
    yield url, env["SOCKETIO_CHANNEL"], process
    stop_process(process)
    client = redis.Redis.from_url(REDIS_URL)
    delete_prefixed(client, prefix)
    client.close()


@pytest.mark.timeout(60)
def test_batched_broadcast_and_single_event_through_a_real_server(server_process, token):
    """Five clients over gunicorn + eventlet: each gets the broadcast once, the probe gets broadcast then its event."""
    url, channel, process = server_process
    clients = [connect_socket(url, token(sub=f"user-{n}", role="client_user"), transports=["websocket"])
               for n in range(5)]
    try:
        emitter = SocketIO(message_queue=REDIS_URL, channel=channel, async_mode="threading")

        def listening():
            emitter.emit("notification", {"n": 0}, to="user:user-0", namespace="/")
            return wait_until(lambda: clients[0].received, timeout=0.5)

        assert wait_until(listening, timeout=10), read_log(process)
        for client in clients:
            client.received.clear()
        emitter.emit("notification", {"n": 1}, to=ROOM, namespace="/")
        emitter.emit("notification", {"n": 2}, to="user:user-4", namespace="/")

        def after_poke(client):
            return [event for event in client.received if event[1]["n"] > 0]

        assert wait_until(lambda: len(after_poke(clients[4])) == 2 and all(after_poke(c) for c in clients)), \
            read_log(process)
        assert after_poke(clients[4]) == [("notification", {"n": 1}), ("notification", {"n": 2})]
        assert all(after_poke(client) == [("notification", {"n": 1})] for client in clients[:4])
    finally:
        for client in clients:
            client.disconnect()
