"""Does a change to the load-data generator keep the data the same?

``generate``: run ``manage.py generate_load_data`` (with the options given after ``--``)
in the tree of the current directory, with the clock frozen (``timezone.now`` returns
one fixed instant, so that every time stamp the generator derives from "now" is the
same in two runs), into ``DATABASE_URL``; prints the seconds it took.

``dump DIR``: every table of ``DATABASE_URL``'s public schema, ordered by every column
(primary key first), one file per table, with the columns that differ between two
runs of the same generator blanked (``VOLATILE``).

``compare A B``: the two dumps' differing tables and first differing lines; random
UUIDs (``UUID``: Wagtail's page translation keys and StreamField block ids) compare
equal. Exit status 1 when a table differs.

Usage, for main's generator against this tree's (fresh databases from one migrated
template)::

    cd /tmp/main-tree && DATABASE_URL=.../h_a python /work/wt/7/bench/generation_check.py \
        generate -- --tickets=25000 --organizations=100 --customers=1000 --agents=20 \
        --queues=5 --articles=150
    cd /work/wt/7 && DATABASE_URL=.../h_b python bench/generation_check.py generate -- ...
    DATABASE_URL=.../h_a python bench/generation_check.py dump /tmp/a
    DATABASE_URL=.../h_b python bench/generation_check.py dump /tmp/b
    python bench/generation_check.py compare /tmp/a /tmp/b
"""

import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

FROZEN = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)

# Columns whose values are not a function of the generator's inputs and the frozen
# clock: a password hash's salt is random (``make_password``).
VOLATILE = {
    ("accounts_user", "password"),
}
# Random UUIDs (``uuid4``) Wagtail gives each page (``translation_key``) and each
# StreamField block (``kb_articlepage.body``'s ``"id"``): compared as one placeholder.
UUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
)


def generate(options: list[str]) -> None:
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.dev")
    import django
    from django.utils import timezone

    timezone.now = lambda: FROZEN
    django.setup()
    from django.core.management import call_command

    started = time.monotonic()
    call_command("generate_load_data", "--no-progress", *options)
    print(f"generation: {time.monotonic() - started:.1f} s", flush=True)


def _connect():
    import psycopg

    return psycopg.connect(os.environ["DATABASE_URL"], autocommit=True)


def dump(directory: str) -> None:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    with _connect() as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "ORDER BY tablename"
            )
        ]
        for table in tables:
            columns = [
                row[0]
                for row in connection.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = %s "
                    "ORDER BY ordinal_position",
                    [table],
                )
            ]
            from psycopg import sql

            selected = sql.SQL(", ").join(
                sql.NULL if (table, c) in VOLATILE else sql.Identifier(c)
                for c in columns
            )
            order = sql.SQL(", ").join(sql.Literal(i + 1) for i in range(len(columns)))
            statement = sql.SQL(
                "COPY (SELECT {} FROM {} ORDER BY {}) TO STDOUT"
            ).format(selected, sql.Identifier(table), order)
            with (
                open(out / f"{table}.tsv", "wb") as target,
                connection.cursor() as cursor,
                cursor.copy(statement) as copy,
            ):
                target.write(("\t".join(columns) + "\n").encode())
                for chunk in copy:
                    target.write(chunk)


def compare(a: str, b: str) -> int:
    left, right = Path(a), Path(b)
    names = sorted(
        {p.name for p in left.glob("*.tsv")} | {p.name for p in right.glob("*.tsv")}
    )
    differing = 0
    for name in names:
        x, y = left / name, right / name
        if not x.exists() or not y.exists():
            print(f"{name}: only in {'B' if not x.exists() else 'A'}")
            differing += 1
            continue
        if x.read_bytes() == y.read_bytes():
            continue
        xs = UUID.sub("<uuid4>", x.read_text()).splitlines()
        ys = UUID.sub("<uuid4>", y.read_text()).splitlines()
        if xs == ys:
            print(f"{name}: the same but for random UUIDs")
            continue
        differing += 1
        print(f"{name}: {len(xs) - 1} vs {len(ys) - 1} rows")
        shown = 0
        for i, (p, q) in enumerate(zip(xs, ys, strict=False)):
            if p != q and shown < 3:
                print(f"  line {i}:\n    A {p[:300]}\n    B {q[:300]}")
                shown += 1
    rows = sum(
        max(0, len((left / n).read_text().splitlines()) - 1)
        for n in names
        if (left / n).exists()
    )
    print(f"{len(names)} tables, {rows} rows in A; {differing} differ")
    return 1 if differing else 0


def main(argv: list[str]) -> int:
    command, rest = argv[0], argv[1:]
    if command == "generate":
        generate([o for o in rest if o != "--"])
        return 0
    if command == "dump":
        dump(rest[0])
        return 0
    if command == "compare":
        return compare(rest[0], rest[1])
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
