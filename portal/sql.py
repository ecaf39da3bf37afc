"""SQL building blocks for conditions that many queries share, statements written
once (``KeptSubquery``, ``KeptStatement``, ``KeptInsert``, ``ValueList``), and
statements sent together in one round trip (``read_together``).

Over 400 lines on purpose: the statements written once share one set of helpers for
compiling a statement once and running it with new values; split into modules, each
would reach into the others' internals."""

import json
import uuid
from datetime import UTC, datetime, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections, models, router, transaction
from django.db.models import Expression, F, Model
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import (
    ModelIterable,
    RelatedPopulator,
    get_related_populators,
)
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import Query
from django.db.models.sql.subqueries import InsertQuery, UpdateQuery
from django.utils import timezone

from portal import instances, prepared


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
            # What Django writes for the queryset as a subquery of a top-level query,
            # whatever query it is first put into: kept SQL goes into queries nested
            # at any depth, and resolved against a nested one (an ``Exists`` of it)
            # Django renames the aliases of a subquery's own ``OuterRef``s wrongly
            # (``W0.group_id`` for ``V0.group_id``: tickets.permissions._granted_ids).
            # Uncorrelated, the subquery names nothing outside itself, and SQL
            # resolves each name to the innermost table that has it.
            resolved = self.subquery.resolve_expression(Query(None))
            sql, params = resolved.as_sql(compiler, connection)
            kept = self._compiled[connection.alias] = (sql, tuple(params))
        return kept


class ValueList(Expression):
    """A list of values as ONE parameter, for an ``__in`` lookup
    (``filter(key__in=ValueList(keys, output_field=CharField()))``): the same SQL
    whatever the number of values, so a ``KeptStatement`` can keep it (Django writes
    one placeholder per value). The values are the column's own (text or integers:
    nothing is converted). PostgreSQL reads them as an array
    (``IN (SELECT unnest(%s::<type>[]))``), SQLite as JSON
    (``IN (SELECT value FROM json_each(%s))``); other databases are refused."""

    contains_aggregate = False
    contains_over_clause = False

    def __init__(self, values, output_field):
        super().__init__(output_field=output_field)
        self.values = list(values)

    def resolve_expression(self, *args, **kwargs):
        return self

    def get_group_by_cols(self):
        return []

    @staticmethod
    def parameter(values, connection):
        """The one parameter holding ``values`` on ``connection``'s database."""
        if connection.vendor == "postgresql":
            return list(values)
        if connection.vendor == "sqlite":
            return json.dumps(list(values))
        raise ValueError(f"ValueList: not on {connection.vendor}")

    def as_sql(self, compiler, connection):
        parameter = self.parameter(self.values, connection)
        if connection.vendor == "postgresql":
            cast = self.output_field.cast_db_type(connection)
            return f"SELECT unnest(%s::{cast}[])", [parameter]
        return "SELECT value FROM json_each(%s)", [parameter]


