"""SMTP sink for scenario 4: accepts every message, counts them, and writes the count to a file.

    python -m bench.smtp_sink --port 2525 --stats /path/stats.json
"""
import argparse
import json
import os
import signal
import threading
import time

from tests.support.smtp import SmtpServer


class CountingHandler:
    """Accept and drop every message, counting it."""

    def __init__(self):
        self.count = 0
        self.bytes = 0
        self.first = None
        self.last = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        """Count the message and accept it."""
        now = time.time()
        self.count += 1
        self.bytes += len(envelope.content or b"")
        self.first = self.first or now
        self.last = now
        return "250 OK"


def main():
    """Serve until SIGTERM, rewriting the stats file every 50 ms."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stats", required=True)
    args = parser.parse_args()
    handler = CountingHandler()
    server = SmtpServer(args.port, handler).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    tmp = args.stats + ".tmp"
    while not stop.wait(0.05):
        with open(tmp, "w") as handle:
            json.dump({"count": handler.count, "bytes": handler.bytes, "first": handler.first,
                       "last": handler.last, "now": time.time()}, handle)
        os.replace(tmp, args.stats)
    server.stop()


if __name__ == "__main__":
    main()
