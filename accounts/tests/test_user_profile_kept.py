"""``accounts.user_profile``: ``user.wagtail_userprofile`` read through a kept
statement runs Django's own SQL with Django's parameter, leaves what Django's
descriptor leaves (the profile or its absence, cached on both sides), and keeps nothing
between users or requests: a profile changed is read as changed by the next user
instance, as the admin shows it at the next page."""

import cProfile
import pstats

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models.fields.related_descriptors import ReverseOneToOneDescriptor
from django.test.utils import CaptureQueriesContext
from wagtail.users.models import UserProfile

from accounts import user_profile

pytestmark = pytest.mark.django_db


def _djangos(user):
    """What Django's own descriptor gives and asks for ``user``."""
    plain = ReverseOneToOneDescriptor(UserProfile.user.field.remote_field)
    with CaptureQueriesContext(connection) as captured:
        try:
            found = plain.__get__(user)
        except UserProfile.DoesNotExist as error:
            found = error
    return found, [(q["sql"]) for q in captured.captured_queries]


def _ours(user):
    with CaptureQueriesContext(connection) as captured:
        try:
            found = user.wagtail_userprofile
        except UserProfile.DoesNotExist as error:
            found = error
    return found, [(q["sql"]) for q in captured.captured_queries]


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def test_the_user_model_reads_its_profile_through_the_kept_descriptor():
    descriptor = get_user_model().__dict__["wagtail_userprofile"]
    assert type(descriptor) is user_profile.KeptProfileDescriptor
    user_profile.install(get_user_model())  # a second install changes nothing
    assert get_user_model().__dict__["wagtail_userprofile"] is descriptor


def test_a_profile_is_read_as_django_reads_it(make_user):
    user = make_user("p@example.com")
    profile = UserProfile.get_for_user(user)
    profile.preferred_language, profile.current_time_zone = "pl", "Europe/Warsaw"
    profile.save()
    theirs, their_sql = _djangos(_fresh(user))
    mine_user = _fresh(user)
    ours, our_sql = _ours(mine_user)
    assert our_sql == their_sql and len(our_sql) == 1
    assert "LIMIT 21" in our_sql[0]
    assert type(ours) is UserProfile and ours.pk == theirs.pk
    assert {k: v for k, v in ours.__dict__.items() if k != "_state"} == {
        k: v for k, v in theirs.__dict__.items() if k != "_state"
    }
    assert (ours._state.db, ours._state.adding) == (theirs._state.db, False)
    assert ours.user is mine_user  # the user cached on the profile, as Django does
    assert ours.get_preferred_language() == "pl"
    again, sql = _ours(mine_user)
    assert again is ours and sql == []  # cached on the user
    ours.current_time_zone = "Europe/Moscow"
    ours.save()  # the instance saves as Django's does
    assert UserProfile.objects.get(pk=ours.pk).current_time_zone == "Europe/Moscow"


def test_a_user_without_a_profile_has_none_as_with_django(make_user):
    user = make_user("none@example.com")
    theirs, their_sql = _djangos(_fresh(user))
    mine = _fresh(user)
    ours, our_sql = _ours(mine)
    assert our_sql == their_sql and len(our_sql) == 1
    missing = get_user_model().wagtail_userprofile.RelatedObjectDoesNotExist
    assert type(ours) is missing and str(ours) == str(theirs)
    assert type(theirs).__mro__[1:] == missing.__mro__[1:]
    assert isinstance(ours, AttributeError)
    assert not hasattr(mine, "wagtail_userprofile")  # cached: no second query
    with CaptureQueriesContext(connection) as captured:
        assert getattr(mine, "wagtail_userprofile", None) is None
    assert len(captured) == 0


def test_a_changed_profile_is_read_by_the_next_user_instance(make_user):
    user = make_user("switch@example.com")
    first = _fresh(user)
    profile = UserProfile.get_for_user(user)
    assert first.wagtail_userprofile.get_preferred_language() != "ru"
    profile.preferred_language = "ru"
    profile.save()
    # the next request's user: read again, nothing kept between instances
    assert _fresh(user).wagtail_userprofile.get_preferred_language() == "ru"
    # the stale twin: an instance that read before keeps what it read (Django's
    # descriptor does the same) until it is read afresh
    assert first.wagtail_userprofile.preferred_language == ""
    first.refresh_from_db()
    assert first.wagtail_userprofile.preferred_language == "ru"


def test_a_profile_set_or_a_user_not_saved_is_djangos(make_user):
    unsaved = get_user_model()(email="x@example.com")
    with CaptureQueriesContext(connection) as captured:
        assert not hasattr(unsaved, "wagtail_userprofile")
    assert len(captured) == 0
    user = make_user("set@example.com")
    profile = UserProfile(user=user)
    assert user.wagtail_userprofile is profile  # set by the forward side


def test_the_admin_page_shows_a_language_switch_at_once(client, make_user):
    from django.contrib.auth.models import Group

    from accounts import roles

    agent = make_user("agent@example.com", is_staff=True)
    agent.groups.add(Group.objects.get_or_create(name=roles.AGENTS)[0])
    client.force_login(agent)
    page = client.get("/admin/helpdesk/tickets/")
    assert page.status_code == 200 and '<html lang="en"' in page.content.decode()
    profile = UserProfile.get_for_user(agent)
    profile.preferred_language = "pl"
    profile.save()
    assert '<html lang="pl"' in client.get("/admin/helpdesk/tickets/").content.decode()


def test_a_profile_read_costs_a_few_hundred_python_calls(make_user):
    user = make_user("calls@example.com")
    UserProfile.get_for_user(user)
    _fresh(user).wagtail_userprofile  # noqa: B018 - compiled once
    fresh = _fresh(user)
    profiler = cProfile.Profile()
    profiler.enable()
    fresh.wagtail_userprofile  # noqa: B018
    profiler.disable()
    calls = sum(v[1] for v in pstats.Stats(profiler).stats.values())
    assert calls < 400  # Django's descriptor: ~1,000 (the ORM builds and compiles)