class KeptStatement:
    """A query run often with different values, its SQL compiled once per database.

    ``build(**values)`` returns the queryset (of ``values_list`` columns) for the
    values named by ``variables``; it is called once per database connection alias
    with a stand-in integer for each variable, and the SQL Django writes for it is
    kept with the positions of those stand-ins among its parameters (an integer, or
    its text where the lookup's field is a text one: ``prefix=<stand-in>`` on a
    ``CharField`` is the parameter ``"-2013265917"``; the value given then must be
    the text itself). The variables named in ``datetimes`` are aware datetimes (a
    ``DateTimeField`` lookup): a stand-in datetime is compiled, found among the
    parameters as the database's form of it (``adapt_datetimefield_value``: the
    datetime itself for PostgreSQL, its UTC text for SQLite), and each value given is
    put in that form, as ``DateTimeField.get_db_prep_value`` puts it. The variables
    named in ``lists`` are lists of values of any length, each ONE parameter: the
    build puts them in a ``ValueList`` (it gets a list of one stand-in integer), and
    each list given is put in the ``ValueList`` parameter's form. The variables
    named in ``texts`` (a mapping: name → the *forms* of the text, functions of it
    giving the other parameter values that hold it, e.g. a LIKE pattern or a
    full-text query; ``{}`` for the text only) are strings: the build gets a stand-in
    word, and each parameter equal to it or to one of its forms takes the value given
    (or its form) in its place; a stand-in found anywhere else (in the SQL, or in a
    parameter no form gives) is refused (``ValueError``). The statement's SQL must not
    depend on the text: a caller keeps one statement per kind of text that changes
    it. ``rows(**values)``
    then runs the kept SQL with the values in their places: the rows as the database
    driver returns them (no field converters: for plain text and number columns). For
    a small query on a hot path that Django would build and compile anew each time
    (``tickets.permissions.ticket_perms``: ~3k Python calls a query).

    ``instances(**values)`` gives the model instances the queryset would give, its
    annotations and ``select_related`` rows included, converted as the queryset
    converts them (a SQLite datetime, say), from what the compiler worked out once;
    no ``prefetch_related`` (refused). ``prefetch`` keeps them as an instance's
    prefetched relation.

    With ``update`` (a function of the variables giving the values to write, as
    ``QuerySet.update`` takes them) the statement is the UPDATE that
    ``build(...).update(**update(...))`` runs, and ``updated(**values)`` runs it and
    returns the number of rows changed, as ``update`` does.

    ``prepare``: run on a cursor that prepares the statement on the server once per
    connection (``portal.prepared.web_cursor``), for a statement whose best plan does
    not depend on its values (a read by primary key): PostgreSQL may keep one
    generic plan for it. Not for a search or a list whose plan does."""

    # Far from any id and unlikely as a parameter, yet in the range of a 32-bit
    # integer column: Django drops a lookup with a value out of its field's range.
    _STAND_IN = -2_013_265_917
    # A moment no filter of ours names (microseconds included), one a variable.
    _STAND_IN_MOMENT = datetime(1901, 2, 3, 4, 5, 6, 789_012, tzinfo=UTC)
    # A text variable's stand-in: one word of letters (unchanged by LIKE escaping,
    # a word to a full-text parser), its variable's letter in the middle.
    _STAND_IN_TEXT = "qzxkepttext{}xzq"

    def __init__(
        self,
        build,
        variables: tuple[str, ...],
        datetimes=(),
        lists=(),
        update=None,
        texts=None,
        prepare: bool = False,
    ):
        self.build = build
        self.update = update
        self.prepare = prepare
        self.variables = tuple(variables)
        self.datetimes = frozenset(datetimes)
        self.lists = frozenset(lists)
        self.texts = {name: dict(forms) for name, forms in (texts or {}).items()}
        kinds = (self.datetimes, self.lists, frozenset(self.texts))
        if not frozenset().union(*kinds) <= set(self.variables):
            raise ValueError(
                "KeptStatement: datetimes, lists and texts must be among the variables"
            )
        if sum(len(kind) for kind in kinds) != len(frozenset().union(*kinds)):
            raise ValueError(
                "KeptStatement: a variable is a datetime or a list, or a text"
            )
        if len(self.variables) > 26:
            raise ValueError("KeptStatement: at most 26 variables")
        self._compiled = {}
        self._compilers = {}
        self._readers = {}

    def _compile(self, alias):
        stand_ins = {
            name: self._STAND_IN_MOMENT + timedelta(seconds=n)
            if name in self.datetimes
            else [self._STAND_IN - n]
            if name in self.lists
            else self._STAND_IN_TEXT.format(chr(ord("a") + n))
            if name in self.texts
            else self._STAND_IN - n
            for n, name in enumerate(self.variables)
        }
        queryset = self.build(**stand_ins).using(alias)
        query = queryset.query
        if self.update is not None:  # what QuerySet.update compiles
            if query.is_sliced or query.combinator:
                raise ValueError("KeptStatement: an UPDATE of a plain filter")
            query = query.chain(UpdateQuery)
            query.add_update_values(self.update(**stand_ins))
            query.annotations = {}
        compiler = query.get_compiler(using=alias)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            raise ValueError("KeptStatement: the stand-ins left no query") from None
        params = list(params)
        places = {name: [] for name in self.variables}
        connection = connections[alias]
        adapt = connection.ops.adapt_datetimefield_value
        by_value, lists, texts, words = {}, [], {}, []
        for name, value in stand_ins.items():
            if name in self.datetimes:
                by_value[adapt(value)] = name
            elif name in self.lists:
                lists.append((ValueList.parameter(value, connection), name))
            elif name in self.texts:
                if value in sql:
                    raise ValueError(f"KeptStatement: the text {name} is in the SQL")
                texts[value] = (name, None)
                words.append(value)
                for form in self.texts[name].values():
                    texts.setdefault(form(value), (name, form))
            else:
                by_value[value] = by_value[str(value)] = name
        for index, value in enumerate(params):
            if type(value) is str and value in texts:
                places[texts[value][0]].append((index, texts[value][1]))
            elif type(value) is str and any(word in value for word in words):
                raise ValueError("KeptStatement: a text in a form not given")
            elif type(value) in (int, str, datetime) and value in by_value:
                places[by_value[value]].append(index)
            elif type(value) in (list, str):
                for form, name in lists:
                    if value == form:
                        places[name].append(index)
        missing = [name for name, found in places.items() if not found]
        if missing:
            raise ValueError(f"KeptStatement: {missing} not among the parameters")
        self._compilers[alias] = (queryset, compiler)
        return queryset, sql, params, places

    def _sql(self, using: str, values: dict):
        kept = self._compiled.get(using)
        if kept is None:
            kept = self._compiled[using] = self._compile(using)
        queryset, sql, params, places = kept
        params = list(params)
        for name, indexes in places.items():
            value = values[name]
            if name in self.datetimes and value is not None:
                if timezone.is_naive(value):
                    raise ValueError(f"KeptStatement: {name} needs an aware datetime")
                value = connections[queryset.db].ops.adapt_datetimefield_value(value)
            elif name in self.lists and value is not None:
                if isinstance(value, str | bytes):
                    raise ValueError(f"KeptStatement: {name} needs a list of values")
                value = ValueList.parameter(value, connections[queryset.db])
            elif name in self.texts:
                if value is not None and not isinstance(value, str):
                    raise ValueError(f"KeptStatement: {name} needs a text")
                for index, form in indexes:
                    params[index] = (
                        value if form is None or value is None else form(value)
                    )
                continue
            for index in indexes:
                params[index] = value
        return queryset, sql, params

    def rows(self, using: str = DEFAULT_DB_ALIAS, **values) -> list[tuple]:
        """The rows as the database driver returns them."""
        queryset, sql, params = self._sql(using, values)
        with _cursor(queryset.db, self.prepare) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def updated(self, using: str = DEFAULT_DB_ALIAS, **values) -> int:
        """Run the kept UPDATE (``update``) and return how many rows it changed."""
        if self.update is None:
            raise ValueError("KeptStatement.updated needs an update")
        queryset, sql, params = self._sql(using, values)
        with transaction.mark_for_rollback_on_error(using=queryset.db):
            with _cursor(queryset.db, self.prepare) as cursor:
                cursor.execute(sql, params)
                return cursor.rowcount

    def instances(self, using: str = DEFAULT_DB_ALIAS, **values) -> list:
        """The model instances the queryset would give for ``values``: its fields,
        annotations and ``select_related`` rows converted and set as Django's own
        iterable sets them, from the compiler kept with the SQL."""
        reader = self._readers.get(using)
        if reader is None:  # before anything runs: refused for an UPDATE
            reader = self._readers[using] = self._reader(using)
        queryset, sql, params = self._sql(using, values)
        with _cursor(queryset.db, self.prepare) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return self.instances_of(rows, using)

    def statement(self, using: str = DEFAULT_DB_ALIAS, **values) -> tuple[str, list]:
        """The kept SQL and its parameters for ``values``, to run inside a larger
        statement (a ``WITH`` part: ``tickets.references``/``deflection``; a subquery:
        ``tickets.permissions.KeptVisible.instances_each``);
        ``instances_of`` then gives the instances of the rows it read."""
        _, sql, params = self._sql(using, values)
        return sql, params

    def instances_of(self, rows, using: str = DEFAULT_DB_ALIAS) -> list:
        """``instances`` of ``rows``, rows of the kept SQL (its columns, in order)
        read by the caller."""
        reader = self._readers.get(using)
        if reader is None:
            reader = self._readers[using] = self._reader(using)
        model, start, end, init_list, related, annotations, converters = reader
        db = self._compilers[using][0].db
        connection = connections[db]
        plain = {}  # model -> instances.plainly_made, asked once per call

        def made(model, names, values):
            known = plain.get(model)
            if known is None:
                known = plain[model] = instances.plainly_made(model)
            return instances.from_db(model, db, names, values, plain=known)

        found = []
        for row in rows:
            if converters:
                row = list(row)
                for position, (functions, expression) in converters:
                    value = row[position]
                    for function in functions:
                        value = function(value, expression, connection)
                    row[position] = value
            instance = made(model, init_list, row[start:end])
            for populator in related:
                _populate(populator, row, instance, made)
            for name, position in annotations:
                setattr(instance, name, row[position])
            found.append(instance)
        return found

    def _reader(self, using: str) -> tuple:
        """What ``ModelIterable`` works out from the compiler for each query, once.
        A related manager's ``_known_related_objects`` (the instance it was built
        from: a stand-in here) are not set on the instances."""
        if self.update is not None:
            raise ValueError("KeptStatement.instances reads a SELECT")
        self._sql(using, {n: None for n in self.variables})  # compiled
        queryset, compiler = self._compilers[using]
        if queryset._prefetch_related_lookups:
            raise ValueError("KeptStatement.instances is one query: no prefetch")
        if queryset._iterable_class is not ModelIterable:
            raise ValueError("KeptStatement.instances reads model instances")
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        init_list = [column[0].target.attname for column in select[start:end]]
        related = get_related_populators(klass_info, select, queryset.db)
        converters = compiler.get_converters(
            [column[0] for column in select[: compiler.col_count]]
        )
        return (
            klass_info["model"],
            start,
            end,
            init_list,
            related,
            tuple(compiler.annotation_col_map.items()),
            tuple(converters.items()),
        )

    def prefetch(self, instance, name: str, using: str = DEFAULT_DB_ALIAS, **values):
        """Keep ``instances(**values)`` as ``instance``'s prefetched relation ``name``
        (what ``prefetch_related_objects([instance], name)`` leaves), so that
        ``getattr(instance, name).all()`` gives them without a query; the statement
        must read what that relation holds (built from ``Model(pk=…).<name>.all()``).
        The kept queryset is an empty one holding the rows: a further ``filter`` on it
        reads nothing, where a prefetch would query the relation again."""
        found = self.instances(using, **values)
        kept = self._sql(using, values)[0].model._default_manager.none()
        kept._result_cache = found
        kept._prefetch_done = True
        cache = instance.__dict__.setdefault("_prefetched_objects_cache", {})
        cache[name] = kept
        return found

    def forget(self) -> None:
        """Compile again at the next use (tests that change the database vendor)."""
        self._compiled.clear()
        self._compilers.clear()
        self._readers.clear()


