"""One page's SQL statements as files, and statements' backend CPU, interleaved
(bench FINDINGS S-9, S-10): the figure that survives a loaded machine better than wall
time. Read-only: run it against a copy of ``bench_full``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_3_bench \\
    REDIS_URL=redis://127.0.0.1:6379/7 \\
    .venv/bin/python bench/statement_cpu.py capture /tmp/wh agent0@load.example \\
        /admin/helpdesk/tickets/ q=webhook
    .venv/bin/python bench/statement_cpu.py run h_3_bench 9 /tmp/wh.3.sql /tmp/other.sql

``capture PREFIX EMAIL PATH [name=value …]``: the second request's statements (the
first warms the process) as ``PREFIX.<n>.sql``, parameters inlined as PostgreSQL
receives them. ``run DATABASE ROUNDS FILE …``: each file's ``EXPLAIN (ANALYZE, TIMING
OFF, BUFFERS, SUMMARY)`` in rounds, the files interleaved (one warm-up round not
counted): minimum and median of execution and planning time and of the backend's CPU
(``/proc/<pg_backend_pid()>/schedstat``: the server must run on this machine), and the
first plan's buffers. ``jit = off`` as the application runs.
"""

import re
import statistics
import sys
from pathlib import Path


def capture(prefix: str, email: str, path: str, *pairs: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.run import in_process_environment

    in_process_environment()
    import portal.wsgi  # noqa: F401 - the server's start-up

    # isort: split
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    params = dict(pair.split("=", 1) for pair in pairs)
    client = Client()
    client.force_login(get_user_model().objects.get(email=email))
    client.get(path, params)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params)
    assert response.status_code == 200, response.status_code
    for number, query in enumerate(captured.captured_queries):
        Path(f"{prefix}.{number}.sql").write_text(query["sql"] + ";\n")
    print(f"{len(captured.captured_queries)} statements: {prefix}.<n>.sql")


def run(database: str, rounds: str, *files: str) -> None:
    import psycopg

    connection = psycopg.connect(
        f"postgresql://postgres@127.0.0.1:5432/{database}", autocommit=True
    )
    cursor = connection.cursor()
    cursor.execute("SET jit = off")
    cursor.execute("SELECT pg_backend_pid()")
    schedstat = Path(f"/proc/{cursor.fetchone()[0]}/schedstat")

    def cpu_ms() -> float:
        return int(schedstat.read_text().split()[0]) / 1e6

    texts = {name: Path(name).read_text().rstrip().rstrip(";") for name in files}
    found = {
        name: {"exec": [], "plan": [], "cpu": [], "buffers": None} for name in files
    }
    for round_number in range(int(rounds) + 1):
        for name, text in texts.items():
            before = cpu_ms()
            cursor.execute(f"EXPLAIN (ANALYZE, TIMING OFF, BUFFERS, SUMMARY) {text}")
            spent = cpu_ms() - before
            plan = "\n".join(row[0] for row in cursor.fetchall())
            if not round_number:
                continue  # warm-up
            figures = found[name]
            figures["exec"].append(
                float(re.search(r"Execution Time: ([\d.]+)", plan).group(1))
            )
            figures["plan"].append(
                float(re.search(r"Planning Time: ([\d.]+)", plan).group(1))
            )
            figures["cpu"].append(spent)
            if figures["buffers"] is None:
                buffers = re.search(r"Buffers: (shared [^\n]*)", plan)
                figures["buffers"] = buffers.group(1) if buffers else "none"
    for name, figures in found.items():
        line = " | ".join(
            f"{key} min {min(figures[key]):.2f} med {statistics.median(figures[key]):.2f}"
            for key in ("exec", "plan", "cpu")
        )
        print(f"{name}: {line} | {figures['buffers']}")


if __name__ == "__main__":
    mode, *arguments = sys.argv[1:]
    {"capture": capture, "run": run}[mode](*arguments)
