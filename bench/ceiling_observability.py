"""What the request observability middleware costs on the ceiling scenario itself:
``GET /ping`` served by gunicorn under wrk, exactly as ``bench/run.py`` serves it
(production settings, 2 × cores sync workers, wrk 1 thread, 4 connections), in three
variants measured in interleaved rounds (the order rotates every round):

* ``without``: ``RequestObservabilityMiddleware`` removed
  (``bench/settings_without_observability.py``);
* ``metrics``: the middleware with ``REQUEST_LOG=off`` — request id, the request and
  latency histograms by route and status, SQL statements per request: the metrics
  middleware of issue [Operate];
* ``full``: as shipped, with the JSON request line at INFO (on gunicorn's standard
  output, which is this script's: run it with its output sent to a file).

The SQL-counting header of ``bench/run.py`` (``BENCH_COUNT_QUERIES``) is off in every
variant. Cost = 1 - variant / without, on the median requests/s of the rounds.

    .venv/bin/python bench/ceiling_observability.py [--rounds 5] [--seconds 10]

Writes ``bench/results/ceiling-observability.{json,md}``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import (  # noqa: E402
    RESULTS,
    ROOT,
    child_env,
    ensure_database,
    ensure_wrk,
    free_port,
    log,
    run_wrk,
    start_gunicorn,
    stop,
    wait_healthy,
)

VARIANTS = {
    "without": {"DJANGO_SETTINGS_MODULE": "bench.settings_without_observability"},
    "metrics": {"REQUEST_LOG": "false"},
    "full": {"REQUEST_LOG": "true"},
}
DATABASE = "bench_ceiling"


def measure(wrk: str, variant: str, seconds: int, workers: int) -> dict:
    env = child_env(DATABASE)
    env.pop("BENCH_COUNT_QUERIES", None)
    env.update(VARIANTS[variant])
    port = free_port()
    server = start_gunicorn(env, port, workers)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base)
        scenario = {"name": "ceiling", "path": "/ping"}
        with tempfile.TemporaryDirectory() as work:
            run_wrk(wrk, base, scenario, 2, Path(work))  # warm-up
            raw = run_wrk(wrk, base, scenario, seconds, Path(work))
    finally:
        stop(server)
    errors = sum(raw.get(k, 0) for k in ("connect", "read", "write", "status"))
    return {"rps": raw["requests"] / raw["duration_us"] * 1e6, "errors": errors}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument(
        "--variants",
        default=",".join(VARIANTS),
        help="comma-separated, 'without' first",
    )
    parser.add_argument("--output", default=str(RESULTS / "ceiling-observability"))
    args = parser.parse_args(argv)
    wrk = ensure_wrk()
    ensure_database(DATABASE, recreate=False)
    env = child_env(DATABASE)
    subprocess.run(
        [str(ROOT / ".venv/bin/python"), "manage.py", "migrate", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    load_before = os.getloadavg()
    names = [name for name in args.variants.split(",") if name in VARIANTS]
    if "without" not in names:
        parser.error("--variants must include 'without' (the baseline)")
    rounds: dict[str, list[float]] = {name: [] for name in names}
    for index in range(args.rounds):
        order = names[index % len(names) :] + names[: index % len(names)]
        for name in order:
            result = measure(wrk, name, args.seconds, args.workers)
            rounds[name].append(result["rps"])
            log(
                f"round {index + 1} {name}: {result['rps']:.1f} req/s, "
                f"{result['errors']} errors"
            )
    load_after = os.getloadavg()
    median = {name: statistics.median(values) for name, values in rounds.items()}
    cost = {
        name: 1 - median[name] / median["without"]
        for name in names
        if name != "without"
    }
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout.strip()
    report = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "workers": args.workers,
        "seconds": args.seconds,
        "rounds": rounds,
        "median_rps": median,
        "cost": cost,
        "load_before": load_before,
        "load_after": load_after,
    }
    out = Path(args.output)
    out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        "# Observability middleware on the ceiling scenario (gunicorn + wrk)",
        "",
        f"{report['finished_at']} · commit {commit} · {os.cpu_count()} CPUs · "
        f"gunicorn {args.workers} sync workers · wrk 1 thread, 4 connections, "
        f"{args.seconds} s per measurement · {args.rounds} interleaved rounds · "
        f"1-minute load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
        "(the benchmark's own servers and wrk raise it).",
        "",
        "| variant | requests/s per round | median | cost vs without |",
        "|---|---|---:|---:|",
    ]
    for name in names:
        per_round = ", ".join(f"{v:.0f}" for v in rounds[name])
        share = "" if name == "without" else f"{100 * cost[name]:.1f} %"
        lines.append(f"| {name} | {per_round} | {median[name]:.1f} | {share} |")
    lines += [
        "",
        "`metrics` is the metrics middleware of issue [Operate] (request id, request and",
        "latency histograms, SQL statements per request; `REQUEST_LOG=off`); `full` adds the",
        "JSON request line. Goal: the metrics middleware under 5 % of the ceiling's",
        f"requests/s: **{'met' if cost['metrics'] < 0.05 else 'NOT met'}** "
        f"({100 * cost['metrics']:.1f} %).",
        "",
    ]
    out.with_suffix(".md").write_text("\n".join(lines))
    log(f"wrote {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
