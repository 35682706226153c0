"""Render a run's results as Markdown: the summary table first, then the details behind it."""
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path


def git(root, *args):
    """Output of a read-only git command, or "" outside a repository."""
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def commit_label(root):
    """The commit, marked dirty when the working tree has changes (the numbers then include them)."""
    sha = git(root, "rev-parse", "HEAD") or "unknown"
    dirty = git(root, "status", "--porcelain", "--untracked-files=no")
    return f"{sha[:12]}{' + uncommitted changes' if dirty else ''}"


def met(value, goal_ok):
    """'yes' / '**no**' for a goal, 'n/a' when there is none."""
    if goal_ok is None:
        return "n/a"
    return "yes" if goal_ok else "**no**"


def pct(share):
    """A share of one core as a percentage."""
    return f"{share * 100:.0f}%"


def render(results, machine, root):
    """The whole RESULTS.md."""
    w = results["wrk"]
    bcrypt = results["bcrypt"]
    bound = bcrypt["bound_per_second"]
    login, accept = w["login"], w["invite_accept"]
    bare, profile, listing = w["bare_flask"], w["profile"], w["invites_list"]
    trivial = w.get("trivial_nginx")
    fan = results["fanout"]
    email = results["email"]
    single, broadcast = fan["latency"]["single"], fan["latency"]["broadcast"]
    redis_base = fan["redis_baseline"]
    mem = fan["memory"]
    worst_mem = max(m["per_client_kib"] for m in mem)
    idle_rss = sum(m["rss_before_kib"] for m in mem) / len(mem)
    cores = machine["cores"]
    um_cpu = lambda run: run["cpu"].get("user_management", 0.0)  # noqa: E731

    rows = [
        ("1. Login `POST /api/auth/login` (c={})".format(login["connections"]),
         f"{login['rate']:.2f} logins/s", f"{bound:.2f}/s = {cores} cores / {bcrypt['verify_seconds'] * 1000:.0f} ms "
         f"bcrypt verify (cost {results['bcrypt_rounds']})", login["rate"] / bound, "≥ 0.9", login["rate"] / bound >= 0.9,
         f"bcrypt: each login is one verify at cost {results['bcrypt_rounds']}; bcrypt releases the GIL, so "
         f"{cores} threads hash in parallel and the worker used {um_cpu(login):.2f} of {cores} cores."),
        ("1. Invite accept `POST /api/invites/accept` (c={})".format(accept["connections"]),
         f"{accept['rate']:.2f} accepts/s", f"{bound:.2f}/s (same bcrypt bound: one hash at the same cost)",
         accept["rate"] / bound, "none set", None,
         "bcrypt hash of the new password, plus the zxcvbn strength check and four database writes, which run "
         f"under the GIL; the worker used {um_cpu(accept):.2f} of {cores} cores."),
        ("2. Profile `GET /api/auth/profile`, 50 connections", f"{profile['rate']:.0f} req/s",
         f"{bare['rate']:.0f} req/s bare Flask", profile["rate"] / bare["rate"], "≥ 0.5",
         profile["rate"] / bare["rate"] >= 0.5,
         f"one Python process and its GIL ({um_cpu(profile):.2f} cores used): JWT decode, the user lookup in "
         "mongomock, Talisman/CORS/limiter hooks and the JSON access log per request."),
        ("2. Profile p99 latency", f"{profile['p99_ms']:.1f} ms (p50 {profile['p50_ms']:.1f})",
         f"{bare['p99_ms']:.1f} ms bare Flask (p50 {bare['p50_ms']:.1f})", profile["p99_ms"] / max(bare["p99_ms"], 1e-9),
         "< 20 ms", profile["p99_ms"] < 20,
         f"closed loop: 50 connections on one GIL-bound process, so mean latency = 50 / throughput "
         f"(Little's law: {50 / profile['rate'] * 1000:.0f} ms here); p99 < 20 ms at 50 connections needs "
         f"> 2,500 req/s, more than bare Flask does ({bare['rate']:.0f})."),
        ("2. Invite list `GET /api/invites/list`, 50 connections", f"{listing['rate']:.0f} req/s",
         f"{bare['rate']:.0f} req/s bare Flask", listing["rate"] / bare["rate"], "none set", None,
         f"the same GIL-bound process, plus a count and a sorted page of {results['data']['invites']} invites that "
         "mongomock computes in Python (a real MongoDB would use the index)."),
        ("2. Invite list p99 latency", f"{listing['p99_ms']:.1f} ms (p50 {listing['p50_ms']:.1f})",
         f"{bare['p99_ms']:.1f} ms bare Flask", listing["p99_ms"] / max(bare["p99_ms"], 1e-9), "< 20 ms",
         listing["p99_ms"] < 20, "as above: queueing of 50 connections behind one GIL."),
        ("3. Fan-out, single-user `notification`, p99", f"{single['p99_ms']:.1f} ms (p50 {single['p50_ms']:.1f})",
         f"{redis_base['p99_ms']:.2f} ms bare Redis pub/sub (p50 {redis_base['p50_ms']:.2f})",
         single["p99_ms"] / max(redis_base["p99_ms"], 1e-9), "< 50 ms", single["p99_ms"] < 50,
         "Redis pub/sub hop to both processes, each decoding every message and writing to its own sockets; "
         "single events landing during a broadcast wait behind its fan-out."),
        ("3. Fan-out, broadcast to all {} clients, p99".format(fan["clients"]),
         f"{broadcast['p99_ms']:.1f} ms (p50 {broadcast['p50_ms']:.1f})",
         f"{redis_base['p99_ms']:.2f} ms bare Redis pub/sub", broadcast["p99_ms"] / max(redis_base["p99_ms"], 1e-9),
         "< 50 ms", broadcast["p99_ms"] < 50,
         f"CPU: each process writes {fan['clients'] // fan['processes']} WebSocket frames per broadcast, and the load "
         f"process decodes {fan['clients']} on the same {cores} cores (p99 is the last client served)."),
        ("3. Memory per idle client (worst process)", f"{worst_mem:.1f} KiB",
         f"{idle_rss / 1024:.0f} MiB idle worker RSS", worst_mem * (fan["clients"] / fan["processes"]) / idle_rss,
         "< 50 KB", worst_mem * 1024 < 50_000,
         "per connection: an eventlet green thread and its stack, the WebSocket and engine.io session, room entries."),
        ("4. Emails queued `POST /api/email/send`", f"{email['queue_rate']:.0f} emails/s",
         f"{email['baseline']['rate']:.0f} msg/s SMTP sink raw rate", email["queue_rate"] / email["baseline"]["rate"],
         "none set", None,
         "two eventlet processes, each one GIL: schema validation, a Redis transaction per email, JSON log line; "
         "the senders compete for the same cores."),
        ("4. Emails delivered to the SMTP sink", f"{email['delivery_rate']:.0f} emails/s",
         f"{email['baseline']['rate']:.0f} msg/s SMTP sink raw rate",
         email["delivery_rate"] / email["baseline"]["rate"], "none set", None,
         "one sequential sender per process: Jinja render and MIME build, a fresh SMTP connection per email "
         "(EHLO/MAIL/RCPT/DATA/QUIT round trips) and Redis bookkeeping, one email at a time."),
    ]
    if trivial:
        best = max(bare["rate"], profile["rate"], listing["rate"])
        rows.append(("Load generator: wrk vs trivial endpoint (nginx `return 200`)", f"{trivial['rate']:.0f} req/s",
                     f"{best:.0f} req/s, the fastest rate measured above", trivial["rate"] / best, "≫ 1", trivial["rate"] / best > 3,
                     f"wrk (2 threads) reaches {trivial['rate']:.0f} req/s on the same machine, so it is not what "
                     f"limits the scenarios; during the scenarios it used ≤ {pct(max(r['cpu_share'] for n, r in w.items() if n != 'trivial_nginx'))} of a core."))

    lines = []
    add = lines.append
    title = "Benchmark results" + (" (QUICK smoke run: short runs, numbers are not meaningful)" if results["quick"] else "")
    add(f"# {title}\n")
    add("Written by `make bench` (`python -m bench`); do not edit by hand, re-run it. Every figure is a ratio against a "
        "baseline measured in the same run, because absolute numbers vary from machine to machine.\n")
    add("| | |\n|---|---|")
    add(f"| Date | {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} |")
    # The run uses every core itself; a 5-minute load well above the core count means other work shared the machine.
    add(f"| Load average (5 min) at the end | {os.getloadavg()[1]:.2f} on {os.cpu_count()} cores |")
    add(f"| Commit | `{commit_label(root)}` |")
    add(f"| Command | `{results['command']}` (`{results['argv']}`), {results['wall_seconds']:.0f} s wall |")
    add(f"| Machine | {cores} cores ({machine['cpu']}), {machine['memory_gib']:.1f} GiB RAM, {machine['os']} |")
    add(f"| Software | Python {machine['python']}, {machine['wrk']}, Redis at 127.0.0.1:6379 |")
    add("")
    add("## Summary\n")
    add("| Scenario | Measured | Baseline (same run) | Ratio | Goal | Met | What bounds it |")
    add("|---|---|---|---|---|---|---|")
    for name, measured, baseline, ratio, goal, ok, bound_text in rows:
        add(f"| {name} | {measured} | {baseline} | {ratio:.2f} | {goal} | {met(ratio, ok)} | {bound_text} |")
    add("")
    add("## How it runs\n")
    add(f"- **user_management** runs as deployed minus Docker: `gunicorn -c user_management/gunicorn.conf.py "
        f"wsgi:user_management_app`, but with `GUNICORN_WORKERS=1` (gthread, {results['gunicorn_threads']} threads, the "
        "config's default). The database is **mongomock** "
        "(no `MONGODB_URI`): an in-memory MongoDB that lives inside one process, so only one worker can serve it. "
        "This means one GIL for all request handling (a deployment with a real MongoDB runs 2 × cores + 1 workers), "
        "and queries that a MongoDB server would answer from an index are evaluated in Python, by scanning, inside "
        "that same process. Absolute request rates are therefore pessimistic for the database-heavy endpoints.")
    add("- `APP_ENV=development` (dev secrets; production refuses mongomock), bcrypt cost "
        f"{results['bcrypt_rounds']} (`BCRYPT_ROUNDS`, the same in development and production), "
        "**`RATELIMIT_ENABLED=false`** (the limiter would answer 429 to the load), Redis key prefix and Socket.IO "
        f"channel unique to the run (`{results['run_id']}…`, {results['redis_keys_deleted']} keys deleted at the end).")
    add(f"- Data: a bootstrap super_admin (`BOOTSTRAP_ADMIN_*`), {results['data']['invites']} invites created through "
        f"`POST /api/invites/create` and {results['data']['users'] - 1} of them accepted through the API during "
        "scenario 1. user_management's `NOTIFICATIONS_URL` points at a stub in the bench process that answers 202 "
        "and keeps the invite links (the token only exists in the email).")
    add("- **Bare Flask** baseline: `bench/bare_app.py` (`GET /ping` → small JSON) under the same gunicorn config "
        "and worker/thread counts.")
    add("- **Load generator**: wrk in its own process (`-t1` for the bcrypt-bound endpoints at 2 × cores "
        "connections; `-t2 -c50` for scenario 2). p50/p99 are wrk's latency distribution. The trivial endpoint is "
        "nginx `return 200` with one worker.")
    add(f"- **notifications**: two processes, each `gunicorn -c notifications/gunicorn.conf.py wsgi:notifications_app` "
        "(eventlet, 1 worker), sharing the run's Socket.IO channel and Redis prefix; SMTP to an aiosmtpd sink "
        "(`bench/smtp_sink.py`).")
    add(f"- **Socket.IO clients**: {fan['clients']} `socketio.AsyncClient`s (aiohttp, WebSocket transport) in one load "
        "process, split evenly over the two processes, each with an access token signed like user_management's "
        "(same secret and claims; synthetic user ids, since creating 1,000 users would cost 1,000 bcrypt hashes). "
        f"Emits go through user_management's own `utils/socket_client` (write-only `SocketIO(message_queue=…)`): "
        f"{fan['singles']} `notification` events to single users and {fan['broadcasts']} broadcasts to the "
        "`role:client_user` room every client joined. Latency = receive time − send time stamped in the payload "
        "(same host clock). Memory = VmRSS of each worker after a 10-client warm-up, before and 3 s after connecting.")
    add(f"- **Email**: the baseline is `bench/smtp_blast.py`, {len(email['wrk_cpu'])} smtplib clients with one "
        "connection per message (like the sender) straight into the sink. Queueing: one wrk (`-t1 -c25`) per "
        "notifications process posting an `invite` email; delivery rate = sink count over the time it kept growing.")
    add("")
    add("## Details\n")
    add("### HTTP (wrk)\n")
    add("| Run | Connections | Requests/s | p50 ms | p90 ms | p99 ms | Errors | Server cores used | wrk cores used | Machine busy |")
    add("|---|---|---|---|---|---|---|---|---|---|")
    for name, run in w.items():
        server = next((v for k, v in run["cpu"].items() if k not in {"machine", "wrk"}), None)
        add(f"| {name} | {run['connections']} | {run['rate']:.1f} | {run['p50_ms']:.1f} | {run['p90_ms']:.1f} | "
            f"{run['p99_ms']:.1f} | {run['errors']} | {'' if server is None else f'{server:.2f}'} | "
            f"{run['cpu_share']:.2f} | {pct(run['cpu']['machine'])} |")
    add(f"\nbcrypt verify samples (ms): {', '.join(f'{s * 1000:.0f}' for s in bcrypt['samples'])}.\n")
    add("### Fan-out\n")
    add(f"Connected {fan['clients']} clients in {fan['connect_seconds']:.1f} s; received "
        f"{fan['latency']['received']} of {fan['latency']['expected']} expected events.\n")
    add("| Process | RSS before (KiB) | RSS after (KiB) | Per client (KiB) |\n|---|---|---|---|")
    for m in mem:
        add(f"| {m['process']} | {m['rss_before_kib']} | {m['rss_after_kib']} | {m['per_client_kib']:.1f} |")
    add("\n| Events | Count | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|")
    for kind in ("single", "broadcast"):
        data = fan["latency"][kind]
        add(f"| {kind} | {data['count']} | {data['p50_ms']:.1f} | {data['p99_ms']:.1f} | {data['max_ms']:.1f} |")
    add(f"\nCPU during the emits (cores): "
        + ", ".join(f"{k} {v:.2f}" for k, v in fan["cpu"].items() if k != "machine")
        + f"; machine {pct(fan['cpu']['machine'])} busy.\n")
    add("### Email\n")
    add(f"- Sink raw rate: {email['baseline']['sent']} messages in {email['baseline']['seconds']:.1f} s = "
        f"{email['baseline']['rate']:.0f}/s.")
    add(f"- Queued: {email['queued']} in {email['queue_seconds']:.1f} s = {email['queue_rate']:.0f}/s "
        f"(p50 {email['queue_p50_ms']:.1f} ms, p99 {email['queue_p99_ms']:.1f} ms, {email['queue_errors']} errors).")
    add(f"- Delivered: {email['delivered']} in {email['delivery_seconds']:.1f} s = {email['delivery_rate']:.0f}/s; "
        f"{email['backlog_left']} still queued when measurement stopped (average message "
        f"{email['avg_message_bytes'] / 1024:.1f} KiB).")
    add("- CPU (cores): " + ", ".join(f"{k} {v:.2f}" for k, v in email["cpu"].items() if k != "machine")
        + f"; wrk {', '.join(f'{c:.2f}' for c in email['wrk_cpu'])}; machine {pct(email['cpu']['machine'])} busy.")
    add("")
    notes = Path(root) / "bench" / "PROFILE.md"
    if notes.exists():
        add(notes.read_text().rstrip() + "\n")
    add("## Left out\n")
    add("- A real MongoDB (none on this machine) and several user_management workers; nginx in front "
        "(`deploy/nginx.conf`); TLS. 2FA logins (scenario 1 is the no-2FA path).")
    add("- Goals are reported, never enforced: `make bench` fails only when something is broken.")
    return "\n".join(lines) + "\n"
