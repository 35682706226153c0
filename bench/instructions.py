"""Instructions per request under callgrind: the profile path and bare Flask, stable from run to run.

Wall time on a shared machine moves with whatever else runs; the number of instructions executed
does not (to within a fraction of a percent), so a regression of the request path shows here even
when wrk's rates are noisy. For each target, `bench.callgrind_driver` runs twice under
`valgrind --tool=callgrind`: with `requests` measured requests after the warm-up, and without
them; the difference divided by `requests` is the cost of one request, start-up excluded.
"""
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from tests.support.processes import PROJECT_ROOT

from .callgrind_driver import TARGETS
from .harness import UserManagementStack, log

COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def valgrind():
    """Path of valgrind, or None when it is not installed."""
    return shutil.which("valgrind")


def count(run, target, requests, label):
    """Instructions executed by one driver run under callgrind."""
    out = run.logs / f"callgrind-{target}-{label}"
    command = [valgrind(), "--tool=callgrind", f"--log-file={out}.log", f"--callgrind-out-file={out}.out",
               sys.executable, "-m", "bench.callgrind_driver", "--target", target, "--requests", str(requests)]
    # A fixed hash seed: dict and set layouts, hence instruction counts, are the same on every run.
    env = run.env(PYTHONHASHSEED="0", **UserManagementStack.settings(run))
    with open(f"{out}.stderr", "w") as stderr:
        subprocess.run(command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr, check=True,
                       timeout=900)
    match = COLLECTED.search((out.parent / f"{out.name}.log").read_text())
    if match is None:
        raise RuntimeError(f"callgrind printed no instruction count: see {out}.log")
    return int(match.group(1))


def measure(run, requests):
    """{target: instructions per request} and the ratio app / bare Flask; None without valgrind."""
    if valgrind() is None:
        log("valgrind not installed (apt-get install -y valgrind): no instruction counts")
        return None
    jobs = [(target, n) for target in TARGETS for n in (0, requests)]
    # Two at a time: the counts do not depend on what else runs, only the wall time does.
    with ThreadPoolExecutor(2) as pool:
        totals = dict(zip(jobs, pool.map(lambda job: count(run, job[0], job[1], f"n{job[1]}"), jobs)))
    result = {"requests": requests}
    for target in TARGETS:
        result[target] = (totals[(target, requests)] - totals[(target, 0)]) / requests
    result["ratio"] = result["profile"] / result["bare_flask"]
    log(f"instructions per request: profile {result['profile'] / 1e6:.2f} M, bare Flask "
        f"{result['bare_flask'] / 1e6:.2f} M, ratio {result['ratio']:.1f}")
    return result
