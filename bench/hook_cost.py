"""Hook cost: what one Juju event costs flask-k8s, next to a minimal ops charm that does nothing.

Juju starts a fresh Python process for every event, so the cost is the whole process:
interpreter start, imports and the event. Each run is one ``hook_one.py`` process; its wall time
and peak RSS (from ``os.wait4``, the child's own rusage) are recorded. Both charms run in the
same invocation, interleaved in alternating order so that drift of the machine hits both alike,
and the medians are compared. Exits 1 if flask-k8s takes more than ``--budget`` times the
minimal charm's wall time.

Usage: ``.venv/bin/python bench/hook_cost.py [--runs 7] [--budget 1.3] [--json] [--importtime]``
"""

from __future__ import annotations

import argparse
import collections
import importlib.metadata
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import time

BENCH = pathlib.Path(__file__).resolve().parent
HOOK_ONE = BENCH / "hook_one.py"
SIDES = ("flask", "flask-all", "minimal")
LABELS = {
    "flask": "flask-k8s",
    "flask-all": "flask-k8s, every relation answered",
    "minimal": "minimal ops charm",
}
# The sides held to the budget, against the minimal charm.
MEASURED = ("flask", "flask-all")
MARKER = "--- import charm ---"
# A deployed charm's Python caches bytecode (its directory is writable by the unit agent), so
# the children do too, whatever this shell says: without the cache, every module edited since
# the last cached run would be compiled again in every run, a cost of the checkout, not of
# the charm.
CHILD_ENV = {
    name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"
}


