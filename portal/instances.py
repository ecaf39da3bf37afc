"""Model instances made from kept field values, as ``Model.from_db`` makes them, with
less work: for values read once and handed out many times (a process's copy of the
default queue, a queue's agents), where ``Model.__init__``'s per-field ``setattr``
and its two signal sends are most of the cost (~40 Python calls a user).

``from_db(model, db, names, values)`` is ``model.from_db(db, names, values)``; it
takes the short way only for a model ``plainly_made`` and ``names`` its concrete
fields' attnames in their order, all of them or some (a ``.only()`` or ``.defer()``
row: the others are left unset, deferred, as Django's ``from_db`` leaves them), and
Django's ``from_db`` otherwise (tests compare the two instance by instance,
attribute by attribute). ``made_new(model, **given)`` is ``model(**given)`` (a new,
unsaved instance) the same way: each field's default asked of the field only when it
is a callable."""

from django.db.models import DEFERRED, ForeignKey, ForeignObjectRel, Model
from django.db.models.base import ModelState
from django.db.models.fields import Field
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

_PLAIN_DESCRIPTORS = (DeferredAttribute, ForeignKeyDeferredAttribute)


def plainly_made(model) -> bool:
    """Whether ``model.from_db`` of all its concrete fields does no more than the
    short way does: Django's own ``from_db`` and ``__init__``, no ``pre_init`` or
    ``post_init`` receiver, and each field's value stored in the instance's
    ``__dict__`` (no descriptor of its own that keeps more, as a file field's does;
    a foreign key's id descriptor only forgets a cached related object, and a new
    instance has none). Receivers can be connected at any time: ask per use; the
    descriptors are the class's, asked once per model (``_foreign_key_places``: once
    per model and attnames given)."""
    return (
        model.from_db.__func__ is Model.from_db.__func__
        and model.__init__ is Model.__init__
        and not pre_init.has_listeners(model)
        and not post_init.has_listeners(model)
        and _plain_descriptors(model)
    )


_plain: dict = {}  # model -> whether its concrete fields' descriptors are all plain


def _plain_descriptors(model) -> bool:
    found = _plain.get(model)
    if found is None:
        found = _plain[model] = all(
            type(model.__dict__.get(field.attname)) in _PLAIN_DESCRIPTORS
            for field in model._meta.concrete_fields
        )
    return found


def from_db(model, db, names, values, *, plain=None):
    """``model.from_db(db, names, values)``; ``plain``: ``plainly_made(model)`` when
    the caller asked it already (once for several instances)."""
    if plain is None:
        plain = plainly_made(model)
    if not plain or len(values) != len(names):
        return model.from_db(db, names, values)
    foreign_keys = _foreign_key_places(model, names)
    if foreign_keys is None:  # not the concrete fields' attnames in their order
        return model.from_db(db, names, values)
    # Model.__init__: the state first, then each given field's value by attname (a
    # foreign key's id descriptor, given a value, asks the state's related-object
    # cache, which makes it); a deferred field is not set
    new = model.__new__(model)
    state = ModelState()
    for index in foreign_keys:
        if values[index] is not None:
            state.fields_cache = {}
            break
    state.adding = False
    state.db = db
    new.__dict__["_state"] = state
    new.__dict__.update(zip(names, values, strict=True))
    return new


# (model, attnames given) -> the positions of the foreign keys' ids among them, or
# None when they are not concrete fields' attnames in the fields' order
_places: dict = {}


def _foreign_key_places(model, names) -> tuple | None:
    key = (model, tuple(names))
    try:
        return _places[key]
    except KeyError:
        pass
    fields = model._meta.concrete_fields
    position = {field.attname: n for n, field in enumerate(fields)}
    order = [position.get(name) for name in names]
    found = None
    if None not in order and order == sorted(set(order)):  # rising: in order
        found = tuple(
            index
            for index, name in enumerate(names)
            if type(model.__dict__.get(name)) is ForeignKeyDeferredAttribute
        )
    if len(_places) >= 4096:  # begun again: the shapes are the code's, not the data's
        _places.clear()
    _places[key] = found
    return found


def made_new(model, **given):
    """``model(**given)``; the short way for a model ``plainly_made`` given only its
    fields (a foreign key by its name, a related object set through its descriptor as
    ``Model.__init__`` sets it, or by its attname), ``model(**given)`` otherwise. A
    field not given gets its default: a callable's called each time, any other kept
    per model (``Field.get_default`` gives the same object each time for it too)."""
    if not plainly_made(model):
        return model(**given)
    plan = _new_plan(model)
    if not plan[0].issuperset(given):
        return model(**given)
    new = model.__new__(model)
    values = new.__dict__
    values["_state"] = ModelState()
    for field, name, attname, called, default in plan[1]:
        if name is not None and name in given:
            if attname in given:  # both: Django's own TypeError
                return model(**given)
            related = given[name]
            if related is not DEFERRED:
                setattr(new, name, related)  # the descriptor: checked and cached
            continue
        if attname in given:
            value = given[attname]
        elif called:
            value = field.get_default()
        else:
            value = default
        if value is not DEFERRED:
            values[attname] = value
    return new


_DEFAULTS_KEPT = (Field.get_default, ForeignKey.get_default)
_new_plans: dict = {}  # model -> (the names given, the fields' steps)


def _new_plan(model):
    found = _new_plans.get(model)
    if found is None:
        steps, names = [], set()
        for field in model._meta.fields:
            if field.column is None or field.generated:
                continue
            related = isinstance(field.remote_field, ForeignObjectRel)
            called = type(field).get_default not in _DEFAULTS_KEPT or (
                field.has_default() and callable(field.default)
            )
            default = None if called else field.get_default()
            name = field.name if related else None
            steps.append((field, name, field.attname, called, default))
            names.add(field.attname)
            if related:
                names.add(field.name)
        found = _new_plans[model] = (frozenset(names), tuple(steps))
    return found
