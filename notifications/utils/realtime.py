"""Socket.IO server tuning: broadcasts that do not hold up single events, and lighter idle connections.

`FanOutRedisManager` is python-socketio's Redis message queue with one change:
an emit to more than SOCKETIO_FANOUT_BATCH clients of this process is written
by a background task, a batch at a time with a yield between batches, instead of
by the queue's listener all at once. The listener goes straight back to Redis,
so an event for one user published during a broadcast reaches its socket after
at most one batch, not after the whole room. Order per client is kept: before a
smaller emit goes out, its clients first get any broadcast frame still pending
for them.

`lighten_connections` removes two per-connection costs of python-engineio under
gunicorn's eventlet worker (measured with tracemalloc and VmRSS, about 11 KiB
of the 57 KiB an idle client cost): a class object that engineio's WSGI
middleware defines on every request to wrap gunicorn's socket, and a green
thread per client that only sleeps until the next ping is due, which a timer on
eventlet's hub replaces.
"""
import collections
import threading
import time

import socketio
from engineio import packet as eio_packet
from engineio import socket as eio_socket
from socketio import packet as sio_packet


class _FanOut:
    """One large emit being written: its frames and the clients still waiting for them."""

    __slots__ = ("packets", "order", "waiting")

    def __init__(self, packets, eio_sids):
        self.packets = packets
        self.order = collections.deque(eio_sids)
        self.waiting = set(eio_sids)


class FanOutRedisManager(socketio.RedisManager):
    """Redis client manager whose large emits fan out in batches from a background task."""

    def __init__(self, url, batch, **kwargs):
        super().__init__(url, **kwargs)
        self.batch = batch
        self._fanouts = collections.deque()
        # Reentrant: a send can close a socket, and its disconnect handler may emit.
        self._lock = threading.RLock()
        self._writer_running = False

    def _handle_emit(self, message):
        """Write an emit of this host or of another one to the local clients it addresses."""
        if message.get("callback") is not None or message.get("binary"):
            return super()._handle_emit(message)
        namespace = message.get("namespace") or "/"
        if namespace not in self.rooms:
            return None
        data = message["data"]
        # The argument list as python-socketio's own _handle_emit and Manager.emit build it.
        if isinstance(data, list):
            data = data[0] if len(data) == 1 else tuple(data)
        data = list(data) if isinstance(data, tuple) else ([] if data is None else [data])
        skip = message.get("skip_sid")
        skip = set(skip) if isinstance(skip, list) else {skip}
        eio_sids = [eio_sid for sid, eio_sid in self.get_participants(namespace, message.get("room"))
                    if sid not in skip]
        if not eio_sids:
            return None
        encoded = self.server.packet_class(sio_packet.EVENT, namespace=namespace,
                                           data=[message["event"], *data]).encode()
        packets = [eio_packet.Packet(eio_packet.MESSAGE, part)
                   for part in (encoded if isinstance(encoded, list) else [encoded])]
        if len(eio_sids) > self.batch:
            self._queue_fanout(_FanOut(packets, eio_sids))
            return None
        with self._lock:
            for eio_sid in eio_sids:
                self._send_pending_to(eio_sid)
                self._send(eio_sid, packets)
        return None

    def _queue_fanout(self, fanout):
        """Hand a large emit to the background writer, starting it when idle."""
        with self._lock:
            self._fanouts.append(fanout)
            if self._writer_running:
                return
            self._writer_running = True
        self.server.start_background_task(self._write_fanouts)

    def _write_fanouts(self):
        """Write the queued large emits in order, a batch of clients at a time, yielding between batches."""
        while True:
            with self._lock:
                if not self._fanouts:
                    self._writer_running = False
                    return
                fanout = self._fanouts[0]
                written = 0
                while fanout.order and written < self.batch:
                    eio_sid = fanout.order.popleft()
                    if eio_sid in fanout.waiting:
                        fanout.waiting.discard(eio_sid)
                        self._send(eio_sid, fanout.packets)
                        written += 1
                if not fanout.order:
                    self._fanouts.popleft()
            self.server.sleep(0)

    def _send_pending_to(self, eio_sid):
        """Send `eio_sid` the frames of queued large emits it has not had yet (caller holds the lock)."""
        for fanout in self._fanouts:
            if eio_sid in fanout.waiting:
                fanout.waiting.discard(eio_sid)
                self._send(eio_sid, fanout.packets)

    def _send(self, eio_sid, packets):
        """Queue engine.io packets on one client's socket."""
        for pkt in packets:
            self.server._send_eio_packet(eio_sid, pkt)

    def pending_fanouts(self):
        """Return how many large emits are still being written (for tests and metrics)."""
        return len(self._fanouts)


class _GunicornSocket:
    """The `eventlet.input` wrapper engineio expects around gunicorn's socket, without a class per request."""

    __slots__ = ("socket",)

    def __init__(self, sock):
        self.socket = sock

    def get_socket(self):
        """Return the client socket."""
        return self.socket


def _share_gunicorn_socket(wsgi_app):
    """Wrap `wsgi_app` so engineio finds gunicorn's socket already wrapped (its middleware defines a class per call)."""

    def app(environ, start_response):
        sock = environ.pop("gunicorn.socket", None)
        if sock is not None:
            environ["eventlet.input"] = _GunicornSocket(sock)
        return wsgi_app(environ, start_response)

    return app


def lighten_connections(app, server):
    """Apply the per-connection savings to `app` and the python-socketio `server` (eventlet only)."""
    if server.async_mode != "eventlet":
        return
    app.wsgi_app = _share_gunicorn_socket(app.wsgi_app)
    eio = server.eio
    if getattr(eio_socket.Socket, "_send_ping", None) is None:
        return  # another engineio: keep its own ping tasks
    start_background_task = eio.start_background_task

    def start(target, *args, **kwargs):
        if getattr(target, "__func__", None) is eio_socket.Socket._send_ping:
            _ping_later(eio, target.__self__)
            return None
        return start_background_task(target, *args, **kwargs)

    eio.start_background_task = start


def _ping_later(eio, sock):
    """What engineio's per-client ping task does, as one hub timer instead of a sleeping green thread."""
    # Imported here: a gevent or threading process must not import eventlet at all.
    from eventlet import spawn_n
    from eventlet.hubs import get_hub

    def due():
        if not sock.closing and not sock.closed:
            # The send may close a socket whose last ping went unanswered: never do that on the hub itself.
            spawn_n(_ping_now, sock)

    get_hub().schedule_call_global(eio.ping_interval, due)


def _ping_now(sock):
    """Send the PING engineio's ping task would send."""
    if not sock.closing and not sock.closed:
        sock.last_ping = time.time()
        sock.send(eio_packet.Packet(eio_packet.PING))
