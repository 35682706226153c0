"""Scenario 4: queue rate of POST /api/email/send and delivery rate to an SMTP sink, against the sink's raw rate."""
import json
import secrets
import statistics
import subprocess
import sys
import time

from tests.support.processes import PROJECT_ROOT

from .. import wrk
from ..harness import log
from ..procstats import CpuWatch


def raw_smtp_rate(run, stack):
    """Baseline: one smtplib process per notifications process, a thread per sender, each on a kept-open
    connection building a comparable message per send (bench/smtp_blast.py)."""
    from notifications.config import config_for

    senders = config_for("development").EMAIL_SENDERS
    command = [sys.executable, "-m", "bench.smtp_blast", "--port", str(stack.smtp_port), "--threads", str(senders),
               "--seconds", str(run.plan.smtp_raw_seconds)]
    blasts = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT)
              for _service in stack.services]
    results = []
    for blast in blasts:
        output, _ = blast.communicate(timeout=120)
        if blast.returncode != 0:
            raise RuntimeError(f"smtp_blast failed ({blast.returncode})")
        results.append(json.loads(output.strip().splitlines()[-1]))
    sent, seconds = sum(r["sent"] for r in results), max(r["seconds"] for r in results)
    baseline = {"sent": sent, "seconds": seconds, "rate": sent / seconds, "processes": len(blasts),
                "senders": senders, "avg_message_bytes": sum(r["bytes"] for r in results) / max(1, sent)}
    log(f"smtp sink raw rate: {baseline['rate']:.0f} msg/s ({len(blasts)} processes x {senders} smtplib senders)")
    return baseline


def invite_script():
    """wrk Lua POSTing one invite e-mail with the development service token."""
    from notifications.config import config_for

    body = json.dumps({"to": "invitee@example.test", "template": "invite",
                       "context": {"link": "http://localhost:3000/accept-invite?token=" + secrets.token_urlsafe(32),
                                   "inviterName": "Bench Admin", "role": "operator",
                                   "expiresAt": "2030-01-01T00:00:00Z"}})
    return wrk.post_json_script(body, {"X-Service-Token": config_for("development").NOTIFICATIONS_SERVICE_TOKEN})


def email(run, stack):
    """Scenario 4: both processes take e-mails from wrk for a while; then the backlog drains to the sink."""
    plan = run.plan
    baseline = raw_smtp_rate(run, stack)
    script = invite_script()
    start_count = stack.sink_count()["count"]
    cpu = CpuWatch(stack.workers() | {"sink": stack.sink.pid})
    samples = [(time.monotonic(), start_count)]
    handles = [wrk.start(f"{service.url}/api/email/send", script, 1, 25, plan.email_seconds)
               for service in stack.services]
    queued_runs = [wrk.finish(handle) for handle in handles]
    queued = sum(result["ok"] for result in queued_runs)
    queue_seconds = max(result["seconds"] for result in queued_runs)
    samples.append((time.monotonic(), stack.sink_count()["count"]))
    queue_end = samples[-1]
    drain_cpu = CpuWatch(stack.workers() | {"sink": stack.sink.pid})
    deadline = time.monotonic() + plan.email_tail_seconds
    while time.monotonic() < deadline and samples[-1][1] - start_count < queued:
        time.sleep(0.25)  # the sampling interval of the delivery curve
        samples.append((time.monotonic(), stack.sink_count()["count"]))
    usage, drain_usage = cpu.stop(), drain_cpu.stop()
    delivered = samples[-1][1] - start_count
    # Rate over the time deliveries were happening: from the first sample to the last one that grew.
    last_growth = max(t for t, c in samples if c == samples[-1][1])
    delivery_seconds = max(1e-6, last_growth - samples[0][0])
    # The drain: from the end of the queueing to the last growth, the senders alone with a backlog to send,
    # as the baseline's senders are.
    drain_seconds = last_growth - queue_end[0]
    drain = {"delivered": samples[-1][1] - queue_end[1], "seconds": drain_seconds,
             "rate": (samples[-1][1] - queue_end[1]) / drain_seconds if drain_seconds > 0 else 0.0,
             "cpu": drain_usage}
    sink = stack.sink_count()
    run.results["email"] = {
        "baseline": baseline, "queued": queued, "queue_seconds": queue_seconds, "queue_rate": queued / queue_seconds,
        "queue_p50_ms": statistics.mean(r["p50_ms"] for r in queued_runs),
        "queue_p99_ms": max(r["p99_ms"] for r in queued_runs),
        "queue_errors": sum(r["errors"] for r in queued_runs), "delivered": delivered,
        "delivery_seconds": delivery_seconds, "delivery_rate": delivered / delivery_seconds, "drain": drain,
        "backlog_left": queued - delivered, "cpu": usage, "wrk_cpu": [r["cpu_share"] for r in queued_runs],
        "avg_message_bytes": sink["bytes"] / sink["count"] if sink.get("count") else 0,
    }
    log(f"email: queued {queued} at {queued / queue_seconds:.0f}/s, delivered {delivered} at "
        f"{delivered / delivery_seconds:.0f}/s ({drain['rate']:.0f}/s draining alone), backlog {queued - delivered}")