def _cursor(alias: str, prepare: bool):
    """A cursor of the database ``alias`` for a kept statement: prepared on the
    server (``portal.prepared.web_cursor``) for one made with ``prepare``."""
    db = connections[alias]
    return prepared.web_cursor(db) if prepare else db.cursor()


def _populate(populator, row, from_obj, made) -> None:
    """``populator.populate(row, from_obj)`` (Django's ``RelatedPopulator``, step by
    step) with its instances made by ``made`` (``portal.instances.from_db``)."""
    if type(populator) is not RelatedPopulator:
        populator.populate(row, from_obj)
        return
    if populator.reorder_for_init:
        data = populator.reorder_for_init(row)
    else:
        data = row[populator.cols_start : populator.cols_end]
    if data[populator.pk_idx] is None:
        obj = None
    else:
        obj = made(populator.model_cls, populator.init_list, data)
        for nested in populator.related_populators:
            _populate(nested, row, obj, made)
    populator.local_setter(from_obj, obj)
    if obj is not None:
        populator.remote_setter(obj, from_obj)


def columns_of(model, path: str, prefix: str) -> dict:
    """Annotations reading every column of ``model`` reached by ``path`` (what
    ``select_related(path)`` would read) as ``prefix + attname``: for a
    ``KeptStatement.instances`` read, which reads one model; ``built_from_columns``
    makes the instance of them."""
    return {
        f"{prefix}{field.attname}": F(f"{path}__{field.attname}")
        for field in model._meta.concrete_fields
    }


