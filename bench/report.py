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
    if isinstance(goal_ok, str):
        return goal_ok
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
    drain_cpu = (email.get("drain") or {}).get("cpu") or email["cpu"]
    senders = email["baseline"].get("senders", 1) * email["baseline"].get("processes", 1)
    sender_time = ""
    if (email.get("drain") or {}).get("rate"):
        per_email_cpu = sum(v for k, v in drain_cpu.items() if k.startswith("notif")) / email["drain"]["rate"] * 1000
        sender_time = (f"Each of the {senders} senders takes {senders / email['drain']['rate'] * 1000:.1f} ms per "
                       f"email ({per_email_cpu:.1f} ms of it CPU), each baseline sender "
                       f"{senders / email['baseline']['rate'] * 1000:.1f} ms.")
    drain = email.get("drain") or {"rate": email["delivery_rate"], "delivered": email["delivered"],
                                   "seconds": email["delivery_seconds"]}
    single, broadcast = fan["latency"]["single"], fan["latency"]["broadcast"]
    completion = fan["latency"]["completion"]
    redis_base = fan["redis_baseline"]
    mem = fan["memory"]
    worst_mem = max(m["per_client_kib"] for m in mem)
    idle_rss = sum(m["rss_before_kib"] for m in mem) / len(mem)
    cores = machine["cores"]
    um_cpu = lambda run: run["cpu"].get("user_management", 0.0)  # noqa: E731
    instructions = results.get("instructions")
    fan_cpu = ", ".join(f"{v:.2f}" for k, v in fan["cpu"].items() if k.startswith("notifications"))
    lag = fan["latency"]["worst_lag_p99_ms"]
    machine_note = (f"machine {pct(fan['cpu']['machine'])} busy, load average {fan.get('load_average', 0):.1f} on "
                    f"{cores} cores")
    quiet = fan.get("quiet") or single
    if fan["valid"]:
        socket_measured = f"{single['p99_ms']:.1f} ms (p50 {single['p50_ms']:.1f})"
        socket_ok = single["p99_ms"] < 50
        socket_bound = (f"{'met' if socket_ok else 'missed'} with every client process's event-loop lag p99 ≤ "
                        f"{lag:.1f} ms (limit {fan['lag_limit_ms']}). The same events with no broadcast running: "
                        f"p99 {quiet['p99_ms']:.1f} ms, so the broadcasts add "
                        + (f"{single['p99_ms'] - quiet['p99_ms']:.1f} ms" if single["p99_ms"] > quiet["p99_ms"]
                           else "nothing measurable")
                        + f" at p99: in each process a single event waits behind at most one batch of a fan-out "
                        f"(SOCKETIO_FANOUT_BATCH), and during a broadcast the {fan['processes']} servers and "
                        f"{fan['load_processes'] + 1} client processes contend for the {cores} cores (server CPU "
                        f"{fan_cpu} cores averaged over the emits; {machine_note}).")
    else:
        socket_measured = f"run rejected ({single['p99_ms']:.1f} ms not a server figure)"
        socket_ok = "**invalid run**"
        lags = fan["latency"]["lag"]
        socket_bound = (f"not measurable here: in all {fan['rounds']} rounds a client process's own event loop "
                        f"lagged more than {fan['lag_limit_ms']} ms at p99 (best round {lag:.1f} ms), i.e. the "
                        f"clients could not keep up. Every client process, the {fan['probe_clients']}-client probe "
                        f"included (its lag p99 {lags['probe']['p99_ms']:.1f} ms), stalled at least "
                        f"{min(v['max_ms'] for v in lags.values()):.0f} ms at some point: the machine's other work "
                        f"on the same cores ({machine_note}), which stalls the servers too.")
    cpu_us = lambda run, name: run["cpu"].get(name, 0.0) / max(run["rate"], 1e-9) * 1e6  # noqa: E731
    app_us, bare_us = cpu_us(profile, "user_management"), cpu_us(bare, "bare_flask")
    profile_bound = (f"CPU of one process and its GIL ({um_cpu(profile):.2f} cores used): {app_us:.0f} µs of CPU per "
                     f"request against bare Flask's {bare_us:.0f} µs ({app_us / max(bare_us, 1e-9):.1f}×; the goal needs ≤ 2×)")
    if instructions:
        profile_bound += (f"; by instruction count the app does {instructions['ratio']:.1f}× bare Flask's work "
                          "(callgrind row: token check, limiter, user read from mongomock, schema, hooks, log line).")
    else:
        profile_bound += ": token check, limiter, user read from mongomock, schema, hooks and the JSON log line."

    rows = [
        ("1. Login `POST /api/auth/login` (c={})".format(login["connections"]),
         f"{login['rate']:.2f} logins/s", f"{bound:.2f}/s = {cores} cores / {bcrypt['verify_seconds'] * 1000:.0f} ms "
         f"bcrypt verify (cost {results['bcrypt_rounds']})", login["rate"] / bound, "≥ 0.9", login["rate"] / bound >= 0.9,
         f"bcrypt: each login is one verify at cost {results['bcrypt_rounds']}; bcrypt releases the GIL, so "
         f"{cores} threads hash in parallel and the worker used {um_cpu(login):.2f} of {cores} cores"
         + (f" (machine {pct(login['cpu']['machine'])} busy: other work took the rest)."
            if um_cpu(login) < 0.95 * cores else ".")),
        ("1. Invite accept `POST /api/invites/accept` (c={})".format(accept["connections"]),
         f"{accept['rate']:.2f} accepts/s", f"{bound:.2f}/s (same bcrypt bound: one hash at the same cost)",
         accept["rate"] / bound, "none set", None,
         "bcrypt hash of the new password, plus the zxcvbn strength check and four database writes, which run "
         f"under the GIL; the worker used {um_cpu(accept):.2f} of {cores} cores."),
        ("2. Profile `GET /api/auth/profile`, 50 connections, limiter on", f"{profile['rate']:.0f} req/s",
         f"{bare['rate']:.0f} req/s bare Flask", profile["rate"] / bare["rate"], "≥ 0.5",
         profile["rate"] / bare["rate"] >= 0.5, profile_bound),
    ]
    if instructions:
        rows.append(("2. Profile, instructions per request (callgrind)",
                     f"{instructions['profile'] / 1e6:.2f} M", f"{instructions['bare_flask'] / 1e6:.2f} M bare Flask",
                     instructions["ratio"], "none set", None,
                     f"app / bare Flask through the Flask test client, {instructions['requests']} requests, start-up "
                     "subtracted; the same on every run, so a change of the request path shows here first."))
    rows += [
        ("2. Profile p99 latency", f"{profile['p99_ms']:.1f} ms (p50 {profile['p50_ms']:.1f})",
         f"{bare['p99_ms']:.1f} ms bare Flask (p50 {bare['p50_ms']:.1f})", profile["p99_ms"] / max(bare["p99_ms"], 1e-9),
         "none set", None,
         f"closed loop: 50 connections on one GIL-bound process, so mean latency = 50 / throughput "
         f"(Little's law: {50 / profile['rate'] * 1000:.0f} ms here)."),
        ("2. Invite list `GET /api/invites/list`, 50 connections", f"{listing['rate']:.0f} req/s",
         f"{bare['rate']:.0f} req/s bare Flask", listing["rate"] / bare["rate"], "none set", None,
         f"the same GIL-bound process, plus a count and a sorted page of {results['data']['invites']} invites that "
         "mongomock computes in Python (a real MongoDB would use the index)."),
        (f"3. Single-user `notification` p99, {fan['clients']} clients on {fan['processes']} processes, "
         "broadcasts running", socket_measured,
         f"{quiet['p99_ms']:.1f} ms the same events without broadcasts (bare Redis pub/sub: "
         f"{redis_base['p99_ms']:.2f} ms)",
         single["p99_ms"] / max(quiet["p99_ms"], 1e-9), "< 50 ms", socket_ok, socket_bound),
        (f"3. Broadcast completion (last of {fan['clients']} clients), median / max",
         f"{completion['p50_ms']:.1f} / {completion['max_ms']:.1f} ms",
         f"{redis_base['p99_ms']:.2f} ms bare Redis pub/sub", completion["max_ms"] / max(redis_base["p99_ms"], 1e-9),
         "none set", None,
         f"CPU: each process writes {fan['clients'] // fan['processes']} WebSocket frames per broadcast, "
         f"{fan.get('batch', 50)} at a time with a yield between batches; the {fan['load_processes']} client processes "
         f"decode {fan['clients']} on the same {cores} cores."),
        ("3. Memory per idle client (worst process)", f"{worst_mem:.1f} KiB ({worst_mem * 1.024:.1f} KB)",
         f"{idle_rss / 1024:.0f} MiB idle worker RSS", worst_mem * (fan["clients"] / fan["processes"]) / idle_rss,
         "< 50 KB", worst_mem * 1024 < 50_000,
         "per connection (tracemalloc, see Memory below): two green threads (the request's and engine.io's "
         "writer) and their saved stacks, gunicorn's request and WSGI environ, the WebSocket, engine.io/Socket.IO "
         "session objects and room entries, plus the allocator's slack."),
        ("4. Emails queued `POST /api/email/send`", f"{email['queue_rate']:.0f} emails/s",
         f"{email['baseline']['rate']:.0f} msg/s SMTP baseline", email["queue_rate"] / email["baseline"]["rate"],
         "none set", None,
         "two eventlet processes, each one GIL: schema validation, a Redis transaction per email, JSON log line; "
         "the senders compete for the same cores."),
        ("4. Emails delivered to the SMTP sink, draining a backlog", f"{drain['rate']:.0f} emails/s",
         f"{email['baseline']['rate']:.0f} msg/s SMTP baseline (comparable MIME built per send)",
         drain["rate"] / email["baseline"]["rate"], "≥ 0.8", drain["rate"] / email["baseline"]["rate"] >= 0.8,
         "the baseline's work (MIME build, 4 SMTP round trips on a kept-open connection) plus the service's own "
         "per email: 3 Redis round trips (read one job, the already-sent check, the acknowledging transaction), "
         "the Jinja render and the JSON log line, on two eventlet processes with "
         f"{email['baseline'].get('senders', 1)} senders each; while draining, CPU "
         + ", ".join(f"{k} {v:.2f}" for k, v in drain_cpu.items() if k.startswith("notifications"))
         + " cores"
         + (" (one GIL each: CPU-bound)." if max(v for k, v in drain_cpu.items() if k.startswith("notif")) > 0.85
            else f" of the one each can use: the rest is waiting, on the Redis and SMTP round trips and, with the "
                 f"machine {pct(drain_cpu.get('machine', 0))} busy, for a core. " + sender_time)),
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
    finished = datetime.fromisoformat(results["finished"]) if "finished" in results else datetime.now(timezone.utc)
    add(f"| Date | {finished.strftime('%Y-%m-%d %H:%M UTC')} |")
    # The run uses every core itself; a 5-minute load well above the core count means other work shared the machine.
    load_end = results.get("load_average_end") or os.getloadavg()
    add(f"| Load average (1 / 5 min) at the end | {load_end[0]:.2f} / {load_end[1]:.2f} on {cores} cores |")
    add(f"| Commit | `{results.get('commit') or commit_label(root)}` |")
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
    if results.get("chart"):
        add(f"![Latency distributions of this run: profile vs bare Flask, Socket.IO single-user vs broadcast]"
            f"({results['chart']})\n")
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
        "**the rate limiter on as deployed** (`RATELIMIT_ENABLED=true`) with `RATELIMIT_API` and `RATELIMIT_USER` "
        "set to `100000000 per 15 minutes`: every request is counted in Redis as in production, but no budget is "
        "reached, so the load never gets a 429. Redis key prefix and Socket.IO "
        f"channel unique to the run (`{results['run_id']}…`, {results['redis_keys_deleted']} keys deleted at the end).")
    add(f"- Data: a bootstrap super_admin (`BOOTSTRAP_ADMIN_*`), {results['data']['invites']} invites created through "
        f"`POST /api/invites/create` and {results['data']['users'] - 1} of them accepted through the API during "
        "scenario 1. user_management's `NOTIFICATIONS_URL` points at a stub in the bench process that answers 202 "
        "and keeps the invite links (the token only exists in the email).")
    niceness = results.get("niceness")
    add(f"- **Priority**: the bench ran at nice {niceness}, inherited by every process it starts (services, wrk, "
        "clients), " + ("ahead of other work sharing the machine, which still takes its share of the cores (see the "
                        "load average)." if niceness is not None and niceness < 0 else
                        "the same as other work on the machine (raising it needs root)."))
    add("- **Bare Flask** baseline: `bench/bare_app.py` (`GET /ping` → small JSON) under the same gunicorn config "
        "and worker/thread counts.")
    add("- **Load generator**: wrk in its own process (`-t1` for the bcrypt-bound endpoints at 2 × cores "
        "connections; `-t2 -c50` for scenario 2). p50/p99 are wrk's latency distribution. The trivial endpoint is "
        "nginx `return 200` with one worker.")
    add(f"- **notifications**: two processes, each `gunicorn -c notifications/gunicorn.conf.py wsgi:notifications_app` "
        "(eventlet, 1 worker), sharing the run's Socket.IO channel and Redis prefix; SMTP to an aiosmtpd sink "
        "(`bench/smtp_sink.py`).")
    add("- **Socket.IO clients** over the WebSocket transport, each with an access token signed like "
        "user_management's (same kind of key and claims, synthetic user ids), split evenly over the two processes: a "
        f"**probe** process of {fan['probe_clients']} python-socketio `AsyncClient`s that receive the single-user "
        f"events, and {fan['load_processes']} **load** processes holding the {fan['clients']} broadcast receivers, "
        "each a minimal Engine.IO/Socket.IO client on aiohttp (`WireClient` in `bench/sockets_load.py`: same "
        "protocol, a third less CPU per event than `AsyncClient`). Emits go "
        "through user_management's own `utils/socket_client` (write-only `SocketIO(message_queue=…)`): "
        f"{fan['singles']} `notification` events to the probe's users, 50 a second, with {fan['broadcasts']} "
        "broadcasts to the `role:client_user` room (every client) mixed in. Latency = receive time − send time "
        "stamped in the payload (same host clock). Every client process measures its own event-loop lag (how late a "
        f"2 ms timer wakes) while the emits run; a round in which one lagged more than {fan['lag_limit_ms']} ms at "
        f"p99 is rejected as a measurement of the clients, and run again (up to {max(fan['rounds'], 1)} rounds here). "
        "Before those rounds, the same single-user events are sent once with no broadcast: "
        "the same run's baseline for what the broadcasts add. Broadcast completion = time until the last load "
        "client got it. Memory = VmRSS of each worker after a 10-client warm-up, before and 3 s after all clients "
        "connected, one client process at a time (50 handshakes at once).")
    baseline = email["baseline"]
    add(f"- **Email**: the baseline is `bench/smtp_blast.py`: {baseline.get('processes', 1)} processes × "
        f"{baseline.get('senders', 1)} smtplib senders (as many as the service's processes × `EMAIL_SENDERS`), each on "
        "a kept-open connection and building a new multipart text + HTML message per send, written like the "
        "service's (compat32, CRLF), straight into the sink. Queueing: one wrk (`-t1 -c25`) per notifications "
        "process posting an `invite` email; the goal's delivery rate is the sink's growth after the queueing "
        "ended, while the senders drain the backlog alone (as the baseline's senders send alone).")
    if instructions:
        add(f"- **Instructions per request**: `bench/callgrind_driver.py` calls the app through the Flask test client "
            "under `valgrind --tool=callgrind` (same settings as the served app, limiter on, `PYTHONHASHSEED=0`), "
            f"once with {instructions['requests']} requests after a 20-request warm-up and once without; the "
            "difference divided by the requests is one request's instructions, start-up excluded.")
    else:
        add("- **Instructions per request**: not measured in this run (valgrind missing, or the quick run).")
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
    add(f"Connected {fan['clients']} + {fan['probe_clients']} probe clients in {fan['connect_seconds']:.1f} s; "
        f"received {fan['latency']['received']} of {fan['latency']['expected']} expected events; "
        + (f"round {fan['rounds']} was valid" if fan["valid"]
           else f"no valid round in {fan['rounds']} (the figures are from the one whose clients lagged least)")
        + (f"; rejected rounds' worst client lag p99: {', '.join(f'{v:.1f} ms' for v in fan['rejected'])}.\n"
           if fan["rejected"] else "; no round rejected.\n"))
    add("| Process | RSS before (KiB) | RSS after (KiB) | Per client (KiB) |\n|---|---|---|---|")
    for m in mem:
        add(f"| {m['process']} | {m['rss_before_kib']} | {m['rss_after_kib']} | {m['per_client_kib']:.1f} |")
    add("\n| Events | Count | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|")
    for data, label in ((quiet, "single-user (probe), no broadcast"), (single, "single-user (probe), broadcasts running"),
                        (broadcast, "broadcast, per client"), (completion, "broadcast completion")):
        add(f"| {label} | {data['count']} | {data['p50_ms']:.1f} | {data['p99_ms']:.1f} | {data['max_ms']:.1f} |")
    add("\n| Client process | Loop lag samples | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|")
    for name, data in fan["latency"]["lag"].items():
        add(f"| {name} | {data['count']} | {data['p50_ms']:.2f} | {data['p99_ms']:.2f} | {data['max_ms']:.1f} |")
    add(f"\nCPU during the emits (cores): "
        + ", ".join(f"{k} {v:.2f}" for k, v in fan["cpu"].items() if k != "machine")
        + f"; machine {pct(fan['cpu']['machine'])} busy.\n")
    add("### Email\n")
    add(f"- Baseline: {baseline['sent']} messages in {baseline['seconds']:.1f} s = {baseline['rate']:.0f}/s "
        f"(average {baseline.get('avg_message_bytes', 0) / 1024:.1f} KiB).")
    add(f"- Queued: {email['queued']} in {email['queue_seconds']:.1f} s = {email['queue_rate']:.0f}/s "
        f"(p50 {email['queue_p50_ms']:.1f} ms, p99 {email['queue_p99_ms']:.1f} ms, {email['queue_errors']} errors).")
    add(f"- Delivered: {email['delivered']} in {email['delivery_seconds']:.1f} s = {email['delivery_rate']:.0f}/s; "
        f"{max(0, email['backlog_left'])} still queued when measurement stopped (wrk does not count the requests "
        "in flight when it stops, so the queue may hold a few more than it counted; average message "
        f"{email['avg_message_bytes'] / 1024:.1f} KiB). Of those, {drain['delivered']} in {drain['seconds']:.1f} s = "
        f"{drain['rate']:.0f}/s after the queueing ended (the senders alone: the goal's figure).")
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
