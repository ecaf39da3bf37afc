"""The portal list's first statement (ids of page 1 + ``COUNT(*) OVER ()``) for a
customer as it is (the organization's sharing read from guardian group rows) and as
the organization sharing rule on the ticket row would state it (bench FINDINGS P-5):
``EXPLAIN (ANALYZE, BUFFERS)`` of each form, on a COPY of ``bench_full`` only.

    .venv/bin/python bench/org_rule_plans.py --db h_4_bench [--user customer0]
        [--index] [--grow] [--full]

``--index`` builds ``ticket_open_org_updated_idx`` (organization_id, updated_at DESC,
id DESC) WHERE status is open, the index the rule's page would walk (DDL on the copy).
``--grow`` doubles the user's organization: a copy of each of its tickets (new
reference, same columns) and the copies' organization group rows, then
``VACUUM ANALYZE`` (the doubling check of G-4, for the organization that grows).

Forms (status "open", scope "all", order "-updated", page 1 of 20):
  now    -- today's: ``id IN (user rows UNION group rows)``, every granted id probed
  rule   -- three disjoint parts, each an index range: ``organization_id IN (shared
            orgs)`` for the sharing; the worked queues' tickets (V-3's rule) outside
            those organizations; the user's own and other groups' rows outside both.
            The page is the top 20 of the parts' top 20s, the count their sum.
"""

# ruff: noqa: S608 - constant SQL of this script, the user's id a parameter

import argparse
import re

import psycopg

OPEN = ("new", "open", "in_progress", "waiting_on_customer", "on_hold")

SHARED = """SELECT o.id FROM accounts_organization o
  JOIN accounts_user_groups ug ON ug.group_id = o.group_id
  WHERE ug.user_id = %(u)s AND o.ticket_sharing IN ('read', 'read_write')"""

VIEW = """(SELECT p.id FROM auth_permission p JOIN django_content_type c
  ON c.id = p.content_type_id WHERE c.app_label = 'tickets' AND c.model = 'ticket'
  AND p.codename = 'view_ticket')"""

# the queues whose agent group the user is in (V-3's rule; customers: usually none)
WORKED = """SELECT q.id FROM tickets_queue q JOIN accounts_user_groups g
  ON g.group_id = q.agent_group_id WHERE g.user_id = %(u)s"""

# today's grants (``_granted_ids(all_groups=True)``, a customer's): the user's rows and every group's rows (customers: all groups)
GRANTED = f"""SELECT content_object_id FROM tickets_ticketuserobjectpermission
  WHERE user_id = %(u)s AND permission_id = {VIEW}
  UNION SELECT content_object_id FROM tickets_ticketgroupobjectpermission
  WHERE permission_id = {VIEW} AND group_id IN
  (SELECT group_id FROM accounts_user_groups WHERE user_id = %(u)s)
  UNION SELECT w.id FROM tickets_ticket w WHERE w.queue_id IN ({WORKED})"""

# with the rule: the rows left are the user's own and those of groups that are no
# shared organization's group (after the migration there are none of the latter)
OTHER_GRANTED = f"""SELECT content_object_id FROM tickets_ticketuserobjectpermission
  WHERE user_id = %(u)s AND permission_id = {VIEW}
  UNION SELECT content_object_id FROM tickets_ticketgroupobjectpermission
  WHERE permission_id = {VIEW} AND group_id IN
  (SELECT group_id FROM accounts_user_groups WHERE user_id = %(u)s
   AND group_id NOT IN (SELECT o.group_id FROM accounts_organization o
     WHERE o.group_id IS NOT NULL AND o.ticket_sharing IN ('read', 'read_write')))"""

OPEN_SQL = "status IN ({})".format(", ".join(f"'{s}'" for s in OPEN))

FORMS = {
    "now": f"""SELECT t.id, COUNT(*) OVER () FROM tickets_ticket t
  WHERE t.{OPEN_SQL} AND t.id IN ({GRANTED})
  ORDER BY t.updated_at DESC, t.id DESC LIMIT 20""",
    # the organization range and the other grants outside it; a ticket is in one
    # part only (the second excludes the shared organizations), so the parts' counts
    # add up and the page is the top 20 of the two parts' top 20s
    "rule": f"""WITH shared AS MATERIALIZED ({SHARED}),
  org AS (SELECT t.id, t.updated_at FROM tickets_ticket t
    WHERE t.organization_id IN (SELECT id FROM shared) AND t.{OPEN_SQL}),
  worked AS MATERIALIZED ({WORKED}),
  queued AS (SELECT t.id, t.updated_at FROM tickets_ticket t
    WHERE t.queue_id IN (SELECT id FROM worked) AND t.{OPEN_SQL}
    AND (t.organization_id IS NULL
         OR t.organization_id NOT IN (SELECT id FROM shared))),
  other AS (SELECT t.id, t.updated_at FROM tickets_ticket t
    WHERE t.id IN ({OTHER_GRANTED}) AND t.{OPEN_SQL}
    AND (t.organization_id IS NULL
         OR t.organization_id NOT IN (SELECT id FROM shared))
    AND t.queue_id NOT IN (SELECT id FROM worked)),
  total AS (SELECT (SELECT COUNT(*) FROM org) + (SELECT COUNT(*) FROM queued)
    + (SELECT COUNT(*) FROM other) AS n)
  SELECT p.id, total.n FROM (
    (SELECT id, updated_at FROM org ORDER BY updated_at DESC, id DESC LIMIT 20)
    UNION ALL
    (SELECT id, updated_at FROM queued ORDER BY updated_at DESC, id DESC LIMIT 20)
    UNION ALL
    (SELECT id, updated_at FROM other ORDER BY updated_at DESC, id DESC LIMIT 20)
  ) p, total ORDER BY p.updated_at DESC, p.id DESC LIMIT 20""",
}