def built_from_columns(instance, model, prefix: str):
    """The ``model`` instance of the columns ``columns_of`` put on ``instance``
    (removed from it), as the database gave them (converted as the queryset converts
    its annotations; ``instances.from_db``, the owner of the short way)."""
    names = [field.attname for field in model._meta.concrete_fields]
    values = [instance.__dict__.pop(f"{prefix}{name}") for name in names]
    return instances.from_db(model, instance._state.db, names, values)


def _unique(meta, name: str) -> bool:
    """Whether the field ``name`` is unique: by itself, or by a unique constraint on
    it alone without a condition (what ``ON CONFLICT (name)`` can name)."""
    if meta.get_field(name).unique:
        return True
    return any(c.fields == (name,) for c in meta.total_unique_constraints)


# --- values a field saves as they are given ---------------------------------------
# ``Field.get_db_prep_save`` is 5 to 10 Python calls a field (``get_db_prep_value``,
# ``get_prep_value``, ``to_python``, the backend's adapter) that, for these exact
# field classes on PostgreSQL, return the value they are given (checked against
# Django by ``portal/tests/test_sql_insert.py``); a ``KeptInsert`` of a filing
# prepares ~40 such values. Any other class, vendor or value: the field's own steps.

_TEXT, _MOMENT, _UUID, _KEY = "text", "moment", "uuid", "key"


