"""Side by side with django-helpdesk: ``python bench/peer.py`` (``make bench-peer``).

Over 400 lines on purpose: one script, the whole side-by-side run (set-up, probes, alternation, report).

1. installs the latest django-helpdesk from PyPI into its own virtual environment
   ``bench/.peer/venv`` (git-ignored; never ours), with our versions of Django,
   gunicorn, psycopg and redis so that only the applications differ;
2. writes its Django project into ``bench/.peer/project`` (bench/peer_project.py);
3. builds the same data set in two PostgreSQL databases: ours (``bench_peer_ours``,
   ``manage.py generate_load_data`` with the reduced sizes and 1,500 articles) and the
   peer's (``bench_peer_helpdesk``, bench/peer_site.py run in the peer's environment);
4. signs the scenario users in on both sides (bench/prepare.py, bench/peer_site.py);
5. serves both with the same gunicorn settings (bench/run.py's ``start_gunicorn``),
   checks every scenario answers with real content (the expected status and a marker
   in the body, never a sign-in redirect), then measures each scenario with wrk
   alternately, ours then the peer's, ``--rounds`` times, and reports medians,
   the ratio ours/peer and errors in ``bench/results/peer.{json,md}``.

See bench/README.md ("Side by side with django-helpdesk").
"""

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Redis database 14: this benchmark's own (cache, sessions, queued jobs of both sides).
os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")

from bench import run as harness  # noqa: E402
from bench.peer_project import write_project  # noqa: E402

PEER = harness.BENCH / ".peer"
VENV = PEER / "venv"
PEER_PYTHON = VENV / "bin" / "python"
PEER_GUNICORN = VENV / "bin" / "gunicorn"
PROJECT = PEER / "project"
PEER_SITE = harness.BENCH / "peer_site.py"
OURS_DB = "bench_peer_ours"
PEER_DB = "bench_peer_helpdesk"
# The reduced set, with 1,500 knowledge-base articles (issue 24's comparison).
SIZES = {**harness.DATASETS["reduced"]["generate"], "articles": 1500}
SAME_VERSIONS = ["Django", "gunicorn", "psycopg", "psycopg-binary", "redis"]
# A fixed CSRF secret (32 characters, as Django's cookie holds): the form posts send
# it as the cookie and as ``csrfmiddlewaretoken``, which Django accepts unmasked.
CSRF = "benchpeercsrfsecret0123456789xyz"
FILED_DESCRIPTION = "Created by the benchmark harness."  # bench/prepare.py removes them
RATIO_GOAL = 2.0
PROBE_REPEATS = 4
# wrk's timeout, for both sides: gunicorn's own (60 s). Some of the peer's pages take
# longer than bench/run.py's 10 s on a busy machine; they are slow, not failed.
WRK_TIMEOUT_S = 60


def log(message: str) -> None:
    harness.log(f"bench-peer: {message}")


# --- the peer's environment and project ---------------------------------------------