# every ticket visible, by each form (for the comparison, no page)
VISIBLE = {
    "now": f"SELECT content_object_id FROM ({GRANTED}) g",
    "rule": f"""SELECT t.id FROM tickets_ticket t WHERE t.organization_id IN ({SHARED})
  UNION SELECT content_object_id FROM ({OTHER_GRANTED}) g
  UNION SELECT w.id FROM tickets_ticket w WHERE w.queue_id IN ({WORKED})""",
}

INDEX = f"""CREATE INDEX IF NOT EXISTS ticket_open_org_updated_idx ON tickets_ticket
  (organization_id, updated_at DESC, id DESC) WHERE {OPEN_SQL}"""


def grow(cursor, user: int) -> None:
    cursor.execute(f"SELECT id FROM ({SHARED}) s", {"u": user})
    (org,) = cursor.fetchone()
    cursor.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'tickets_ticket' AND column_name NOT IN "
        "('id', 'reference', 'search_terms') ORDER BY ordinal_position"
    )
    columns = ", ".join(row[0] for row in cursor.fetchall())
    cursor.execute(
        f"CREATE TEMP TABLE copied AS WITH c AS (INSERT INTO tickets_ticket "  # noqa: S608
        f"(reference, {columns}) SELECT reference || '-C', {columns} "
        "FROM tickets_ticket WHERE organization_id = %s AND reference NOT LIKE '%%-C' "
        "RETURNING id) SELECT id FROM c",
        (org,),
    )
    cursor.execute(
        "INSERT INTO tickets_ticketgroupobjectpermission "
        "(content_object_id, group_id, permission_id) "
        "SELECT c.id, o.group_id, p.id FROM copied c, accounts_organization o, "
        "auth_permission p JOIN django_content_type ct ON ct.id = p.content_type_id "
        "WHERE o.id = %s AND ct.app_label = 'tickets' AND ct.model = 'ticket' AND "
        "(p.codename = 'view_ticket' OR (p.codename = 'comment_ticket' "
        "AND o.ticket_sharing = 'read_write'))",
        (org,),
    )
    print(f"grown: organization {org}, {cursor.rowcount} group rows for the copies")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--user", default="customer0")
    parser.add_argument("--index", action="store_true")
    parser.add_argument("--grow", action="store_true")
    parser.add_argument("--full", action="store_true")
    parser.add_argument(
        "--compare", type=int, default=0, help="and N more customers: same tickets?"
    )
    args = parser.parse_args()
    if not re.fullmatch(r"h_\d+_\w+", args.db):
        raise SystemExit("a helper's copy only (h_N_…), never bench_full")
    conninfo = f"host=127.0.0.1 user=postgres dbname={args.db}"
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.cursor() as cursor:
        email = f"{args.user}@load.example"
        cursor.execute("SELECT id FROM accounts_user WHERE email = %s", (email,))
        (user,) = cursor.fetchone()
        if args.grow:
            grow(cursor, user)
        if args.index:
            cursor.execute(INDEX)
        if args.grow or args.index:
            cursor.execute("VACUUM ANALYZE tickets_ticket")
            cursor.execute("VACUUM ANALYZE tickets_ticketgroupobjectpermission")
        results = {}
        for name, sql in FORMS.items():
            cursor.execute(sql, {"u": user})
            results[name] = cursor.fetchall()
            for _ in range(2):  # warm
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, {"u": user})
            plan = [row[0] for row in cursor.fetchall()]
            top = next((line for line in plan if "Buffers" in line), "").strip()
            print(f"{name:5} {plan[-1].strip():28} {top}")
            if args.full:
                print("\n".join("      " + line for line in plan))
        same = results["now"] == results["rule"]
        total = results["now"][0][1] if results["now"] else 0
        print(f"same page and count: {same} (count {total})")
        if args.compare:
            compare(cursor, args.compare)


def compare(cursor, n: int) -> None:
    """The page, the count and every visible ticket by both forms, for ``n``
    customers (a fixed sample, md5 order of their ids), with how many of them are
    in a sharing organization."""
    cursor.execute(
        "SELECT id FROM accounts_user WHERE email LIKE 'customer%%' "
        "ORDER BY md5(id::text) LIMIT %s",
        (n,),
    )
    users = [row[0] for row in cursor.fetchall()]
    differ, sharing, tickets = [], 0, 0
    for user in users:
        answers = {}
        for name in ("now", "rule"):
            cursor.execute(FORMS[name], {"u": user})
            page = cursor.fetchall()
            cursor.execute(VISIBLE[name], {"u": user})
            answers[name] = (page, sorted(row[0] for row in cursor.fetchall()))
        if answers["now"] != answers["rule"]:
            differ.append(user)
        cursor.execute(f"SELECT COUNT(*) FROM ({SHARED}) s", {"u": user})
        sharing += cursor.fetchone()[0] > 0
        tickets += len(answers["now"][1])
    print(
        f"compared {len(users)} customers ({sharing} in a sharing organization, "
        f"{tickets} visible tickets in all): {len(differ)} differ {differ[:10]}"
    )


if __name__ == "__main__":
    main()