def _as_given_kind(field, connection):
    """Which values ``field.get_db_prep_save(value, connection)`` returns unchanged
    (``_as_given``), or None to always ask the field."""
    if connection.vendor != "postgresql":
        return None
    kind = type(field)
    if kind is models.CharField or kind is models.TextField:
        return _TEXT  # None or any str (a choice's enum member too)
    if kind is models.DateTimeField:
        return _MOMENT  # None or an aware datetime
    if kind is models.UUIDField and connection.features.has_native_uuid_field:
        return _UUID  # None or a UUID
    if kind is models.ForeignKey or kind is models.OneToOneField:
        target = type(field.target_field)
        if target is models.BigAutoField or target is models.AutoField:
            return _KEY  # None or an int
    return None


def _as_given(kind, value) -> bool:
    """Whether a field of ``kind`` saves ``value`` as it is."""
    if value is None:
        return kind is not None
    if kind is _TEXT:
        return isinstance(value, str)
    if kind is _KEY:
        return type(value) is int
    if kind is _MOMENT:
        return type(value) is datetime and value.utcoffset() is not None
    return kind is _UUID and type(value) is uuid.UUID


#: ``pre_save``s that are ``Field``'s (``getattr`` of the attname) for a field with
#: neither ``auto_now`` nor ``auto_now_add``: each calls its parent's then.
_DATE_PRE_SAVES = (models.DateField.pre_save, models.DateTimeField.pre_save)


