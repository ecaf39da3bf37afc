"""``portal.instances.from_db`` for rows of some fields (``.only()``, ``.defer()``):
the instance ``Model.from_db`` makes, attribute by attribute, in the same order, its
deferred fields left unset; and Django's own ``from_db`` where the names are not the
concrete fields' attnames in their order, or a receiver is connected."""

import itertools

import pytest
from django.contrib.auth import get_user_model
from django.db.models.signals import post_init

from accounts.models import Membership, Organization
from portal import instances

User = get_user_model()


def _same(made, plain):
    assert type(made) is type(plain)
    assert list(made.__dict__) == list(plain.__dict__)  # the same order
    for key, value in plain.__dict__.items():
        if key == "_state":
            assert made._state is not value
            assert made._state.__dict__ == value.__dict__
        else:
            assert made.__dict__[key] == value
            assert type(made.__dict__[key]) is type(value)
    assert made.get_deferred_fields() == plain.get_deferred_fields()


def _rows(model, names):
    """Each stored row's values for ``names``, as the database gives them."""
    return [tuple(row) for row in model.objects.order_by("pk").values_list(*names)]


@pytest.fixture
def members(make_user):
    ann, ben = make_user("ann@x.example"), make_user("ben@x.example", locale="pl")
    ben.approved_by = ann
    ben.save()
    for name in ("Zeta", "Alpha"):
        organization = Organization.objects.create(name=name, slug=name.lower())
        Membership.objects.create(user=ann, organization=organization)
    Membership.objects.create(user=ben, organization=organization)
    return ann, ben


def _subsets(model):
    """Every run of the model's attnames in order, and some picked ones: the pk
    alone, the pk and a foreign key, every other field."""
    names = [field.attname for field in model._meta.concrete_fields]
    found = [names[a:b] for a, b in itertools.combinations(range(len(names) + 1), 2)]
    foreign = [n for n in names if n.endswith("_id")]
    found += [[names[0], *foreign], names[::2], names[1::2], []]
    return found


@pytest.mark.django_db
@pytest.mark.parametrize("model", [User, Organization, Membership])
def test_some_fields_make_the_instance_from_db_makes(members, model):
    assert instances.plainly_made(model)
    for names in _subsets(model):
        for values in _rows(model, names) if names else [()]:
            made = instances.from_db(model, "default", names, values)
            _same(made, model.from_db("default", names, values))


@pytest.mark.django_db
def test_a_deferred_instance_reads_and_saves_as_djangos(members):
    ann, ben = members
    names = ["id", "email", "approved_by_id"]
    values = _rows(User, names)[1]
    made = instances.from_db(User, "default", names, values)
    assert (
        made.get_deferred_fields()
        == User.from_db("default", names, values).get_deferred_fields()
    )
    assert "display_name" in made.get_deferred_fields()
    assert made.approved_by == ann  # the foreign key's cache, as Django's
    assert made.locale == "pl"  # a deferred field read on use
    made.email = "ben2@x.example"
    made.save()  # only the loaded fields
    assert User.objects.get(pk=ben.pk).email == "ben2@x.example"
    # a membership whose foreign keys are None: no related cache made
    names = ["id", "role"]
    for values in _rows(Membership, names):
        made = instances.from_db(Membership, "default", names, values)
        assert "fields_cache" not in made._state.__dict__
        _same(made, Membership.from_db("default", names, values))


@pytest.mark.django_db
def test_names_out_of_order_or_unknown_are_djangos(members, monkeypatch):
    row = _rows(Membership, ["id", "user_id", "organization_id"])[0]
    shapes = [
        (["user_id", "id"], (row[1], row[0])),  # not in the fields' order
        (["id", "id"], (row[0], row[0])),  # twice
        (["id", "nickname"], (row[0], "x")),  # no such field
        (["id", "user_id"], (row[0],)),  # fewer values than names
    ]
    seen = []
    django_from_db = Membership.from_db

    def counted(db, names, values):
        seen.append(names)
        return django_from_db(db, names, values)

    monkeypatch.setattr(Membership, "from_db", counted)
    for names, values in shapes:
        try:
            expected = django_from_db("default", names, values)
        except Exception as error:  # noqa: BLE001 - Django's answer to a wrong shape
            expected = type(error)
        count = len(seen)
        try:  # plain=True: asked already (the patched from_db is not plainly made)
            got = instances.from_db(Membership, "default", names, values, plain=True)
        except Exception as error:  # noqa: BLE001
            assert type(error) is expected
        else:
            _same(got, expected)
        assert len(seen) == count + 1 and seen[-1] is names
    # the right shape takes the short way
    count = len(seen)
    instances.from_db(Membership, "default", ["id", "user_id"], row[:2], plain=True)
    assert len(seen) == count


@pytest.mark.django_db
def test_a_receiver_makes_it_djangos(members):
    calls = []

    def made(**kwargs):
        calls.append(kwargs["instance"].pk)

    post_init.connect(made, sender=Organization, weak=False)
    try:
        assert not instances.plainly_made(Organization)
        names = ["id", "name"]
        for values in _rows(Organization, names):
            got = instances.from_db(Organization, "default", names, values)
            _same(got, Organization.from_db("default", names, values))
    finally:
        post_init.disconnect(made, sender=Organization)
    assert len(calls) == 2 * 2


@pytest.mark.django_db
def test_a_kept_read_of_some_fields_gives_the_querysets_instances(members):
    from portal.sql import KeptStatement

    def read(user):
        return (
            Membership.objects.filter(user=user)
            .select_related("organization", "user")
            .only("role", "organization__name", "user__email", "user__approved_by")
            .order_by("pk")
        )

    kept = KeptStatement(read, ("user",))
    for person in members:
        got, expected = kept.instances(user=person.pk), list(read(person.pk))
        assert got
        for made, plain in zip(got, expected, strict=True):
            _same(made, plain)
            _same(made.organization, plain.organization)
            _same(made.user, plain.user)
