"""Run nginx in the foreground on a config file (the deploy tests and the benchmarks)."""
import os
import shutil
import signal
import subprocess
from pathlib import Path

from .processes import wait_for_port


def find_nginx():
    """Return the nginx binary's path, or None when nginx is not installed."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def listen_port(conf_path):
    """Return the port of the config's `listen 127.0.0.1:PORT;` line."""
    for line in Path(conf_path).read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("listen 127.0.0.1:"):
            return int(stripped.removeprefix("listen 127.0.0.1:").rstrip(";"))
    raise ValueError(f"{conf_path} has no `listen 127.0.0.1:PORT;` line")


def _command(conf_path, *extra):
    """Return the nginx argv for a config, with its prefix in the config's dir."""
    nginx = find_nginx()
    if nginx is None:
        raise FileNotFoundError("nginx is not installed (apt-get install -y nginx)")
    conf_path = Path(conf_path)
    # -e: log start-up errors to stderr before the config's error_log applies.
    return [nginx, "-p", str(conf_path.parent), "-e", "stderr", "-c", str(conf_path), *extra]


def check_nginx_conf(conf_path):
    """Run `nginx -t` on a config; return the CompletedProcess."""
    return subprocess.run(_command(conf_path, "-t"), capture_output=True, text=True, timeout=30)


def start_nginx(conf_path, timeout=10.0):
    """Start nginx in the foreground on a config; return once it accepts connections."""
    port = listen_port(conf_path)
    proc = subprocess.Popen(
        _command(conf_path, "-g", "daemon off;"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for_port(port, proc, timeout)
    except RuntimeError:
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise RuntimeError(f"nginx exited with {proc.returncode}: {err}") from None
        stop_nginx(proc)
        raise
    return proc


def stop_nginx(proc, timeout=10.0):
    """Stop an nginx started by start_nginx (fast shutdown; SIGKILL if it lingers)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # Our own session: the master and its workers, nothing else.
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    return proc.returncode