def _read_plainly(field) -> str | None:
    """The attname whose value in the instance's ``__dict__`` is what
    ``field.pre_save(instance, add=True)`` returns, or None to call it: ``Field``'s own
    ``pre_save`` (``getattr`` of the attname; not ``auto_now``'s, a file's; a date's
    or a moment's without ``auto_now`` or ``auto_now_add`` is ``Field``'s) through
    Django's plain descriptor of a value (``DeferredAttribute``, which yields to the
    ``__dict__``; ``ForeignKeyDeferredAttribute``, whose ``__get__`` reads it there)."""
    own = type(field).pre_save
    if own is not models.Field.pre_save and (
        own not in _DATE_PRE_SAVES or field.auto_now or field.auto_now_add
    ):
        return None
    descriptor = field.model.__dict__.get(field.attname)
    if type(descriptor) not in (DeferredAttribute, ForeignKeyDeferredAttribute):
        return None
    return field.attname


class KeptInsert:
    """``instance.save(force_insert=True)`` for a new row of ``model``, its INSERT
    written once per database alias (``Model.save`` builds an ``InsertQuery`` and
    compiles it for every row: ~700 Python calls; a filing writes three).

    Each ``save(instance)`` does what ``Model.save`` does for a new instance of a
    model with an automatic primary key and no parents: the related fields' ids
    taken from their cached objects (``_prepare_related_fields_for_save``),
    ``pre_save``, each field's ``pre_save(instance, add=True)`` (``auto_now`` and
    ``auto_now_add`` included) and ``get_db_prep_save`` as the insert compiler calls
    them, the kept SQL run (its failure marks the transaction for rollback as
    ``save_base`` does), the returned columns set on the instance (converted as the
    compiler converts them), ``_state``, ``post_save``. Refused: a saved instance or
    one with a primary key, an instance of another class, an expression as a
    value, a model with parents, a proxy, ``order_with_respect_to`` or a database
    default, and a model with a ``save`` of its own unless ``own_save_checked``
    (the caller states that it only guards what is refused here).

    PostgreSQL only, for a statement that does more than insert the values given
    (each option changes the SQL Django writes, which is checked to be the plain
    ``VALUES (%s, …) RETURNING`` form first):

    - ``expressions``: a field's value computed in SQL, ``{name: sql}`` where ``sql``
      holds one ``%s`` that receives the field's own prepared value (the reference
      drawn from a sequence with its prefix: ``tickets.references``);
    - ``returning``: more fields returned and set on the instance (the computed ones);
    - ``skip_conflict_on``: ``ON CONFLICT (<its column>) DO NOTHING``: a value taken
      makes the statement return no row, the transaction intact (``part``'s caller
      sees an empty result and may run it again);
    - ``when``: the row is inserted only if this SQL condition (no parameters) holds:
      ``INSERT … SELECT <the values> WHERE <when>``, each value cast to its column's
      type (an untyped literal in a SELECT is text, which PostgreSQL does not assign
      to a uuid, integer or timestamp column); a caller puts the statement in a
      ``WITH`` part whose condition reads another part (``tickets.deflection``)."""

    def __init__(
        self,
        model,
        *,
        own_save_checked: bool = False,
        expressions=None,
        returning=(),
        skip_conflict_on: str | None = None,
        when: str | None = None,
    ):
        meta = model._meta
        if meta.parents or meta.proxy or meta.order_with_respect_to:
            raise ValueError("KeptInsert: one table, no proxy, no ordering")
        if meta.auto_field is None or meta.pk is not meta.auto_field:
            raise ValueError("KeptInsert: an automatic primary key")
        if model.save is not Model.save and not own_save_checked:
            raise ValueError(f"KeptInsert: {model.__name__} has a save of its own")
        self.model = model
        self.expressions = dict(expressions or {})
        for name, sql in self.expressions.items():
            if sql.count("%s") != 1 or sql.replace("%s", "").count("%") != 0:
                raise ValueError(f"KeptInsert: {name}'s SQL needs one %s, no other %")
        self.also_returning = tuple(meta.get_field(name) for name in returning)
        self.skip_conflict_on = (
            None if skip_conflict_on is None else meta.get_field(skip_conflict_on)
        )
        if self.skip_conflict_on is not None and not _unique(meta, skip_conflict_on):
            raise ValueError("KeptInsert: a conflict on a unique field")
        self.when = when
        self._compiled = {}

    def _changed(self) -> bool:
        return bool(
            self.expressions
            or self.also_returning
            or self.skip_conflict_on
            or self.when is not None
        )

    def _variant(self, connection, fields, returning, sql: str) -> tuple:
        """The SQL of the options, from Django's plain INSERT ``sql`` (checked), and
        the fields it returns."""
        if connection.vendor != "postgresql":
            raise ValueError("KeptInsert: the options are PostgreSQL's")
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = ", ".join(quote(field.column) for field in fields)
        places = ", ".join(["%s"] * len(fields))
        returned, returned_params = connection.ops.return_insert_columns(returning)
        plain = f"INSERT INTO {table} ({columns}) VALUES ({places}) {returned}"  # noqa: S608
        if returned_params or sql != plain:
            raise ValueError("KeptInsert: Django's INSERT is not the plain VALUES form")
        names = {field.name for field in fields}
        unknown = set(self.expressions) - names
        if unknown:
            raise ValueError(f"KeptInsert: {sorted(unknown)} are not inserted fields")
        values = []
        for field in fields:
            place = "%s"
            if self.when is not None:
                place = f"CAST(%s AS {field.cast_db_type(connection)})"
            values.append(self.expressions.get(field.name, "%s").replace("%s", place))
        values = ", ".join(values)
        if self.when is None:
            head = f"INSERT INTO {table} ({columns}) VALUES ({values})"  # noqa: S608
        else:
            head = f"INSERT INTO {table} ({columns}) SELECT {values} WHERE {self.when}"
        if self.skip_conflict_on is not None:
            head += f" ON CONFLICT ({quote(self.skip_conflict_on.column)}) DO NOTHING"
        returning = [
            *returning,
            *(field for field in self.also_returning if field not in returning),
        ]
        return f"{head} {connection.ops.return_insert_columns(returning)[0]}", returning

    def _compile(self, using: str) -> tuple:
        meta = self.model._meta
        fields = [
            field
            for field in meta.local_concrete_fields
            if not field.generated and field is not meta.auto_field
        ]
        if any(field.has_db_default() for field in fields):
            raise ValueError("KeptInsert: no database defaults")
        returning = meta.db_returning_fields
        query = InsertQuery(self.model)
        query.insert_values(fields, [self.model()])
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = returning
        ((sql, params),) = compiler.as_sql()
        if len(params) != len(fields):
            raise ValueError("KeptInsert: one parameter a field")
        features = connections[using].features
        if not features.can_return_columns_from_insert and len(returning) != 1:
            raise ValueError("KeptInsert: the vendor returns the new id only")
        if self._changed():
            sql, returning = self._variant(connections[using], fields, returning, sql)
        converters = compiler.get_converters(
            [field.get_col(meta.db_table) for field in returning]
        )
        connection = connections[using]
        fields = [
            (field, _as_given_kind(field, connection), _read_plainly(field))
            for field in fields
        ]
        return fields, returning, sql, compiler.returning_params, converters

    def save(self, instance, using: str | None = None):
        """Insert ``instance`` (new, of ``model``) as ``save(force_insert=True)``.
        None when the options left the row out (``skip_conflict_on``, ``when``): the
        instance stays new and no ``post_save`` is sent."""
        sql, params, finish = self.part(instance, using)
        connection = connections[finish.using]
        with transaction.mark_for_rollback_on_error(using=finish.using):
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                if connection.features.can_return_columns_from_insert:
                    row = connection.ops.fetch_returned_insert_columns(
                        cursor, finish.returning_params
                    )
                else:
                    meta = self.model._meta
                    row = (
                        connection.ops.last_insert_id(
                            cursor, meta.db_table, meta.pk.column
                        ),
                    )
        return None if row is None else finish(row)

    def part(self, instance, using: str | None = None):
        """``save`` in two halves, for a caller that runs the INSERT inside a statement
        of its own (a ``WITH`` part of a PostgreSQL statement): everything ``save``
        does before the statement (``pre_save`` sent), then ``(sql, params, finish)``;
        ``finish(row)`` with the row the INSERT returned does the rest (``post_save``
        sent) and returns the instance."""
        model = self.model
        if type(instance) is not model:
            raise ValueError(f"KeptInsert: not a {model.__name__}")
        if not instance._state.adding or instance.pk is not None:
            raise ValueError("KeptInsert: a new instance, without a primary key")
        instance._prepare_related_fields_for_save(operation_name="save")
        using = using or router.db_for_write(model, instance=instance)
        kept = self._compiled.get(using)
        if kept is None:
            kept = self._compiled[using] = self._compile(using)
        fields, returning, sql, returning_params, converters = kept
        pre_save.send(
            sender=model, instance=instance, raw=False, using=using, update_fields=None
        )
        connection = connections[using]
        params = [None] * len(fields)  # set by position: no call a field
        values = instance.__dict__
        for index, (field, kind, attname) in enumerate(fields):
            if attname is not None and attname in values:
                value = values[
                    attname
                ]  # what ``Field.pre_save`` reads (``_read_plainly``)
            else:
                value = field.pre_save(instance, True)
            if kind is not None:
                # ``_as_given``, its commonest answers first without a call: None,
                # a plain str for text, an int for a key
                if (
                    value is None
                    or (kind is _TEXT and type(value) is str)
                    or (kind is _KEY and type(value) is int)
                    or _as_given(kind, value)
                ):
                    params[index] = value  # what ``get_db_prep_save`` returns
                    continue
            if hasattr(value, "resolve_expression"):
                raise ValueError(f"KeptInsert: {field.name} is an expression")
            params[index] = field.get_db_prep_save(value, connection=connection)

        def finish(row):
            row = list(row)
            for position, (functions, expression) in converters.items():
                value = row[position]
                for function in functions:
                    value = function(value, expression, connection)
                row[position] = value
            for value, field in zip(row, returning, strict=True):
                setattr(instance, field.attname, value)
            instance._state.db = using
            instance._state.adding = False
            post_save.send(
                sender=model,
                instance=instance,
                created=True,
                update_fields=None,
                raw=False,
                using=using,
            )
            return instance

        finish.using = using
        finish.returning_params = returning_params
        return sql, params, finish

    def forget(self) -> None:
        """Compile again at the next use (tests that change the database vendor)."""
        self._compiled.clear()


