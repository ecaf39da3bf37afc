"""Benchmark harness: ``python bench/run.py --dataset reduced|full``.

Creates (or reuses) a PostgreSQL database, migrates it, generates the data set, serves
the project with gunicorn under production settings (DEBUG off, manifest static, Redis
cache), runs each scenario with wrk, and writes ``bench/results/latest.{json,md}``.
See bench/README.md.

Over 400 lines until split: the environment and process helpers are due to move to
bench/harness.py, leaving the scenarios and the report here.
"""

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
if not Path(PYTHON).exists():
    PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).parent / "gunicorn")
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")

# Sizes: the full set is the one the goals are stated for; the reduced one keeps the
# whole `make bench` under ten minutes on a 2-core machine.
DATASETS = {
    "reduced": {
        "generate": {
            "articles": 150,
            "tickets": 25000,
            "organizations": 100,
            "customers": 1000,
            "agents": 20,
            "queues": 5,
        },
        "duration": 8,
        "warmup": 2,
    },
    "full": {
        "generate": {
            "articles": 1500,
            "tickets": 250000,
            "organizations": 1000,
            "customers": 10000,
            "agents": 50,
            "queues": 5,
        },
        "duration": 30,
        "warmup": 5,
    },
    # Growth (issue 24): four times the full set; `make bench-xl`, not in CI.
    "xl": {
        "generate": {
            "articles": 1500,
            "tickets": 1000000,
            "organizations": 4000,
            "customers": 40000,
            "agents": 50,
            "queues": 5,
        },
        "duration": 30,
        "warmup": 5,
    },
}
READ_CONCURRENCY = 4
STATS_DAYS = 800  # the load data spans about 760 days
# A keyword of one topic (``portal.loaddata.text.TOPICS``): in a few % of the tickets'
# descriptions and replies, not in every one as the filler words are.
AGENT_SEARCH_TERM = "webhook"
PROBE_REPEATS = 10
WRITE_CONCURRENCY = 8

GOALS = [
    # (scenario, description, check(result) -> bool)
    (
        "kb_article",
        "≥ 0.5 of the ceiling's requests/s",
        lambda s: s["ratio_to_ceiling"] >= 0.5,
    ),
    ("kb_search", "p95 ≤ 50 ms", lambda s: s["p95_ms"] <= 50),
    ("portal_ticket_list", "p95 ≤ 100 ms", lambda s: s["p95_ms"] <= 100),
    ("agent_inbox", "p95 ≤ 150 ms", lambda s: s["p95_ms"] <= 150),
    ("agent_search", "p95 ≤ 100 ms", lambda s: s["p95_ms"] <= 100),
    (
        "graphql_tickets",
        "≤ 6 SQL queries and p95 ≤ 200 ms",
        lambda s: (
            s["sql_queries"] is not None
            and s["sql_queries"] <= 6
            and s["p95_ms"] <= 200
        ),
    ),
    ("yearly_report", "p95 ≤ 300 ms", lambda s: s["p95_ms"] <= 300),
    ("create_ticket", "≥ 100 requests/s", lambda s: s["rps"] >= 100),
    (
        "create_ticket_worker_paused",
        "≥ 100 requests/s (not a goal of its own: the web tier alone, jobs queued)",
        lambda s: s["rps"] >= 100,
    ),
]
RSS_GOAL_MB = 250


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


# --- environment ------------------------------------------------------------------------


