"""The latency distributions of a run as one PNG: profile vs bare Flask (wrk), Socket.IO single vs broadcast.

Each curve is latency against percentile, on a scale that spreads the tail (50, 90, 99, 99.9 equally
apart), from the same run's percentiles that RESULTS.md tabulates.
"""
import math

import matplotlib

matplotlib.use("Agg")  # no display: write files only
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

TICKS = (50, 90, 99, 99.9)


def tail_scale(pct):
    """Position of percentile `pct` on the x axis: 50 -> 0.3, 90 -> 1, 99 -> 2, 99.9 -> 3."""
    return -math.log10(1 - min(pct, 99.99) / 100)


def plot_curves(axes, title, curves, goal_ms=None):
    """One panel: {label: [[percentile, ms], ...]}."""
    for label, points in curves.items():
        if points:
            axes.plot([tail_scale(p) for p, _ in points], [ms for _, ms in points], marker=".", label=label)
    if goal_ms is not None:
        axes.axhline(goal_ms, color="grey", linestyle="--", linewidth=1, label=f"goal {goal_ms:g} ms")
    axes.set_xticks([tail_scale(p) for p in TICKS], [f"p{p:g}" for p in TICKS])
    axes.set_yscale("log")
    axes.set_ylabel("latency (ms, log scale)")
    axes.set_title(title, fontsize=10)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)


def draw(results, path):
    """Write the chart of `results` (the run's results dict) to `path`."""
    wrk = results["wrk"]
    fan = results["fanout"]["latency"]
    figure, (http_axes, socket_axes) = plt.subplots(1, 2, figsize=(11, 4.2))
    plot_curves(http_axes, f"HTTP, 50 connections (wrk): {wrk['profile']['rate']:.0f} vs "
                f"{wrk['bare_flask']['rate']:.0f} req/s",
                {"GET /api/auth/profile (limiter on)": wrk["profile"].get("curve_ms"),
                 "bare Flask GET /ping": wrk["bare_flask"].get("curve_ms")})
    plot_curves(socket_axes, f"Socket.IO, {results['fanout']['clients']} clients on "
                f"{results['fanout']['processes']} processes" + ("" if results["fanout"]["valid"] else " (REJECTED run)"),
                {"single-user event, no broadcast": (results["fanout"].get("quiet") or {}).get("curve_ms"),
                 "single-user event, broadcasts running": fan["single"]["curve_ms"],
                 "broadcast, per client": fan["broadcast"]["curve_ms"],
                 "broadcast completion (last client)": fan["completion"]["curve_ms"]}, goal_ms=50)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