# --- several statements in one round trip --------------------------------------------
# A part is ``(sql, params, finish)``, ``finish(rows)`` giving the part's value from
# its statement's rows (``KeptStatement.statement`` and ``instances_of``;
# ``tickets.permissions.visible_statements``).


def read_together(parts, using: str = DEFAULT_DB_ALIAS) -> list:
    """``[finish(rows of sql) for sql, params, finish in parts]``, the statements sent
    in ONE round trip on PostgreSQL (joined by ``;`` and run by one ``execute``: the
    client-side binding cursor Django uses puts each statement's parameters in it;
    each statement's rows then read in turn, ``nextset``), one after the other
    elsewhere (SQLite: no round trip to save) and with server-side binding (one
    statement an ``execute``). Each statement keeps its own plan."""
    parts = list(parts)
    connection = connections[using]
    together = (
        len(parts) > 1
        and connection.vendor == "postgresql"
        and not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding")
    )
    found = []
    with connection.cursor() as cursor:
        if together:
            params = [value for _, part_params, _ in parts for value in part_params]
            cursor.execute("; ".join(sql for sql, _, _ in parts), params)
            found.append(cursor.fetchall())
            while cursor.nextset():
                found.append(cursor.fetchall())
            if len(found) != len(parts):  # pragma: no cover - one result a statement
                raise RuntimeError("read_together: a result set per statement")
        else:
            for sql, part_params, _ in parts:
                cursor.execute(sql, part_params)
                found.append(cursor.fetchall())
    return [finish(rows) for (_, _, finish), rows in zip(parts, found, strict=True)]
