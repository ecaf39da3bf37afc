"""Where the time of one scenario request goes: run by ``bench/run.py`` after the load runs.

Reads the scenarios as JSON on stdin, replays each request in-process through Django's
test client (same settings and database as the server), and writes
``<output>/<name>.txt``: wall time, time inside SQL, the queries grouped by statement
shape, and the functions with the most cumulative time (cProfile).
"""

import cProfile
import io
import json
import os
import pstats
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")

# The server's own start-up (portal/wsgi.py): Django set up, the start-up objects
# frozen out of the garbage collector's sight and its youngest generation at 50,000
# allocations, as in gunicorn. With the interpreter's defaults (700) a full collection
# of the whole heap lands in some profiled request (0.3-0.5 s on bench_full, shown as
# the `dict.copy` of whatever `Query.clone` allocated then), which the server never
# pays: the profile would blame the wrong code.
import portal.wsgi  # noqa: E402, F401

# isort: split

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

REPEAT = 20


def _shape(sql: str) -> str:
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r"\b\d+\b", "?", sql)
    return sql[:220]


def replay(client: Client, scenario: dict):
    headers = {}
    for name, value in scenario.get("headers", {}).items():
        if name.lower() == "cookie":
            key, _, val = value.partition("=")
            client.cookies[key] = val
        elif name.lower() != "content-type":
            headers[name] = value
    if scenario.get("method", "GET") == "POST":
        return client.post(
            scenario["path"],
            data=scenario.get("body", ""),
            content_type="application/json",
            headers=headers,
        )
    return client.get(scenario["path"], headers=headers)


def profile(scenario: dict) -> str:
    client = Client()
    replay(client, scenario)  # warm caches and connections
    sql_time = 0.0
    shapes = Counter()

    def timer(execute, sql, params, many, context):
        nonlocal sql_time
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_time += time.perf_counter() - started
            shapes[_shape(sql)] += 1

    profiler = cProfile.Profile()
    started = time.perf_counter()
    with connection.execute_wrapper(timer):
        profiler.enable()
        for _ in range(REPEAT):
            status = replay(client, scenario).status_code
        profiler.disable()
    wall = (time.perf_counter() - started) / REPEAT * 1000
    out = io.StringIO()
    out.write(
        f"{scenario['name']}: {scenario.get('method', 'GET')} {scenario['path']} → {status}\n"
        f"mean over {REPEAT} in-process requests: {wall:.1f} ms, of which SQL "
        f"{sql_time / REPEAT * 1000:.1f} ms ({sum(shapes.values()) / REPEAT:.1f} "
        "statements per request)\n\nStatements per request, by shape:\n"
    )
    for shape, count in shapes.most_common():
        out.write(f"  {count / REPEAT:5.1f}  {shape}\n")
    out.write("\nTop functions by cumulative time (cProfile, all requests):\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(40)
    out.write("\nTop functions by own time:\n")
    stats.sort_stats("tottime").print_stats(25)
    return out.getvalue()


def main() -> None:
    output = Path(sys.argv[1])
    output.mkdir(parents=True, exist_ok=True)
    for scenario in json.load(sys.stdin):
        try:
            text = profile(scenario)
        except Exception as exc:  # noqa: BLE001 - one scenario's failure is reported
            text = f"{scenario['name']}: profiling failed: {exc!r}\n"
        (output / f"{scenario['name']}.txt").write_text(text)
        print(text.splitlines()[1] if "\n" in text else text.strip(), flush=True)


if __name__ == "__main__":
    main()
