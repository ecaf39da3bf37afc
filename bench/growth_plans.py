"""Plans of the two lists whose p95 grows from 250k to 1M tickets (bench FINDINGS G-4):
every statement of one warm request, ``EXPLAIN (ANALYZE, BUFFERS)``, run read-only on a
copy of ``bench_full`` (never the original) with a Redis database of your own:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<copy> REDIS_URL=redis://127.0.0.1:6379/<n> \\
        .venv/bin/python bench/growth_plans.py [--pages graphql,portal,up_to] [--users agent0,...]

Pages: ``graphql`` (``bench/graphql/tickets.graphql``, ``first: 100``, a bearer
``read`` token), ``up_to`` (the same list asking ``totalCountUpTo`` instead of
``totalCount``), ``portal`` (``/portal/tickets/`` signed in). Users by the load data's
names: ``agentN``, ``customerN``, ``supervisor``. Per statement: execution time, shared
buffers hit and read, and with ``--full`` the whole plan.
"""

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import in_process_environment  # noqa: E402

UP_TO = """query BenchTickets($first: Int!) {
  tickets(first: $first) {
    totalCountUpTo { count exact }
    edges { node { reference subject status priority requester { email }
      comments { body createdAt author { email } } } }
  }
}"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", default="graphql,up_to,portal")
    parser.add_argument("--users", default="agent0,customer0,supervisor")
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    in_process_environment()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import portal.wsgi  # noqa: F401  (django.setup + the server's gc settings)
    from accounts.models import User
    from bench.prepare import supervisor, token_for
    from portal.loaddata.people import agent_email, customer_email

    def person(name):
        if name == "supervisor":
            return supervisor()
        number = int(re.sub(r"\D", "", name))
        email = (
            agent_email(number) if name.startswith("agent") else customer_email(number)
        )
        return User.objects.get(email=email)

    documents = {
        "graphql": (ROOT / "bench" / "graphql" / "tickets.graphql").read_text(),
        "up_to": UP_TO,
    }
    for page in args.pages.split(","):
        for name in args.users.split(","):
            user = person(name)
            if page == "portal":
                if user.is_staff:
                    continue
                client = Client()
                client.force_login(user)

                def get(client=client):
                    response = client.get("/portal/tickets/")
                    assert response.status_code == 200
                    return response
            else:
                token = token_for(user, "read")
                client = Client(HTTP_HOST="127.0.0.1")
                body = json.dumps(
                    {"query": documents[page], "variables": {"first": 100}}
                )

                def get(client=client, token=token, body=body):
                    response = client.post(
                        "/graphql/",
                        data=body,
                        content_type="application/json",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    assert response.status_code == 200
                    assert b'"errors"' not in response.content, response.content[:500]
                    return response

            get()
            with CaptureQueriesContext(connection) as captured:
                get()
            print(f"== {page} {name}: {len(captured)} statements")
            with connection.cursor() as cursor:
                for query in captured.captured_queries:
                    sql = query["sql"]
                    if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                        continue
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plan = [row[0] for row in cursor.fetchall()]
                    top = next((line for line in plan if "Buffers" in line), "")
                    total = plan[-1].strip()
                    print(f"  {total:28} {top.strip():40} {sql[:110]}")
                    if args.full:
                        print("\n".join("      " + line for line in plan))


if __name__ == "__main__":
    main()