def ensure_wrk() -> str:
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        sys.exit("wrk is not installed: sudo apt-get install wrk")
    log("installing Debian's wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
    return shutil.which("wrk")


def ensure_database(name: str, recreate: bool) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if exists and recreate:
            log(f"dropping database {name}")
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            log(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def child_env(database: str) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings.production",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "DB_CONN_MAX_AGE": "60",
        "SECRET_KEY": "bench-secret-key-not-used-anywhere-else-0123456789",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # A fixed bench-only key (not a secret): production refuses to start without one.
        "ATTACHMENT_ENCRYPTION_KEYS": "bench1:YmVuY2gtb25seS1hdHRhY2htZW50LWtleS0zMmJ5dGU=",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "REDIS_URL": REDIS_URL,
        "BENCH_COUNT_QUERIES": "1",
        # The per-token limit (120/m) would turn a load test into 429s; a huge limit
        # keeps the limiter's cost (two cache round trips) in the measurement.
        "GRAPHQL_RATE_LIMIT": "100000000/m",
        # Likewise the per-user filing limit (20/h): create_ticket files as one customer.
        "TICKET_CREATE_RATE_LIMIT": "100000000/m",
        # Staff MFA is enforced at login; the harness signs sessions in directly.
        "MFA_REQUIRED_FOR_STAFF": "false",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DEBUG", None)
    return env


def in_process_environment() -> None:
    """The server's environment (``child_env``) in this process, for the in-process
    measurements (``bench/filing_cpu.py``, ``graphql_tickets_cpu.py``,
    ``agent_search_profile.py``): the database and Redis that ``DATABASE_URL`` and
    ``REDIS_URL`` name, which must be a copy of a benchmark database, never the
    generated original (they write, and the runs would drift apart)."""
    database = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    if database in {f"bench_{name}" for name in DATASETS}:
        raise SystemExit(f"use a copy of {database}, never the original")
    env = child_env(database)
    env["REDIS_URL"] = os.environ.get("REDIS_URL", REDIS_URL)
    env["ALLOWED_HOSTS"] += ",testserver"  # Django's test client
    env["LOG_LEVEL"] = os.environ.get("LOG_LEVEL", "WARNING")  # a line a request
    os.environ.update({k: v for k, v in env.items() if k != "PATH"})


def manage(env: dict, *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout if capture else ""


STATE_SCRIPT = """
import json
from django.apps import apps
from portal.loaddata import already_generated
missing = []
for label, size in [("tickets.Ticket", "tickets"), ("kb.ArticlePage", "articles")]:
    try:
        model = apps.get_model(label)
    except LookupError:
        continue
    if not model.objects.exists():
        missing.append(size)
try:
    stats = apps.get_model("tickets.StatsSlice")
    ticket = apps.get_model("tickets.Ticket")
    no_stats = ticket.objects.exists() and not stats.objects.exists()
except LookupError:
    no_stats = False
print(json.dumps({"generated": already_generated(), "missing": missing,
                  "no_stats": no_stats}))
"""


def data_state(env: dict) -> dict:
    """Whether the load data exists, and which domains it lacks (a domain merged
    after the data set was generated)."""
    output = manage(env, "shell", "-c", STATE_SCRIPT, capture=True)
    return json.loads(output.strip().splitlines()[-1])


def flush_cache() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


QUEUE_KEY = "django_q:portal:q"  # django-q2's Redis list for the cluster "portal"


def queue_length() -> int:
    """Jobs waiting for the django-q2 cluster (the broker is the Redis database the
    benchmark uses)."""
    import redis

    return int(redis.Redis.from_url(REDIS_URL).llen(QUEUE_KEY))


def wait_drained(timeout: float = 600) -> dict:
    """How long the worker takes to work off what a scenario queued (notification
    emails, webhooks): jobs waiting when the scenario ended, and seconds to empty."""
    waiting = queue_length()
    started = time.monotonic()
    while queue_length() and time.monotonic() - started < timeout:
        time.sleep(0.5)
    return {
        "jobs_waiting_at_end": waiting,
        "drain_seconds": round(time.monotonic() - started, 1),
        "drained": queue_length() == 0,
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_LOAD_AT_START = [0.0]
# A run waits (up to ``BENCH_IDLE_WAIT`` seconds, default 300) for the 1-minute load
# average to fall to ``IDLE_LOAD`` before its servers start, so that the load left
# by the set-up (or a previous run) is not measured with it; the report states the
# load it started at and how long it waited.
IDLE_LOAD = 0.5
_IDLE_WAITED = [0]


def wait_for_idle() -> float:
    """Sleep until the 1-minute load average is at most ``IDLE_LOAD`` or
    ``BENCH_IDLE_WAIT`` seconds have passed; the load at the end."""
    limit = int(os.environ.get("BENCH_IDLE_WAIT", "300"))
    started = time.monotonic()
    while os.getloadavg()[0] > IDLE_LOAD and time.monotonic() - started < limit:
        time.sleep(5)
    _IDLE_WAITED[0] = round(time.monotonic() - started)
    _LOAD_AT_START[0] = os.getloadavg()[0]
    if _IDLE_WAITED[0]:
        log(
            f"waited {_IDLE_WAITED[0]} s for the load average to fall: "
            f"{_LOAD_AT_START[0]:.2f}"
        )
    return _LOAD_AT_START[0]


def machine_info(env: dict) -> dict:
    import psycopg

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(
        re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)
    )
    with psycopg.connect(
        env["DATABASE_URL"].replace("postgres://", "postgresql://")
    ) as c:
        pg = c.execute("SHOW server_version").fetchone()[0]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        text=True,
        capture_output=True,
    ).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "postgresql": pg,
        "python": platform.python_version(),
        "commit": commit,
        "note": (
            f"1-minute load average {_LOAD_AT_START[0]:.2f} before the servers started, "
            f"after waiting {_IDLE_WAITED[0]} s for it to fall to {IDLE_LOAD} "
            "(anything above ~0.5 means other work shared the CPU; during the run the "
            "benchmark's own server, worker, database and wrk raise it)"
        ),
    }


# --- processes --------------------------------------------------------------------------


def start_gunicorn(
    env: dict,
    port: int,
    workers: int,
    *,
    gunicorn: str = GUNICORN,
    app: str = "portal.wsgi",
    cwd: Path = ROOT,
) -> subprocess.Popen:
    """gunicorn with the benchmark's settings; ``gunicorn``, ``app`` and ``cwd`` let
    bench/peer.py serve another project (django-helpdesk) exactly the same way."""
    log(f"starting gunicorn ({app}) with {workers} workers on port {port}")
    return subprocess.Popen(
        [
            gunicorn,
            app,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--backlog",
            "2048",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=cwd,
        env=env,
        start_new_session=True,
    )


def start_qcluster(env: dict, nice: int = 0) -> subprocess.Popen:
    log(f"starting the django-q2 cluster (nice {nice})")
    return subprocess.Popen(
        [PYTHON, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=(lambda: os.nice(nice)) if nice else None,
    )


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_healthy(base: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last = exc
        time.sleep(0.5)
    raise SystemExit(f"gunicorn did not become healthy: {last}")


def descendants(pid: int) -> list[int]:
    children = []
    for path in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = path.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            child = int(path.parent.name)
            children.append(child)
            children.extend(descendants(child))
    return children


def rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return round(int(match.group(1)) / 1024, 1) if match else None


# --- scenarios --------------------------------------------------------------------------


class Http:
    def __init__(self, base: str, timeout: float = 30):
        self.base = base
        self.timeout = timeout
        self.opener = urllib.request.build_opener(NoRedirect)

    def request(self, scenario: dict) -> tuple[int, dict, bytes]:
        data = scenario.get("body")
        request = urllib.request.Request(
            self.base + scenario["path"],
            data=data.encode() if data else None,
            method=scenario.get("method", "GET"),
            headers=scenario.get("headers", {}),
        )
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def build_scenarios(targets: dict) -> list[dict]:
    def cookie(session_key):
        return {"Cookie": f"sessionid={session_key}"}

    def graphql(document_file, variables, token):
        query = (BENCH / "graphql" / document_file).read_text()
        return {
            "path": "/graphql/",
            "method": "POST",
            "body": json.dumps({"query": query, "variables": variables}),
            "headers": {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {token}",
            },
            "check_body": '"errors"',
        }

    scenarios = [
        {"name": "ceiling", "path": "/ping"},
        {"name": "kb_article", "path": targets["article_path"]},
        {"name": "kb_search", "path": f"/kb/search/?q={targets['search_term']}"},
        {
            "name": "portal_ticket_list",
            "path": "/portal/tickets/",
            "headers": cookie(targets["customer_session"]),
        },
        {
            "name": "agent_inbox",
            "path": "/admin/helpdesk/tickets/",
            "headers": cookie(targets["agent_session"]),
        },
        {
            "name": "kb_article_signed_in",
            "path": targets["article_path"],
            "headers": cookie(targets["customer_session"]),
        },
        {
            "name": "agent_ticket",
            "path": targets["agent_busy_ticket_path"],
            "headers": cookie(targets["agent_session"]),
        },
        {
            # the inbox searching the conversations: a word of the replies and notes
            # (the generated ones mix 60 filler words with each topic's keywords)
            "name": "agent_search",
            "path": f"/admin/helpdesk/tickets/?q={AGENT_SEARCH_TERM}",
            "headers": cookie(targets["agent_session"]),
        },
        {
            "name": "graphql_tickets",
            **graphql("tickets.graphql", {"first": 100}, targets["agent_token"]),
        },
        {
            "name": "yearly_report",
            "path": "/admin/helpdesk/reports/?period=year&dimension=organization",
            "headers": cookie(targets["supervisor_session"]),
        },
        {
            "name": "create_ticket",
            **graphql(
                "create_ticket.graphql",
                {
                    "input": {
                        "subject": "Benchmark: printer on fire",
                        "description": "Created by the benchmark harness.",
                        "priority": "MEDIUM",
                    }
                },
                targets["filer_token"],
            ),
            "check_body": '"messages"',
            "concurrency": WRITE_CONCURRENCY,
        },
    ]
    # The same filing with the job worker paused while the load runs (as when the
    # workers run on other hosts): the web tier's own throughput; the jobs queue up and
    # the worker works them off afterwards (reported as its backlog and drain time).
    scenarios.append(
        {
            **scenarios[-1],
            "name": "create_ticket_worker_paused",
            "pause_worker": True,
        }
    )
    return scenarios


def probe(http: Http, scenario: dict) -> dict:
    """Single requests before the load: a 404 or a GraphQL error on an unknown field
    means the feature is not there yet. The SQL count is the steady state: the most
    frequent count over ten warm requests, which reach every server process (a
    process's first request also fills its own caches); the highest is kept too."""
    first_status, first_headers, _ = http.request(scenario)
    status, headers, body = http.request(scenario)
    counts = [_int_or_none(headers.get("X-SQL-Queries"))]
    for _ in range(PROBE_REPEATS - 1):
        counts.append(_int_or_none(http.request(scenario)[1].get("X-SQL-Queries")))
    known = [c for c in counts if c is not None]
    info = {
        "probe_status": status,
        "sql_queries_first": _int_or_none(first_headers.get("X-SQL-Queries")),
        "sql_queries": max(set(known), key=lambda c: (known.count(c), c))
        if known
        else None,
        "sql_queries_max": max(known) if known else None,
    }
    if status == 404 or first_status == 404:
        info["skipped"] = "not available"
    elif scenario["path"] == "/graphql/" and status in (200, 400):
        payload = json.loads(body or b"{}")
        errors = payload.get("errors") or []
        if errors:
            messages = "; ".join(e.get("message", "") for e in errors)[:300]
            if "Cannot query field" in messages or "Unknown type" in messages:
                info["skipped"] = f"not available ({messages})"
            else:
                info["skipped"] = f"probe failed: {messages}"
    elif status >= 400 or (300 <= status < 400 and scenario["name"] != "ceiling"):
        location = headers.get("Location", "")
        info["skipped"] = f"probe returned {status} {location}".strip()
    return info


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def run_wrk(wrk: str, base: str, scenario: dict, seconds: int, workdir: Path) -> dict:
    env = {
        **os.environ,
        "BENCH_METHOD": scenario.get("method", "GET"),
        "BENCH_HEADERS": "\n".join(
            f"{k}: {v}" for k, v in scenario.get("headers", {}).items()
        ),
        "BENCH_CHECK_BODY": scenario.get("check_body", ""),
        "BENCH_BODY_FILE": "",
    }
    if scenario.get("body"):
        body_file = workdir / f"{scenario['name']}.body"
        body_file.write_text(scenario["body"])
        env["BENCH_BODY_FILE"] = str(body_file)
    concurrency = scenario.get("concurrency", READ_CONCURRENCY)
    result = subprocess.run(
        [
            wrk,
            "-t1",
            f"-c{concurrency}",
            f"-d{seconds}s",
            "--timeout",
            f"{scenario.get('timeout_s', 10)}s",
            "-s",
            str(BENCH / "lua" / "scenario.lua"),
            base + scenario["path"],
        ],
        env=env,
        text=True,
        capture_output=True,
        check=False,
    )
    line = next(
        (ln for ln in result.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None
    )
    if line is None:
        raise RuntimeError(f"wrk failed: {result.stdout}\n{result.stderr}")
    return json.loads(line[len("BENCH_JSON ") :])


def summarize(name: str, raw: dict, info: dict, concurrency: int) -> dict:
    seconds = raw["duration_us"] / 1e6
    socket_errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "name": name,
        "rps": round(raw["requests"] / seconds, 1) if seconds else 0.0,
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "errors": raw["status"] + socket_errors + raw["app_errors"],
        "error_detail": {
            "http_status": raw["status"],
            "socket": socket_errors,
            "application": raw["app_errors"],
        },
        "sql_queries": info["sql_queries"],
        "sql_queries_first": info["sql_queries_first"],
        "sql_queries_max": info.get("sql_queries_max"),
        "ratio_to_ceiling": None,
        "requests": raw["requests"],
        "concurrency": concurrency,
        "duration_s": round(seconds, 1),
    }


# --- report -----------------------------------------------------------------------------


def goals_table(report: dict) -> list[tuple[str, str, str]]:
    by_name = {s["name"]: s for s in report["scenarios"]}
    rows = []
    for name, text, check in GOALS:
        scenario = by_name.get(name)
        if scenario is None or scenario.get("skipped"):
            verdict = "not measured"
        else:
            verdict = "met" if check(scenario) else "NOT met"
        rows.append((name, text, verdict))
    measured = [s for s in report["scenarios"] if not s.get("skipped")]
    rows.append(
        (
            "all scenarios",
            "zero errors",
            "met"
            if measured and all(s["errors"] == 0 for s in measured)
            else "NOT met",
        )
    )
    rss = report["worker_rss_mb"]
    largest = max(
        [v for v in rss["gunicorn_workers"] + rss["qcluster_processes"] if v],
        default=None,
    )
    rows.append(
        (
            "worker RSS",
            f"≤ {RSS_GOAL_MB} MB per worker process",
            "not measured"
            if largest is None
            else ("met" if largest <= RSS_GOAL_MB else "NOT met")
            + f" (max {largest} MB)",
        )
    )
    return rows


def write_markdown(report: dict, path: Path) -> None:
    m = report["machine"]
    lines = [
        f"# Benchmark results: {report['dataset']} data set",
        "",
        f"{report['finished_at']} · {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM · "
        f"PostgreSQL {m['postgresql']} · Python {m['python']} · commit {m['commit']}",
        "",
        f"gunicorn {report['server']['workers']} sync workers, Redis cache, "
        f"wrk {report['server']['duration_s']} s per scenario; {m['note']}; before and "
        "after each scenario: latest.json.",
        "",
        "| scenario | req/s | p50 ms | p95 ms | p99 ms | errors | SQL/request | ratio to ceiling |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in report["scenarios"]:
        if s.get("skipped"):
            lines.append(f"| {s['name']} | skipped: {s['skipped']} | | | | | | |")
            continue
        ratio = "" if s["ratio_to_ceiling"] is None else f"{s['ratio_to_ceiling']:.2f}"
        lines.append(
            f"| {s['name']} | {s['rps']:.1f} | {s['p50_ms']} | {s['p95_ms']} | "
            f"{s['p99_ms']} | {s['errors']} | {s['sql_queries']} | {ratio} |"
        )
    rss = report["worker_rss_mb"]
    lines += [
        "",
        f"Worker RSS after the run (MB): gunicorn workers {rss['gunicorn_workers']}, "
        f"django-q2 cluster processes {rss['qcluster_processes']}.",
    ]
    nice = report["server"].get("qcluster_nice", 0)
    for s in report["scenarios"]:
        worker = s.get("worker")
        if worker:
            lines += [
                "",
                f"Job worker after `{s['name']}` (django-q2, {report['server']['workers']}"
                f" gunicorn workers beside it, cluster at nice {nice}"
                + (
                    ", paused during the load"
                    if worker.get("paused_during_load")
                    else ""
                )
                + "): "
                f"{worker['jobs_waiting_at_end']} jobs (notification emails, webhooks) "
                f"were waiting when the load stopped; "
                + (
                    f"all done {worker['drain_seconds']} s later."
                    if worker["drained"]
                    else f"still not done after {worker['drain_seconds']} s."
                ),
            ]
    lines += [
        "",
        "Where the time goes: `bench/results/profiles/<scenario>.txt` (one request replayed "
        "in-process: SQL time and statements by shape, cProfile top functions); plans and "
        "proposals: `bench/FINDINGS.md`.",
        "",
        "## Goals",
        "",
        "| scenario | goal | result |",
        "|---|---|---|",
    ]
    lines += [f"| {n} | {t} | {v} |" for n, t, v in goals_table(report)]
    counts = report.get("data", {})
    if counts:
        lines += ["", "## Data", ""]
        lines += [f"- {k}: {v}" for k, v in counts.items()]
    path.write_text("\n".join(lines) + "\n")


# --- main -------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="reduced")
    parser.add_argument(
        "--recreate", action="store_true", help="drop the database first"
    )
    parser.add_argument("--duration", type=int, help="seconds per scenario")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument(
        "--only", help="comma-separated scenario names (ceiling always runs)"
    )
    parser.add_argument("--output", default=str(RESULTS / "latest"))
    parser.add_argument(
        "--no-profile", action="store_true", help="skip the per-scenario profiles"
    )
    parser.add_argument(
        "--data-only", action="store_true", help="prepare the database and stop"
    )
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="do not start the django-q2 cluster (measure the web tier alone; jobs "
        "queued by the writes are left in the queue)",
    )
    parser.add_argument(
        "--worker-nice",
        type=int,
        default=10,
        help="nice level of the django-q2 cluster (default 10: below the web server, "
        "as a deployment sharing one host would run it; 0: same priority)",
    )
    args = parser.parse_args(argv)

    dataset = DATASETS[args.dataset]
    duration = args.duration or dataset["duration"]
    database = f"bench_{args.dataset}"
    started = time.monotonic()

    wrk = ensure_wrk()
    ensure_database(database, args.recreate)
    env = child_env(database)
    log("migrating")
    manage(env, "migrate", "--noinput", "-v0")
    log("collecting static files")
    manage(env, "collectstatic", "--noinput", "-v0")
    state = data_state(env)
    if state["generated"] and state["missing"]:
        log(f"the data set lacks {', '.join(state['missing'])}: rebuilding it")
        ensure_database(database, recreate=True)
        manage(env, "migrate", "--noinput", "-v0")
        state = data_state(env)
    if state["generated"]:
        log(f"reusing the data in {database} (use --recreate to rebuild it)")
        if state.get("no_stats"):
            # A data set generated before the statistics roll-ups were merged.
            log("filling the statistics roll-ups")
            manage(env, "backfill_stats", f"--days={STATS_DAYS}")
    else:
        log("generating load data")
        options = [f"--{k}={v}" for k, v in dataset["generate"].items()]
        generation_started = time.monotonic()
        manage(env, "generate_load_data", *options)
        log(f"generated in {time.monotonic() - generation_started:.0f} s")
    if args.data_only:
        return 0
    targets = json.loads(
        subprocess.run(
            [PYTHON, str(BENCH / "prepare.py")],
            cwd=ROOT,
            env=env,
            check=True,
            text=True,
            capture_output=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    flush_cache()

    wait_for_idle()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = qcluster = None
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    scenarios_out = []
    try:
        server = start_gunicorn(env, port, args.workers)
        wait_healthy(base)
        qcluster = None if args.no_worker else start_qcluster(env, args.worker_nice)
        http = Http(base)
        only = set(args.only.split(",")) if args.only else None
        scenario_specs = build_scenarios(targets)
        for scenario in scenario_specs:
            name = scenario["name"]
            if only and name != "ceiling" and name not in only:
                continue
            info = probe(http, scenario)
            if info.get("skipped"):
                log(f"{name}: skipped ({info['skipped']})")
                scenarios_out.append({"name": name, "skipped": info["skipped"]})
                continue
            concurrency = scenario.get("concurrency", READ_CONCURRENCY)
            paused = bool(scenario.get("pause_worker") and qcluster is not None)
            if paused:
                os.killpg(qcluster.pid, signal.SIGSTOP)
            try:
                run_wrk(wrk, base, scenario, dataset["warmup"], workdir)
                load_before = os.getloadavg()[0]
                raw = run_wrk(wrk, base, scenario, duration, workdir)
            finally:
                if paused:
                    os.killpg(qcluster.pid, signal.SIGCONT)
            result = summarize(name, raw, info, concurrency)
            result["load_average"] = [
                round(load_before, 2),
                round(os.getloadavg()[0], 2),
            ]
            log(
                f"{name}: {result['rps']} req/s, p95 {result['p95_ms']} ms, "
                f"{result['errors']} errors, {result['sql_queries']} queries"
            )
            if name.startswith("create_ticket") and qcluster is not None:
                result["worker"] = {**wait_drained(), "paused_during_load": paused}
                log(f"{name}: worker backlog {result['worker']}")
            scenarios_out.append(result)
        time.sleep(2)  # let the cluster pick up what the writes queued
        rss = {
            "gunicorn_workers": [rss_mb(p) for p in descendants(server.pid)],
            "qcluster_processes": [
                rss_mb(p) for p in [qcluster.pid, *descendants(qcluster.pid)]
            ]
            if qcluster is not None
            else [],
        }
    finally:
        stop(qcluster)
        stop(server)

    output = Path(args.output)
    measured = {s["name"] for s in scenarios_out if not s.get("skipped")} - {"ceiling"}
    if measured and not args.no_profile:
        log("profiling one request of each scenario in-process")
        specs = [s for s in scenario_specs if s["name"] in measured]
        subprocess.run(
            [
                PYTHON,
                str(BENCH / "profile_requests.py"),
                str(output.parent / "profiles"),
            ],
            cwd=ROOT,
            env={**env, "ALLOWED_HOSTS": "testserver,127.0.0.1"},
            input=json.dumps(specs),
            text=True,
            check=False,
        )

    ceiling = next((s for s in scenarios_out if s["name"] == "ceiling"), None)
    for s in scenarios_out:
        if not s.get("skipped") and ceiling and ceiling.get("rps"):
            s["ratio_to_ceiling"] = round(s["rps"] / ceiling["rps"], 3)
    report = {
        "dataset": args.dataset,
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(env),
        "server": {
            "workers": args.workers,
            "worker_class": "sync",
            "duration_s": duration,
            "read_concurrency": READ_CONCURRENCY,
            "write_concurrency": WRITE_CONCURRENCY,
            "driver": "wrk (1 thread)",
            "qcluster_nice": args.worker_nice,
        },
        "data": {**dataset["generate"], **targets.get("counts", {})},
        "scenarios": scenarios_out,
        "worker_rss_mb": rss,
        "elapsed_s": round(time.monotonic() - started),
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    write_markdown(report, output.with_suffix(".md"))
    log(f"wrote {output}.json and {output}.md in {report['elapsed_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
