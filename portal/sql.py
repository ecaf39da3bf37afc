"""SQL building blocks for conditions that many queries share."""

from django.db.models import Expression


class KeptSubquery(Expression):
    """An uncorrelated subquery for an ``__in`` lookup (``Q(pk__in=KeptSubquery(qs))``)
    whose SQL is compiled once per database connection alias and then reused.

    Django resolves and compiles a queryset used as a subquery anew for every query
    that contains it; for a condition kept for the process and put into many queries
    (``tickets.permissions.visible_tickets``: several subqueries, ~7k Python calls per
    query) that is most of the query's cost. The SQL and parameters of an
    uncorrelated subquery depend only on the queryset, so ``queryset`` must be fixed
    for the lifetime of this object: built from constants, with no ``OuterRef`` to
    the query it is put into (references inside the subquery to its own parts are
    fine). The database still reads the rows each time a query runs, so nothing about
    the data is kept."""

    contains_aggregate = False
    contains_over_clause = False

    def __init__(self, queryset, output_field=None):
        super().__init__(output_field=output_field)
        if not queryset.query.has_select_fields:
            raise ValueError("KeptSubquery needs a queryset of one column: .values(…)")
        self.subquery = queryset.query.clone()
        # What the ``__in`` lookup does to a queryset: its ordering is of no use.
        self.subquery.clear_ordering(clear_default=True)
        self._compiled = {}

    def resolve_expression(self, *args, **kwargs):
        return self  # nothing of the outer query to resolve: it is uncorrelated

    def get_group_by_cols(self):
        return []

    def as_sql(self, compiler, connection):
        kept = self._compiled.get(connection.alias)
        if kept is None:
            # Exactly what Django writes for the queryset as a subquery of this query
            # (its aliases renamed away from the outer query's, its ordering dropped).
            resolved = self.subquery.resolve_expression(compiler.query)
            sql, params = resolved.as_sql(compiler, connection)
            kept = self._compiled[connection.alias] = (sql, tuple(params))
        return kept