def install_peer() -> dict:
    """The latest django-helpdesk, with our versions of the shared packages."""
    if not PEER_PYTHON.exists():
        log(f"creating {VENV.relative_to(ROOT)}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pins = [f"{name}=={version(name)}" for name in SAME_VERSIONS]
    log("installing the latest django-helpdesk from PyPI into its own environment")
    subprocess.run(
        [str(PEER_PYTHON), "-m", "pip", "install", "--quiet"]
        + ["--disable-pip-version-check", "--upgrade", "django-helpdesk", *pins],
        check=True,
    )
    script = (
        "import json; from importlib.metadata import version as v; "
        "print(json.dumps({n: v(n) for n in "
        "['django-helpdesk', 'Django', 'djangorestframework', 'gunicorn']}))"
    )
    found = subprocess.run(
        [str(PEER_PYTHON), "-c", script], check=True, text=True, capture_output=True
    )
    return json.loads(found.stdout)


# The peer project's SECRET_KEY: made afresh for each run, the same for every process of
# the run (sessions signed in by the set-up script are read by the peer's workers).
PEER_SECRET_KEY = secrets.token_urlsafe(50)


def peer_env() -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "benchpeer.settings",
        "PEER_SECRET_KEY": PEER_SECRET_KEY,
        "PYTHONPATH": str(PROJECT),
        "PEER_DATABASE": PEER_DB,
        "PEER_REDIS_URL": harness.REDIS_URL,
        "PEER_STATIC_ROOT": str(PEER / "static"),
        "PEER_MEDIA_ROOT": str(PEER / "media"),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("DATABASE_URL", "DEBUG", "VIRTUAL_ENV"):
        env.pop(name, None)
    return env


def peer_run(env: dict, *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [str(PEER_PYTHON), *args],
        cwd=PROJECT,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return result.stdout if capture else ""


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


# --- data and credentials -----------------------------------------------------------


def prepare_ours(recreate: bool) -> tuple[dict, dict]:
    harness.ensure_database(OURS_DB, recreate)
    env = harness.child_env(OURS_DB)
    log(f"ours: migrating {OURS_DB}")
    harness.manage(env, "migrate", "--noinput", "-v0")
    harness.manage(env, "collectstatic", "--noinput", "-v0")
    state = harness.data_state(env)
    if state["generated"] and state["missing"]:
        log(f"ours: the data set lacks {', '.join(state['missing'])}: rebuilding it")
        harness.ensure_database(OURS_DB, recreate=True)
        harness.manage(env, "migrate", "--noinput", "-v0")
        state = harness.data_state(env)
    if not state["generated"]:
        log("ours: generating the data set")
        started = time.monotonic()
        harness.manage(
            env, "generate_load_data", *[f"--{k}={v}" for k, v in SIZES.items()]
        )
        log(f"ours: generated in {time.monotonic() - started:.0f} s")
    output = subprocess.run(
        [harness.PYTHON, str(harness.BENCH / "prepare.py")],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        capture_output=True,
    ).stdout
    return env, last_json(output)


def prepare_peer(recreate: bool) -> tuple[dict, dict]:
    harness.ensure_database(PEER_DB, recreate)
    write_project(PROJECT)
    env = peer_env()
    log(f"peer: migrating {PEER_DB}")
    peer_run(env, "manage.py", "migrate", "--noinput", "-v0")
    started = time.monotonic()
    output = peer_run(
        env,
        str(PEER_SITE),
        "generate",
        *[f"--{k}={v}" for k, v in SIZES.items()],
        capture=True,
    )
    log(f"peer: data {output.strip()} ({time.monotonic() - started:.0f} s)")
    return env, last_json(peer_run(env, str(PEER_SITE), "prepare", capture=True))


# --- scenarios ----------------------------------------------------------------------


def cookie(session: str, csrf: bool = False) -> dict:
    value = f"sessionid={session}" + (f"; csrftoken={CSRF}" if csrf else "")
    return {"Cookie": value}


def form_post(path: str, session: str, fields: dict, location: str) -> dict:
    """A signed-in form post with a valid CSRF pair; success is a redirect to
    ``location…`` (a form shown again, with errors, counts as an error)."""
    return {
        "path": path,
        "method": "POST",
        "body": urlencode({**fields, "csrfmiddlewaretoken": CSRF}),
        "headers": {
            **cookie(session, csrf=True),
            "Content-Type": "application/x-www-form-urlencoded",
        },
        "check_body": "<form",
        "expect_status": 302,
        "expect_location": location,
        "concurrency": harness.WRITE_CONCURRENCY,
    }


def build_pairs(ours: dict, peer: dict) -> list[dict]:
    """Each scenario: ours and the peer's request for the same page (``peer`` None
    where the peer has no such page), with what the answer must contain."""
    base = {s["name"]: s for s in harness.build_scenarios(ours)}
    article = ours["article_title"]
    return [
        {
            "name": "kb_article_cached",
            "title": "KB article, anonymous (ours: the page cache)",
            "ours": {**base["kb_article"], "expect": article},
            "peer": {"path": peer["kb_path"], "expect": peer["kb_title"]},
        },
        {
            "name": "kb_article_signed_in",
            "title": "KB article, signed-in customer (no page cache)",
            "ours": {
                **base["kb_article"],
                "headers": cookie(ours["customer_session"]),
                "expect": article,
            },
            "peer": {
                "path": peer["kb_path"],
                "headers": cookie(peer["customer_session"]),
                "expect": peer["kb_title"],
            },
        },
        {
            "name": "kb_search",
            "title": "KB search (the peer has none)",
            "ours": {**base["kb_search"], "expect": 'href="/kb/'},
            "peer": None,
        },
        {
            "name": "portal_ticket_list",
            "title": "customer's ticket list (peer: /api/user_tickets/, what its "
            "'my tickets' page loads)",
            "ours": {**base["portal_ticket_list"], "expect": "/portal/tickets/HD-"},
            "peer": {
                "path": "/api/user_tickets/",
                "headers": cookie(peer["customer_session"]),
                "expect": '"results":[{',
            },
        },
        {
            "name": "agent_inbox",
            "title": "staff inbox page (peer: /tickets/, its rows come separately)",
            "ours": {**base["agent_inbox"], "expect": "/admin/helpdesk/tickets/HD-"},
            "peer": {
                "path": "/tickets/",
                "headers": cookie(peer["agent_session"]),
                "expect": "datatables_ticket_list",
            },
        },
        {
            "name": "agent_inbox_rows",
            "title": "staff inbox rows (ours: the same page; peer: its datatables "
            "JSON, 25 rows)",
            "ours": {**base["agent_inbox"], "expect": "/admin/helpdesk/tickets/HD-"},
            "peer": {
                "path": peer["inbox_data_path"],
                "headers": cookie(peer["agent_session"]),
                "expect": '"data": [{',
            },
        },
        {
            "name": "agent_ticket",
            "title": "staff ticket page, 3 comments (ours: the workspace)",
            "ours": {
                "path": ours["agent_ticket_path"],
                "headers": cookie(ours["agent_session"]),
                "expect": ours["agent_ticket_subject"],
            },
            "peer": {
                "path": peer["ticket_path"],
                "headers": cookie(peer["agent_session"]),
                "expect": peer["ticket_title"],
            },
        },
        {
            "name": "create_ticket",
            "title": "a customer files a ticket (portal form POST)",
            "ours": form_post(
                "/portal/tickets/new/",
                ours["filer_session"],
                {
                    "subject": "Benchmark: printer on fire",
                    "description": FILED_DESCRIPTION,
                    "category": "technical",
                    "priority": "medium",
                },
                "/portal/tickets/HD-",
            ),
            "peer": form_post(
                "/tickets/submit/",
                peer["filer_session"],
                {
                    "title": "Benchmark: printer on fire",
                    "body": FILED_DESCRIPTION,
                    "priority": "3",
                    "submitter_email": peer["filer_email"],
                },
                "/view/?ticket=",
            ),
        },
        {
            "name": "api_tickets_100",
            "title": "API: 100 tickets (ours: GraphQL with comments; peer: REST "
            "/api/tickets/?page_size=100)",
            "ours": {**base["graphql_tickets"], "expect": '"edges"'},
            "peer": {
                "path": "/api/tickets/?page_size=100",
                "headers": cookie(peer["agent_session"]),
                "expect": '"results":[{',
            },
        },
    ]


def check(http: harness.Http, side: dict, workers: int) -> dict:
    """One request: the expected status, no sign-in redirect, the marker in the body;
    then, after two more requests per server process (a process's first request of a
    page also fills its own caches: ours' first KB search costs 11 statements, every
    later one 1), the SQL count as bench/run.py's probe takes it (the most frequent,
    ties to the higher). Without that warm-up the first requests reach a new process
    each, and four samples over four processes counted cold ones (bench FINDINGS P-2)."""
    try:
        status, headers, body = http.request(side)
    except OSError as error:  # e.g. no answer within Http's 30 s
        return {"skipped": f"content check failed: {error}"}
    problems = []
    if status != side.get("expect_status", 200):
        problems.append(f"status {status} {headers.get('Location', '')}".strip())
    if side.get("expect_location") and side["expect_location"] not in headers.get(
        "Location", ""
    ):
        problems.append(f"redirected to {headers.get('Location')!r}")
    if side.get("expect") and side["expect"].encode() not in body:
        problems.append(f"{side['expect']!r} not in the answer")
    if problems:
        return {"skipped": "content check failed: " + "; ".join(problems)}
    # Twice per process: the server does not hand requests to its processes in turn.
    # Filings too (a process's first filing fills its kept statements and defaults:
    # four cold samples counted 14 statements where the 6,203 filings under load cost
    # 11 each, bench FINDINGS P-2); rows are counted around the measured runs only.
    for _ in range(2 * workers):
        http.request(side)
    if side.get("method") == "POST" and side["path"] != "/graphql/":
        counts = [
            harness._int_or_none(http.request(side)[1].get("X-SQL-Queries"))
            for _ in range(harness.PROBE_REPEATS)
        ]
        known = [c for c in counts if c is not None]
        return {
            "sql_queries_first": None,
            "sql_queries": max(set(known), key=lambda c: (known.count(c), c))
            if known
            else None,
            "sql_queries_max": max(known) if known else None,
        }
    return harness.probe(http, side)


def filed_rows(side_name: str) -> int:
    import psycopg

    database, table = (
        (OURS_DB, "tickets_ticket")
        if side_name == "ours"
        else (PEER_DB, "helpdesk_ticket")
    )
    url = f"postgresql://postgres@127.0.0.1:5432/{database}"
    with psycopg.connect(url) as conn:
        return conn.execute(
            f"SELECT count(*) FROM {table} WHERE description = %s",  # noqa: S608
            [FILED_DESCRIPTION],
        ).fetchone()[0]


def cpu_ticks(server) -> int:
    total = 0
    for pid in harness.descendants(server.pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def settle(server, timeout: float = WRK_TIMEOUT_S) -> float:
    """Waits until the server's workers are idle. wrk stops counting at the end of a
    run, but gunicorn finishes the requests it had accepted: a page that takes
    seconds would keep every worker busy into the next run (the first run of this
    benchmark measured the peer at 0 requests/s that way). Idle: under 2 ticks of
    CPU in half a second. Returns the seconds waited."""
    started = time.monotonic()
    before = cpu_ticks(server)
    while time.monotonic() - started < timeout:
        time.sleep(0.5)
        now = cpu_ticks(server)
        if now - before < 2:
            break
        before = now
    return round(time.monotonic() - started, 1)


def measure(wrk, base, side, name, duration, warmup, workdir, server) -> dict:
    spec = {**side, "name": name, "timeout_s": WRK_TIMEOUT_S}
    harness.run_wrk(wrk, base, spec, warmup, workdir)
    settled_before = settle(server)
    filing = side.get("method") == "POST" and side["path"] != "/graphql/"
    side_name = name.rsplit("-", 1)[-1]
    rows_before = filed_rows(side_name) if filing else None
    load_before = os.getloadavg()[0]
    raw = harness.run_wrk(wrk, base, spec, duration, workdir)
    settled_after = settle(server)
    concurrency = side.get("concurrency", harness.READ_CONCURRENCY)
    result = harness.summarize(name, raw, side["info"], concurrency)
    result["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    result["settle_s"] = [settled_before, settled_after]
    if filing:
        result["rows_created"] = filed_rows(side_name) - rows_before
    return result


def median_of(runs: list[dict]) -> dict:
    keys = ("rps", "p50_ms", "p95_ms", "p99_ms")
    return {
        **{k: round(statistics.median(r[k] for r in runs), 1) for k in keys},
        "errors": sum(r["errors"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "sql_queries": runs[0]["sql_queries"],
        "sql_queries_max": runs[0]["sql_queries_max"],
        "rps_runs": [r["rps"] for r in runs],
        "requests_runs": [r["requests"] for r in runs],
        "load_average": [r["load_average"] for r in runs],
        **(
            {"rows_created": sum(r["rows_created"] for r in runs)}
            if "rows_created" in runs[0]
            else {}
        ),
    }


# --- report -------------------------------------------------------------------------


def write_markdown(report: dict, path: Path) -> None:
    m = report["machine"]
    p = report["peer"]
    loads = [
        value
        for s in report["scenarios"]
        for side in ("ours", "peer")
        if isinstance(s.get(side), dict)
        for pair in s[side].get("load_average", [])
        for value in pair
    ]
    lines = [
        "# Side by side with django-helpdesk",
        "",
        f"{report['finished_at']} · {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB "
        f"RAM · PostgreSQL {m['postgresql']} · Python {m['python']} · commit "
        f"{m['commit']} · django-helpdesk {p['django-helpdesk']} (Django "
        f"{p['Django']}, DRF {p['djangorestframework']}) beside ours (Django "
        f"{report['ours_django']})",
        "",
        f"Both served by gunicorn {p['gunicorn']}, {report['server']['workers']} sync "
        "workers each, the same PostgreSQL and Redis; wrk (1 thread, "
        f"{harness.READ_CONCURRENCY} connections, {harness.WRITE_CONCURRENCY} for "
        f"filing), {report['server']['duration_s']} s per run after a "
        f"{report['server']['warmup_s']} s warm-up, {report['rounds']} rounds "
        "alternating ours then the peer's; medians. No job worker on either side "
        "(ours queues its notification jobs, the peer renders its emails and drops "
        "them).",
        "",
        f"**Load:** 1-minute load average {report['load_average_at_start']:.2f} before "
        f"the servers started (after waiting {report.get('waited_for_idle_s', 0)} s "
        "for it to fall)"
        + (f", {min(loads):.2f}–{max(loads):.2f} around the runs" if loads else "")
        + ". "
        + (
            "The machine was shared with other work: these figures must be rerun on "
            "an idle machine before they are quoted."
            if report["load_average_at_start"] > 0.5
            else "The machine was quiet."
        ),
        "",
        "| scenario | ours req/s | ours p95 ms | ours SQL | peer req/s | peer p95 ms "
        "| peer SQL | ratio ours/peer | ≥ 2× | errors ours / peer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for s in report["scenarios"]:
        o, q = s.get("ours"), s.get("peer")
        if not isinstance(o, dict) or "rps" not in o:
            lines.append(
                f"| {s['name']} | {s.get('ours_skipped', 'not measured')} "
                "| | | | | | | | |"
            )
            continue
        if isinstance(q, dict) and "rps" in q:
            peer_cells = f"{q['rps']:.1f} | {q['p95_ms']} | {q['sql_queries']}"
            if s["ratio"] is None:
                ratio, goal = "n/a", "n/a (the peer answered no request in a run)"
            else:
                ratio = f"{s['ratio']:.2f}×"
                goal = "met" if s["ratio"] >= RATIO_GOAL else "NOT met"
            errors = f"{o['errors']} / {q['errors']}"
        else:
            peer_cells = f"{s.get('peer_skipped', 'absent')} | |"
            ratio, goal, errors = "", "", f"{o['errors']} / –"
        lines.append(
            f"| {s['name']} | {o['rps']:.1f} | {o['p95_ms']} | {o['sql_queries']} | "
            f"{peer_cells} | {ratio} | {goal} | {errors} |"
        )
    lines += ["", "Scenarios:", ""]
    lines += [f"- `{s['name']}`: {s['title']}" for s in report["scenarios"]]
    filed = [
        (s["name"], side, s[side]["rows_created"], s[side]["requests"])
        for s in report["scenarios"]
        for side in ("ours", "peer")
        if isinstance(s.get(side), dict) and "rows_created" in s[side]
    ]
    if filed:
        lines += ["", "Tickets filed during the measured runs (rows / requests):"]
        lines += [f"- {n} {side}: {rows} / {req}" for n, side, rows, req in filed]
    lines += [
        "",
        "Data: ours "
        + ", ".join(f"{k} {v}" for k, v in report["data"]["ours"].items())
        + "; peer "
        + ", ".join(f"{k} {v}" for k, v in report["data"]["peer"].items())
        + ".",
        "",
        "Per-run figures, probe SQL counts and load averages: peer.json. What is "
        "compared and the limits of the comparison: bench/README.md.",
    ]
    path.write_text("\n".join(lines) + "\n")


# --- main ---------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each")
    parser.add_argument("--rounds", type=int, default=3, help="alternations (≥ 3)")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument("--recreate", action="store_true", help="drop both databases")
    parser.add_argument("--output", default=str(harness.RESULTS / "peer"))
    args = parser.parse_args(argv)
    started = time.monotonic()

    wrk = harness.ensure_wrk()
    versions = install_peer()
    ours_env, ours = prepare_ours(args.recreate)
    peer_env_, peer = prepare_peer(args.recreate)
    pairs = build_pairs(ours, peer)
    if args.only:
        pairs = [p for p in pairs if p["name"] in set(args.only.split(","))]
    harness.flush_cache()

    # Four probe requests, not ten: some of the peer's pages take seconds each.
    harness.PROBE_REPEATS = PROBE_REPEATS
    harness.wait_for_idle()
    bases = {"ours": f"http://127.0.0.1:{harness.free_port()}"}
    bases["peer"] = f"http://127.0.0.1:{harness.free_port()}"
    servers = {}
    workdir = Path(tempfile.mkdtemp(prefix="bench-peer-"))
    runs = {(p["name"], side): [] for p in pairs for side in ("ours", "peer")}
    skipped = {}
    try:
        servers["ours"] = harness.start_gunicorn(
            ours_env, int(bases["ours"].rsplit(":", 1)[1]), args.workers
        )
        servers["peer"] = harness.start_gunicorn(
            peer_env_,
            int(bases["peer"].rsplit(":", 1)[1]),
            args.workers,
            gunicorn=str(PEER_GUNICORN),
            app="benchpeer.wsgi",
            cwd=PROJECT,
        )
        for base in bases.values():
            harness.wait_healthy(base)
        https = {
            side: harness.Http(base, timeout=WRK_TIMEOUT_S)
            for side, base in bases.items()
        }
        for pair in pairs:
            for side in ("ours", "peer"):
                if pair[side] is None:
                    continue
                info = check(https[side], pair[side], args.workers)
                pair[side]["info"] = info
                if info.get("skipped"):
                    skipped[pair["name"], side] = info["skipped"]
                    log(f"{pair['name']} {side}: skipped ({info['skipped']})")
        for round_ in range(1, args.rounds + 1):
            log(f"round {round_} of {args.rounds}")
            for pair in pairs:
                for side in ("ours", "peer"):
                    if pair[side] is None or (pair["name"], side) in skipped:
                        continue
                    result = measure(
                        wrk,
                        bases[side],
                        pair[side],
                        f"{pair['name']}-{side}",
                        args.duration,
                        args.warmup,
                        workdir,
                        servers[side],
                    )
                    runs[pair["name"], side].append(result)
                    log(
                        f"{pair['name']} {side}: {result['rps']} req/s, p95 "
                        f"{result['p95_ms']} ms, {result['errors']} errors, "
                        f"{result['sql_queries']} queries"
                    )
    finally:
        for server in servers.values():
            harness.stop(server)
        harness.flush_cache()  # the jobs ours queued (no worker ran them)

    scenarios = []
    for pair in pairs:
        entry = {"name": pair["name"], "title": pair["title"], "ratio": None}
        for side in ("ours", "peer"):
            if pair[side] is None:
                entry[side] = None
                entry[f"{side}_skipped"] = "absent"
            elif (pair["name"], side) in skipped:
                entry[side] = None
                entry[f"{side}_skipped"] = skipped[pair["name"], side]
            else:
                entry[side] = {
                    "path": pair[side]["path"],
                    "method": pair[side].get("method", "GET"),
                    **median_of(runs[pair["name"], side]),
                }
        if entry["ours"] and entry["peer"] and min(entry["peer"]["rps_runs"]) > 0:
            entry["ratio"] = round(entry["ours"]["rps"] / entry["peer"]["rps"], 2)
            entry["p95_ratio_peer_over_ours"] = (
                round(entry["peer"]["p95_ms"] / entry["ours"]["p95_ms"], 2)
                if entry["ours"]["p95_ms"]
                else None
            )
            entry["goal_2x"] = entry["ratio"] >= RATIO_GOAL
        scenarios.append(entry)

    report = {
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": harness.machine_info(ours_env),
        "load_average_at_start": round(harness._LOAD_AT_START[0], 2),
        "waited_for_idle_s": harness._IDLE_WAITED[0],
        "peer": versions,
        "ours_django": version("Django"),
        "server": {
            "workers": args.workers,
            "worker_class": "sync",
            "duration_s": args.duration,
            "warmup_s": args.warmup,
            "read_concurrency": harness.READ_CONCURRENCY,
            "write_concurrency": harness.WRITE_CONCURRENCY,
            "driver": "wrk (1 thread)",
            "job_worker": "none on either side",
        },
        "rounds": args.rounds,
        "databases": {"ours": OURS_DB, "peer": PEER_DB},
        "data": {
            "ours": {**SIZES, **ours.get("counts", {})},
            "peer": peer.get("counts", {}),
        },
        "scenarios": scenarios,
        "goal": f"ours ≥ {RATIO_GOAL}× the peer's requests/s on every shared scenario",
        "elapsed_s": round(time.monotonic() - started),
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    write_markdown(report, output.with_suffix(".md"))
    log(f"wrote {output}.json and {output}.md in {report['elapsed_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
