"""Run wrk (the load generator) and read its results, CPU time included.

Every wrk script gets a `done` hook that prints one JSON line, so nothing is
scraped from wrk's human-readable output. Latencies are in microseconds.
"""
import json
import os
import shutil
import subprocess
import tempfile

# The latency distribution's percentiles that the chart draws (bench/chart.py).
CURVE_PERCENTILES = (1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97.5, 99, 99.5, 99.9)
DONE_LUA = r"""
function done(summary, latency, requests)
  local e = summary.errors
  local curve = {}
  for i, p in ipairs({PERCENTILES}) do curve[i] = string.format("%d", latency:percentile(p)) end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%f,"curve_us":[%s]}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    table.concat(curve, ",")))
end
""".replace("{PERCENTILES}", "{" + ", ".join(str(p) for p in CURVE_PERCENTILES) + "}")


def lua_string(value):
    """Quote `value` as a Lua long string."""
    return "[==[" + value + "]==]"


def post_json_script(body, headers=None):
    """Lua for POSTing the same JSON body with `headers` on every request."""
    lines = ['wrk.method = "POST"', f"wrk.body = {lua_string(body)}", 'wrk.headers["Content-Type"] = "application/json"']
    lines += [f"wrk.headers[ {lua_string(k)} ] = {lua_string(v)}" for k, v in (headers or {}).items()]
    return "\n".join(lines)


def get_script(headers=None):
    """Lua for a GET with `headers`."""
    return "\n".join(f"wrk.headers[ {lua_string(k)} ] = {lua_string(v)}" for k, v in (headers or {}).items())


def token_post_script(path, tokens_file, body_template):
    """Lua that POSTs `body_template` with %s replaced by the next single-use token from `tokens_file`."""
    return f"""
local tokens = {{}}
for line in io.lines({lua_string(str(tokens_file))}) do tokens[#tokens + 1] = line end
local i = 0
local template = {lua_string(body_template)}
local headers = {{["Content-Type"] = "application/json"}}
request = function()
  i = i + 1
  local token = tokens[((i - 1) % #tokens) + 1]
  return wrk.format("POST", {lua_string(path)}, headers, string.format(template, token))
end
"""


class WrkResult(dict):
    """wrk's summary plus derived rates; a dict so it serialises as is."""

    @property
    def ok_rate(self):
        """Non-error responses per second."""
        return self["ok"] / self["seconds"] if self["seconds"] else 0.0


def available():
    """True when the wrk binary is installed."""
    return shutil.which("wrk") is not None


def start(url, script, threads, connections, seconds, timeout=5):
    """Start wrk in its own process; returns a handle for `finish`."""
    script_file = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    script_file.write(script + "\n" + DONE_LUA)
    script_file.close()
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s", "-s", script_file.name, url]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return {"process": process, "script": script_file.name, "cmd": cmd, "connections": connections}


def finish(handle):
    """Wait for a wrk started by `start`; return a WrkResult (cpu_seconds needs the rusage of the caller)."""
    process = handle["process"]
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    output = process.stdout.read()
    os.unlink(handle["script"])
    line = next((line for line in output.splitlines() if line.startswith("WRKJSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({process.returncode}): {' '.join(handle['cmd'])}\n{output}")
    data = json.loads(line[len("WRKJSON "):])
    errors = data["connect"] + data["read"] + data["write"] + data["status"] + data["timeout"]
    seconds = data["duration_us"] / 1e6
    return WrkResult(
        data,
        ok=data["requests"] - data["status"],
        errors=errors,
        seconds=seconds,
        rate=(data["requests"] - data["status"]) / seconds if seconds else 0.0,
        p50_ms=data["p50"] / 1000,
        p90_ms=data["p90"] / 1000,
        p99_ms=data["p99"] / 1000,
        curve_ms=[[p, us / 1000] for p, us in zip(CURVE_PERCENTILES, data["curve_us"])],
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        cpu_share=(usage.ru_utime + usage.ru_stime) / seconds if seconds else 0.0,
        connections=handle["connections"],
    )


def run(url, script, threads=1, connections=1, seconds=10, timeout=5):
    """Run wrk to completion; see `finish`."""
    return finish(start(url, script, threads, connections, seconds, timeout))


