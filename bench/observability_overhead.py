"""What the request observability middleware (request id, metrics, one JSON log line)
costs on the ceiling scenario (``GET /ping``), measured in one process.

``make bench``'s ceiling runs wrk against gunicorn on the same two shared cores, where
run-to-run noise (10-20 % on this machine) is larger than the 5 % budget. Here the
same Django handler, under ``portal.settings.production`` (JSON logs at INFO, written
to a file), answers ``/ping`` through its whole middleware stack, in interleaved rounds:

* ``full``: the stack as shipped;
* ``no_metrics``: ``portal.metrics.observe_request`` replaced by a no-op;
* ``no_log_line``: the ``portal.request`` logger above INFO (no line written), as
  ``REQUEST_LOG=off`` sets it: the metrics middleware alone;
* ``without``: ``RequestObservabilityMiddleware`` removed from ``MIDDLEWARE``.

Rates are requests per CPU second of this process (``time.process_time``), so other
work on the machine counts less; each variant's best round decides (noise on a shared
machine only ever slows a round down), medians and wall-clock rates are reported beside. The
share measured here is an upper bound of the share under gunicorn and wrk, whose own
per-request work (HTTP parsing, sockets, the load generator) only adds to the
denominator.

    .venv/bin/python bench/observability_overhead.py [--requests N] [--rounds R]

Writes ``bench/results/observability-overhead.{json,md}``. Instruction counts of the
same variants, which load does not move: ``bench/observability_callgrind.py``.
"""

import argparse
import io
import json
import logging
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"
BUDGET = 0.05


def configure_environment(tmp: Path, log_path: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            # /ping runs no SQL: an empty SQLite file keeps PostgreSQL out of it
            "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
            "SECRET_KEY": "bench-secret-key-not-used-anywhere-else-0123456789",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "ATTACHMENT_ENCRYPTION_KEYS": (
                "bench1:YmVuY2gtb25seS1hdHRhY2htZW50LWtleS0zMmJ5dGU="
            ),
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
        }
    )
    for name in ("REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "BENCH_COUNT_QUERIES"):
        os.environ.pop(name, None)
    # the production logging config writes to stderr: send it to a file, as journald
    # or a log shipper would take it
    sys.stderr.flush()
    handle = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(handle, 2)


def environ_for(path: str) -> dict:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_USER_AGENT": "wrk",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def handlers():
    from django.core.handlers.wsgi import WSGIHandler
    from django.test.utils import override_settings

    from portal import metrics

    full = WSGIHandler()
    observability = "portal.observability.RequestObservabilityMiddleware"
    from django.conf import settings

    assert observability in settings.MIDDLEWARE, settings.MIDDLEWARE
    rest = [name for name in settings.MIDDLEWARE if name != observability]
    with override_settings(MIDDLEWARE=rest):
        without = WSGIHandler()
    request_logger = logging.getLogger("portal.request")
    real_observe = metrics.observe_request

    def plain(handler):
        return handler, lambda: None, lambda: None

    def no_metrics():
        metrics.observe_request = lambda *args, **kwargs: None

    def restore_metrics():
        metrics.observe_request = real_observe

    def no_log():
        request_logger.setLevel(logging.WARNING)

    def restore_log():
        request_logger.setLevel(logging.NOTSET)

    return {
        "full": plain(full),
        "no_metrics": (full, no_metrics, restore_metrics),
        "no_log_line": (full, no_log, restore_log),
        "without": plain(without),
    }


def run_batch(handler, count: int) -> tuple[float, float]:
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(count):
        response = handler(environ_for("/ping"), start_response)
        for _chunk in response:
            pass
        response.close()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert statuses == ["200 OK"] * count, statuses[:3]
    return count / cpu, count / wall


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per batch")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--output", default=str(RESULTS / "observability-overhead"))
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-observability-"))
    log_path = tmp / "requests.log"
    saved_stderr = os.dup(2)
    configure_environment(tmp, log_path)
    try:
        result = measure(args, log_path)
    finally:
        os.dup2(saved_stderr, 2)  # errors show on the terminal, not in the log file
    output = Path(args.output)
    output.with_suffix(".json").write_text(json.dumps(result, indent=2) + "\n")
    output.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


