"""Baseline of scenario 4: the SMTP sink's rate for plain smtplib senders doing the sender's SMTP work.

Like each notifications sender, each thread keeps one connection open (EHLO once, then
MAIL/RCPT/DATA per message) and builds a new multipart text + HTML message for every
send, of the same shape, written the same way (compat32, CRLF); it leaves out only
what is the service's own: the queue in Redis and the template rendering. The scenario
runs one such process per notifications process, with as many threads as it has
senders, so the two rates compare like with like.

    python -m bench.smtp_blast --port 2525 --threads 4 --seconds 5
"""
import argparse
import json
import smtplib
import threading
import time
import uuid
from email import policy
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid

WIRE_POLICY = policy.compat32.clone(linesep="\r\n")
LINE = "You have been invited to join User Management as an operator.\n"


def message(size):
    """A new multipart/mixed message (text and HTML alternatives) of about `size` bytes, as sent."""
    repeat = max(1, size // 4 // len(LINE))
    root = MIMEMultipart(boundary=f"{'=' * 15}{uuid.uuid4().int % 10**19:019d}==")
    alternative = MIMEMultipart("alternative", boundary=f"{'=' * 15}{uuid.uuid4().int % 10**19:019d}==")
    alternative.attach(MIMEText(LINE * repeat, "plain", "utf-8"))
    alternative.attach(MIMEText(("<p>" + LINE.strip() + "</p>\n") * repeat, "html", "utf-8"))
    root.attach(alternative)
    root["Subject"] = "You're invited to User Management"
    root["From"] = "User Management <no-reply@localhost>"
    root["To"] = "someone@example.test"
    root["Date"] = formatdate(localtime=True)
    root["Message-ID"] = make_msgid(domain="localhost")
    return root.as_bytes(policy=WIRE_POLICY)


def main():
    """Send for `seconds` from `threads` threads; print {"sent", "seconds", "rate", "bytes"} as JSON."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--size", type=int, default=3000)
    args = parser.parse_args()
    counts, sizes = [0] * args.threads, [0] * args.threads
    deadline = time.perf_counter() + args.seconds

    def blast(index):
        with smtplib.SMTP("127.0.0.1", args.port, timeout=10) as smtp:
            smtp.ehlo()
            while time.perf_counter() < deadline:
                body = message(args.size)
                smtp.sendmail("no-reply@localhost", ["someone@example.test"], body)
                counts[index] += 1
                sizes[index] += len(body)

    started = time.perf_counter()
    threads = [threading.Thread(target=blast, args=(i,)) for i in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    print(json.dumps({"sent": sum(counts), "seconds": elapsed, "rate": sum(counts) / elapsed,
                      "bytes": sum(sizes)}))
    if not sum(counts):
        raise SystemExit("no message reached the sink")


if __name__ == "__main__":
    main()