def run_once(side: str) -> tuple[float, float]:
    """Wall ms and peak RSS MiB of one ``hook_one.py`` process."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(HOOK_ONE), side],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=CHILD_ENV,
    )
    assert proc.stderr is not None
    errors = proc.stderr.read()  # Returns at the child's exit, when the pipe closes.
    _, wait_status, usage = os.wait4(proc.pid, 0)
    wall_ms = (time.perf_counter() - start) * 1000
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(wait_status)
    if proc.returncode:
        sys.exit(f"{side}: hook_one.py failed ({proc.returncode}):\n{errors.decode()}")
    return wall_ms, usage.ru_maxrss / 1024  # Linux reports KiB.


def measure(runs: int, warmup: int) -> dict[str, dict[str, list[float]]]:
    """Run each side ``runs`` times, interleaved, after ``warmup`` unrecorded runs each."""
    for _ in range(warmup):  # Writes __pycache__ and fills the page cache.
        for side in SIDES:
            run_once(side)
    results = {side: {"wall_ms": [], "peak_rss_mib": []} for side in SIDES}
    for index in range(runs):
        for side in SIDES if index % 2 == 0 else SIDES[::-1]:
            wall_ms, rss_mib = run_once(side)
            results[side]["wall_ms"].append(wall_ms)
            results[side]["peak_rss_mib"].append(rss_mib)
    return results


def summarise(results: dict[str, dict[str, list[float]]], budget: float) -> dict:
    """Medians per side, the flask/minimal ratios and whether the wall ratio is in budget."""
    medians = {
        side: {key: statistics.median(values) for key, values in figures.items()}
        for side, figures in results.items()
    }
    ratios = {
        side: {
            key: medians[side][key] / medians["minimal"][key]
            for key in ("wall_ms", "peak_rss_mib")
        }
        for side in MEASURED
    }
    return {
        "python": platform.python_version(),
        "ops": importlib.metadata.version("ops"),
        "runs": len(results["flask"]["wall_ms"]),
        "budget": budget,
        "median": medians,
        "ratio": ratios,
        "within_budget": all(ratio["wall_ms"] <= budget for ratio in ratios.values()),
        "samples": results,
    }


def markdown(summary: dict) -> str:
    """The summary as a small Markdown table."""
    rows = [
        "| charm | wall ms (median) | wall ms (min-max) | peak RSS MiB (median) |",
        "|---|---:|---:|---:|",
    ]
    for side in SIDES:
        walls = summary["samples"][side]["wall_ms"]
        median = summary["median"][side]
        rows.append(
            f"| {LABELS[side]} | {median['wall_ms']:.0f} | {min(walls):.0f}-{max(walls):.0f} "
            f"| {median['peak_rss_mib']:.1f} |"
        )
    for side in MEASURED:
        ratio = summary["ratio"][side]
        rows.append(
            f"| ratio, {LABELS[side]} / minimal | {ratio['wall_ms']:.2f} | "
            f"| {ratio['peak_rss_mib']:.2f} |"
        )
    verdict = "within" if summary["within_budget"] else "OVER"
    walls = ", ".join(f"{summary['ratio'][side]['wall_ms']:.2f}" for side in MEASURED)
    rows.append("")
    rows.append(
        f"{summary['runs']} runs each, Python {summary['python']}, ops {summary['ops']}: "
        f"wall ratios {walls}, {verdict} the budget of {summary['budget']:g}."
    )
    return "\n".join(rows)


def import_times(side: str) -> dict[str, tuple[float, float]]:
    """Self and cumulative ms of every module ``import charm`` loads after ops.testing.

    ops.testing is imported first, as in ``hook_one.py``, so only the charm's own cost shows.
    """
    import_hook_one = "import hook_one, sys; sys.path[:0] = map(str, hook_one.CHARM_PATHS[{!r}])"
    code = "; ".join(
        (
            import_hook_one.format(side),
            "import ops.testing",
            f"print({MARKER!r}, file=sys.stderr)",
            "import charm",
        )
    )
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=BENCH,
        capture_output=True,
        text=True,
        check=True,
        env=CHILD_ENV,
    )
    times = {}
    for line in proc.stderr.split(MARKER, 1)[1].splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        self_us, cumulative_us, module = line.removeprefix("import time:").split("|")
        if self_us.strip().isdigit():
            times[module.strip()] = (int(self_us) / 1000, int(cumulative_us) / 1000)
    return times


def importtime_report(repeats: int = 5, top: int = 10) -> str:
    """The heaviest imports of ``import charm`` for flask-k8s, medians of ``repeats`` runs."""
    samples: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for side in SIDES:
        samples[side] = collections.defaultdict(list)
        for _ in range(repeats):
            for module, pair in import_times(side).items():
                samples[side][module].append(pair)

    def median(pairs: list[tuple[float, float]], index: int) -> float:
        return statistics.median(pair[index] for pair in pairs)

    flask, minimal = samples["flask"], samples["minimal"]
    ranked = sorted(flask, key=lambda module: median(flask[module], 1), reverse=True)
    rows = [
        f"`import charm` after ops.testing, -X importtime, median of {repeats} runs "
        f"(flask-k8s {median(flask['charm'], 1):.1f} ms, "
        f"minimal {median(minimal['charm'], 1):.1f} ms):",
        "",
        "| module | cumulative ms | self ms |",
        "|---|---:|---:|",
    ]
    rows.extend(
        f"| {module} | {median(flask[module], 1):.2f} | {median(flask[module], 0):.2f} |"
        for module in ranked[:top]
    )
    # Modules outside the library and the charm that only flask-k8s loads (stdlib, ideally).
    others = [
        f"{module} {median(flask[module], 1):.2f} ms"
        for module in ranked
        if module.partition(".")[0] not in ("charm", "flask_k8s") and module not in minimal
    ]
    rows.extend(("", f"Other modules only flask-k8s loads: {', '.join(others) or 'none'}."))
    return "\n".join(rows)


def main() -> int:
    """Measure, print, and fail if flask-k8s is over budget."""
    parser = argparse.ArgumentParser(description="Time one config-changed hook per process.")
    parser.add_argument("--runs", type=int, default=7, help="runs per charm (at least 5)")
    parser.add_argument("--warmup", type=int, default=1, help="unrecorded runs per charm first")
    parser.add_argument("--budget", type=float, default=1.3, help="max flask/minimal wall ratio")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument(
        "--importtime", action="store_true", help="also list flask-k8s' heaviest imports"
    )
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs must be at least 5")

    summary = summarise(measure(args.runs, args.warmup), args.budget)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(markdown(summary))
    if args.importtime:
        print("", importtime_report(), sep="\n", file=sys.stderr if args.json else sys.stdout)
    return 0 if summary["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main())
