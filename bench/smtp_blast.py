"""Baseline of scenario 4: the SMTP sink's own rate, from plain smtplib clients.

Each message opens its own connection (EHLO, MAIL, RCPT, DATA, QUIT), as the
notifications sender does, so the two rates compare like with like.

    python -m bench.smtp_blast --port 2525 --threads 2 --seconds 5
"""
import argparse
import json
import smtplib
import threading
import time
from email.message import EmailMessage
from email.policy import SMTP


def message(size):
    """A multipart text+HTML message of about `size` bytes."""
    msg = EmailMessage()
    msg["From"] = "User Management <no-reply@localhost>"
    msg["To"] = "someone@example.test"
    msg["Subject"] = "You're invited to User Management"
    line = "You have been invited to join User Management as an operator.\n"
    msg.set_content(line * max(1, size // 2 // len(line)))
    msg.add_alternative("<p>" + line.strip() + "</p>\n" * max(1, size // 2 // len(line)), subtype="html")
    return msg.as_bytes(policy=SMTP)


def main():
    """Send for `seconds` from `threads` threads; print {"sent", "seconds", "rate"} as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--size", type=int, default=3000)
    args = parser.parse_args()
    body = message(args.size)
    counts = [0] * args.threads
    deadline = time.perf_counter() + args.seconds

    def blast(index):
        while time.perf_counter() < deadline:
            with smtplib.SMTP("127.0.0.1", args.port, timeout=10) as smtp:
                smtp.sendmail("no-reply@localhost", ["someone@example.test"], body)
            counts[index] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=blast, args=(i,)) for i in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(json.dumps({"sent": sum(counts), "seconds": elapsed, "rate": sum(counts) / elapsed}))
    if not sum(counts):
        raise SystemExit("no message reached the sink")


if __name__ == "__main__":
    main()