def measure(args, log_path: Path) -> dict:
    import django

    django.setup()
    variants = handlers()
    for handler, enter, leave in variants.values():  # warm up
        enter()
        run_batch(handler, 200)
        leave()

    cpu_rates = {name: [] for name in variants}
    wall_rates = {name: [] for name in variants}
    order = list(variants)
    load_before = os.getloadavg()[0]
    for _ in range(args.rounds):
        random.shuffle(order)
        for name in order:
            handler, enter, leave = variants[name]
            enter()
            try:
                cpu, wall = run_batch(handler, args.requests)
            finally:
                leave()
            cpu_rates[name].append(cpu)
            wall_rates[name].append(wall)
    sys.stderr.flush()

    lines = log_path.read_text().splitlines()
    sample = json.loads(lines[-1]) if lines else {}
    best = {name: max(rates) for name, rates in cpu_rates.items()}
    median = {name: statistics.median(rates) for name, rates in cpu_rates.items()}
    base = best["without"]
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_before": round(load_before, 2),
        "requests_per_batch": args.requests,
        "rounds": args.rounds,
        "log_lines_written": len(lines),
        "log_line_sample": sample,
        "budget": BUDGET,
        "variants": {
            name: {
                "cpu_req_per_s_best": round(best[name], 1),
                "cpu_req_per_s_median": round(median[name], 1),
                "median_cost_vs_without": round(
                    1 - median[name] / median["without"], 4
                ),
                "cpu_req_per_s": [round(r, 1) for r in cpu_rates[name]],
                "wall_req_per_s_median": round(statistics.median(wall_rates[name]), 1),
                "cost_vs_without": round(1 - best[name] / base, 4),
                "us_per_request_vs_without": round(
                    (1 / best[name] - 1 / base) * 1e6, 1
                ),
            }
            for name in variants
        },
    }
    result["metrics_cost"] = round(1 - best["full"] / best["no_metrics"], 4)
    result["log_line_cost"] = round(1 - best["full"] / best["no_log_line"], 4)
    result["middleware_cost"] = result["variants"]["full"]["cost_vs_without"]
    # the metrics middleware: request id, metrics and SQL counter, without the line
    # (REQUEST_LOG=off); the whole stack: with the JSON line. Best round and median.
    variants = result["variants"]
    result["metrics_middleware_cost"] = {
        "best": variants["no_log_line"]["cost_vs_without"],
        "median": variants["no_log_line"]["median_cost_vs_without"],
    }
    result["whole_stack_cost"] = {
        "best": variants["full"]["cost_vs_without"],
        "median": variants["full"]["median_cost_vs_without"],
    }
    result["within_budget"] = max(result["metrics_middleware_cost"].values()) < BUDGET
    return result


def markdown(result: dict) -> str:
    rows = "\n".join(
        f"| {name} | {v['cpu_req_per_s_best']:.0f} | {v['cpu_req_per_s_median']:.0f}"
        f" | {v['wall_req_per_s_median']:.0f} | {v['us_per_request_vs_without']:+.1f}"
        f" | {v['cost_vs_without'] * 100:+.1f} % | {v['median_cost_vs_without'] * 100:+.1f} % |"
        for name, v in result["variants"].items()
    )
    verdict = "within" if result["within_budget"] else "over"
    m, w = result["metrics_middleware_cost"], result["whole_stack_cost"]
    return f"""# Observability middleware overhead (ceiling scenario, in-process)

{result["date"]} · commit {result["commit"]} · Python {result["python"]} · {result["cpus"]} CPUs ·
1-minute load average {result["load_average_before"]} before the run ·
{result["rounds"]} interleaved rounds of {result["requests_per_batch"]} `GET /ping` per variant,
`portal.settings.production`, JSON log lines at INFO written to a file
({result["log_lines_written"]} lines). Rates per CPU second of the process: best round
and median.

| variant | req/CPU-s best | req/CPU-s median | req/wall-s median | µs/request vs without (best) | cost vs without (best) | (median) |
|---|---:|---:|---:|---:|---:|---:|
{rows}

The metrics middleware (request id, metrics, SQL counter; `no_log_line`, which is
`REQUEST_LOG=off`) costs **{m["best"] * 100:.1f} %** (best rounds) /
**{m["median"] * 100:.1f} %** (medians) of the ceiling's requests/s ({verdict} the
{result["budget"] * 100:.0f} % budget); the whole stack with the JSON request line
**{w["best"] * 100:.1f} %** / **{w["median"] * 100:.1f} %**. Within it, the metrics
(`observe_request`) cost {result["metrics_cost"] * 100:.1f} % of the rate and the
JSON log line {result["log_line_cost"] * 100:.1f} % (best rounds).
How it is measured: `bench/observability_overhead.py`.
"""


if __name__ == "__main__":
    main()
