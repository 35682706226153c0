"""Render deploy/nginx.conf for a local test (support.nginx runs it).

The template is rewritten line by line (comments are never touched): upstream
service names become loopback addresses, `listen 80` a free local port, and
pid, logs and temp paths move into a temp dir. Every rewritten line must occur
exactly once in the template, so a drift in deploy/nginx.conf fails loudly here
instead of silently testing the wrong file.
"""
import json
import os
from pathlib import Path

import requests
from requests.adapters import HTTPAdapter


REPO_ROOT = Path(__file__).resolve().parents[2]
NGINX_TEMPLATE = REPO_ROOT / "deploy" / "nginx.conf"

USER_LINE = "user nginx;"
PID_LINE = "pid /var/run/nginx.pid;"
ERROR_LOG_LINE = "error_log /var/log/nginx/error.log warn;"
ACCESS_LOG_LINE = "access_log /var/log/nginx/access.log json;"
LISTEN_LINE = "listen 80;"
UM_SERVER_LINE = "server user_management:3000;"
NOTIF_SERVER_LINE = "server notifications:4000;"
TEMP_PREFIX = "/var/cache/nginx/"


def _address(target):
    """Turn a port (int) into 127.0.0.1:port; pass "host:port" through."""
    return f"127.0.0.1:{target}" if isinstance(target, int) or str(target).isdigit() else str(target)


def render_nginx_conf(template_path, um_port, notif_ports, listen_port, tmpdir):
    """Write a runnable copy of the nginx template into `tmpdir` and return its path."""
    tmpdir = Path(tmpdir)
    tmpdir.mkdir(parents=True, exist_ok=True)
    if isinstance(notif_ports, (int, str)):
        notif_ports = [notif_ports]
    if not notif_ports:
        raise ValueError("at least one notifications upstream is needed")
    # Running as root, workers would drop to an account that cannot enter a
    # private temp dir; as anyone else the directive is ignored with a warning.
    user = "user root;" if os.geteuid() == 0 else None
    replacements = {
        USER_LINE: [user] if user else [],
        PID_LINE: [f"pid {tmpdir / 'nginx.pid'};"],
        ERROR_LOG_LINE: [f"error_log {tmpdir / 'error.log'} info;"],
        ACCESS_LOG_LINE: [f"access_log {tmpdir / 'access.log'} json;"],
        LISTEN_LINE: [f"listen 127.0.0.1:{int(listen_port)};"],
        UM_SERVER_LINE: [f"server {_address(um_port)};"],
        NOTIF_SERVER_LINE: [f"server {_address(port)};" for port in notif_ports],
    }
    seen = dict.fromkeys(replacements, 0)
    out = []
    for line in Path(template_path).read_text().splitlines():
        stripped = line.strip()
        indent = line[: len(line) - len(line.lstrip())]
        if stripped in replacements:
            seen[stripped] += 1
            out.extend(indent + new for new in replacements[stripped])
        elif not stripped.startswith("#") and TEMP_PREFIX in stripped:
            out.append(line.replace(TEMP_PREFIX, f"{tmpdir}/"))
        else:
            out.append(line)
    wrong = {line: count for line, count in seen.items() if count != 1}
    if wrong:
        raise ValueError(f"{template_path}: expected each line exactly once, found {wrong}")
    conf = tmpdir / "nginx.conf"
    conf.write_text("\n".join(out) + "\n")
    return conf


def read_access_log(conf_path):
    """Return the rendered nginx's JSON access-log lines (the template's `json` format), parsed.

    nginx writes a line when a request completes, so a long-poll still open is not there yet.
    """
    path = Path(conf_path).parent / "access.log"
    if not path.exists():
        return []
    lines = path.read_text(errors="replace").split("\n")[:-1]  # the last piece may be unfinished
    return [json.loads(line) for line in lines if line.startswith("{")]


class SourceAddressAdapter(HTTPAdapter):
    """A requests adapter whose connections leave from `source_ip` (any 127.0.0.0/8 address works on lo)."""

    def __init__(self, source_ip, **kwargs):
        self.source_ip = source_ip
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        """Bind every pooled connection to the source address."""
        kwargs["source_address"] = (self.source_ip, 0)
        super().init_poolmanager(*args, **kwargs)


def session_from(source_ip):
    """A requests.Session whose HTTP requests come from `source_ip`, so nginx's $remote_addr is that address."""
    session = requests.Session()
    session.mount("http://", SourceAddressAdapter(source_ip))
    return session
