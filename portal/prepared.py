"""A read whose SQL is compiled once per process and database, then run with new
values: for statements that every request of a hot path makes with the same shape
(a filing's queue agents with their roles).

Django compiles a queryset each time it runs: for a statement with a subquery, an
annotation and ordering that is ~1 ms of Python against ~0.1 ms of execution
(bench/FINDINGS.md, R-1). ``Prepared(build, name=sentinel, ...)`` builds the
queryset once with a sentinel value per parameter, compiles it, and remembers where
each sentinel landed in the statement's parameters; ``rows(name=value)`` runs the
same SQL with the values put there, through ``Manager.raw`` (model instances, with
the annotations as attributes, converted as the queryset converts them). The queryset may use no ``select_related`` or
``prefetch_related`` (a raw query reads one model) and each sentinel must appear
exactly once in the parameters (checked when compiling); a sentinel should be a
value no real parameter has.
"""

from collections.abc import Callable

from django.db import connections
from django.db.models import QuerySet


class Prepared:
    def __init__(self, build: Callable[..., QuerySet], **sentinels):
        self._build = build
        self._sentinels = sentinels
        self._compiled: dict[str, tuple] = {}

    def _compile(self, alias: str) -> tuple:
        queryset = self._build(**self._sentinels)
        if queryset.query.select_related or queryset._prefetch_related_lookups:
            raise ValueError("a prepared read reads one model: no related rows")
        sql, params = queryset.query.get_compiler(using=alias).as_sql()
        params = list(params)
        slots = {}
        for name, sentinel in self._sentinels.items():
            found = [i for i, value in enumerate(params) if value == sentinel]
            if len(found) != 1:
                raise ValueError(
                    f"the sentinel of {name!r} is {len(found)} times in the parameters"
                )
            slots[name] = found[0]
        connection = connections[alias]
        converters = {}
        for name, expression in queryset.query.annotation_select.items():
            found = connection.ops.get_db_converters(
                expression
            ) + expression.get_db_converters(connection)
            if found:
                converters[name] = (expression, found)
        compiled = (queryset.model, sql, params, slots, converters)
        self._compiled[alias] = compiled
        return compiled

    def rows(self, using: str = "default", **values) -> list:
        """The model instances the queryset would give for ``values``."""
        compiled = self._compiled.get(using) or self._compile(using)
        model, sql, params, slots, converters = compiled
        params = list(params)
        for name, slot in slots.items():
            params[slot] = values[name]
        rows = list(model._default_manager.db_manager(using).raw(sql, params))
        if converters:  # a raw query converts the model's fields only
            connection = connections[using]
            for row in rows:
                for name, (expression, functions) in converters.items():
                    value = row.__dict__[name]
                    for function in functions:
                        value = function(value, expression, connection)
                    row.__dict__[name] = value
        return rows

    def forget(self) -> None:
        """Compile again at the next use (tests that change the database vendor)."""
        self._compiled.clear()
