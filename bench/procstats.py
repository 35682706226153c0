"""What the benchmarks read from /proc: cores, a gunicorn master's worker, RSS and CPU time of processes."""
import os
import time
from pathlib import Path

from tests.support.processes import wait_until


def cores():
    """CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def children(pid):
    """Direct child pids of `pid` (gunicorn's workers)."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def worker_pid(master, timeout=10):
    """The single worker of a gunicorn master process."""
    pids = wait_until(lambda: children(master.pid), timeout=timeout)
    if not pids:
        raise RuntimeError(f"{master.name}: no worker process")
    return pids[0]


def rss_kib(pid):
    """VmRSS of `pid` in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User + system CPU seconds `pid` has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy():
    """(busy, total) jiffies of the whole machine, for utilisation over an interval."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CpuWatch:
    """CPU used by some pids and by the whole machine over an interval."""

    def __init__(self, pids):
        self.pids = {name: pid for name, pid in pids.items() if pid}
        self.start_cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.start_machine = machine_busy()
        self.started = time.monotonic()

    def stop(self):
        """{name: cores used} plus "machine": the share of all cores busy."""
        elapsed = time.monotonic() - self.started
        used = {name: (cpu_seconds(pid) - self.start_cpu[name]) / elapsed for name, pid in self.pids.items()}
        busy, total = machine_busy()
        used["machine"] = (busy - self.start_machine[0]) / max(1, total - self.start_machine[1])
        return used
