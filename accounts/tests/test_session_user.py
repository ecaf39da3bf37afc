"""``accounts.session_user``: the session's user and their role names in one statement,
with every outcome of Django's ``auth.get_user`` (the oracle) on each branch."""

from importlib import import_module

import pytest
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group
from django.test import RequestFactory
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from accounts import roles, session_user

MODEL = "django.contrib.auth.backends.ModelBackend"
ALLAUTH = "allauth.account.auth_backends.AuthenticationBackend"


class OwnReadBackend(ModelBackend):
    """A backend with its own ``get_user`` (as LDAP's has): never read by the kept
    statement."""

    calls = []

    def get_user(self, user_id):
        OwnReadBackend.calls.append(user_id)
        return super().get_user(user_id)


OWN = f"{__name__}.OwnReadBackend"


@pytest.fixture
def agent(make_user):
    user = make_user("agent@example.com", groups=[roles.AGENTS])
    user.groups.add(Group.objects.get_or_create(name=roles.VIEWERS)[0])
    return user


def _session(data):
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    for key, value in data.items():
        store[key] = value
    store.save()
    return store


def _signed_in(user, backend=MODEL, hash_=None):
    return {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: backend,
        HASH_SESSION_KEY: user.get_session_auth_hash() if hash_ is None else hash_,
    }


def _both(data):
    """Django's outcome and ours for two sessions holding the same ``data``: the
    user's class, pk and fields, and what became of each session."""
    outcomes = []
    for read in (auth.get_user, session_user.get_user):
        store = _session(data)
        key = store.session_key
        request = RequestFactory().get("/portal/")
        request.session = store
        user = read(request)
        fields = {
            name: value
            for name, value in vars(user).items()
            if name not in ("_state", "_role_names_cache")
        }
        outcomes.append(
            (
                type(user),
                user.pk,
                fields,
                dict(store.items()),
                store.session_key == key,
                store.session_key is None,
            )
        )
    return outcomes


@pytest.mark.parametrize("backend", [MODEL, ALLAUTH])
def test_a_signed_in_user_is_djangos_with_roles_in_one_statement(
    agent, backend, django_assert_num_queries
):
    django, ours = _both(_signed_in(agent, backend))
    assert ours == django and ours[1] == agent.pk
    request = RequestFactory().get("/portal/")
    request.session = _session(_signed_in(agent, backend))
    with django_assert_num_queries(1):
        user = session_user.get_user(request)
        assert roles.group_names(user) == {roles.AGENTS, roles.VIEWERS}
        assert user.email == "agent@example.com" and user.is_active


def test_a_user_without_roles_has_none_without_a_statement(
    make_user, django_assert_num_queries
):
    user = make_user("plain@example.com")
    request = RequestFactory().get("/portal/")
    request.session = _session(_signed_in(user))
    with django_assert_num_queries(1):
        assert roles.group_names(session_user.get_user(request)) == set()


def test_an_inactive_user_is_anonymous_and_the_session_kept(agent):
    agent.is_active = False
    agent.save()
    django, ours = _both(_signed_in(agent))
    assert ours == django
    assert ours[0] is AnonymousUser and ours[4] is True  # same key, not flushed


def test_a_deleted_user_is_anonymous(agent):
    data = _signed_in(agent)
    agent.delete()
    django, ours = _both(data)
    assert ours == django and ours[0] is AnonymousUser


def test_a_password_change_ends_the_other_sessions(agent):
    data = _signed_in(agent)
    agent.set_password("another-horse-battery")
    agent.save()
    django, ours = _both(data)
    assert ours == django
    assert ours[0] is AnonymousUser and ours[3] == {} and ours[4] is False


def test_a_session_without_its_hash_is_flushed(agent):
    data = _signed_in(agent)
    del data[HASH_SESSION_KEY]
    django, ours = _both(data)
    assert ours == django and ours[0] is AnonymousUser and ours[3] == {}


def test_a_hash_of_a_fallback_secret_is_renewed_under_a_new_key(agent, settings):
    old_hash = agent.get_session_auth_hash()
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 40
    new_hash = agent.get_session_auth_hash()
    assert new_hash != old_hash
    django, ours = _both(_signed_in(agent, hash_=old_hash))
    assert ours == django
    assert ours[1] == agent.pk and ours[4] is False  # key cycled
    assert ours[3][HASH_SESSION_KEY] == new_hash


def test_a_forged_hash_is_refused(agent):
    django, ours = _both(_signed_in(agent, hash_="0" * 64))
    assert ours == django and ours[0] is AnonymousUser and ours[3] == {}


def test_a_backend_no_longer_configured_is_anonymous(agent):
    data = _signed_in(agent, backend="somewhere.else.Backend")
    django, ours = _both(data)
    assert ours == django and ours[0] is AnonymousUser


def test_a_session_without_a_user_or_a_backend_is_anonymous(agent):
    data = _signed_in(agent)
    for missing in (SESSION_KEY, BACKEND_SESSION_KEY):
        partial = {k: v for k, v in data.items() if k != missing}
        django, ours = _both(partial)
        assert ours == django and ours[0] is AnonymousUser


def test_an_unknown_user_id_is_anonymous(agent):
    for user_id in ("999999", str(2**63 + 5)):
        data = {**_signed_in(agent), SESSION_KEY: user_id}
        django, ours = _both(data)
        assert ours == django and ours[0] is AnonymousUser


def test_a_backend_with_its_own_read_is_asked_itself(agent, settings):
    settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, OWN]
    OwnReadBackend.calls.clear()
    django, ours = _both(_signed_in(agent, OWN))
    assert ours == django and ours[1] == agent.pk
    assert OwnReadBackend.calls == [agent.pk, agent.pk]  # Django's, then ours


def test_a_signed_in_page_reads_the_user_once_and_a_locked_one_is_signed_out(
    client, agent
):
    client.force_login(agent)
    assert client.get("/portal/").status_code == 200
    agent.locked_at = timezone.now()
    agent.save()
    response = client.get("/portal/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert SESSION_KEY not in client.session
    assert client.get("/portal/").status_code == 302  # still signed out


# --- ``request.user`` once read: the user itself ------------------------------------


def _through_middleware(data):
    request = RequestFactory().get("/portal/")
    request.session = _session(data)
    session_user.SessionUserMiddleware(lambda request: None).process_request(request)
    return request


def test_once_read_request_user_is_the_user_itself(agent, django_assert_num_queries):
    request = _through_middleware(_signed_in(agent))
    lazy = request.user
    assert type(lazy) is SimpleLazyObject  # nothing read before it is asked
    with django_assert_num_queries(1):
        assert lazy.pk == agent.pk
        assert type(request.user) is type(agent) and request.user is lazy._wrapped
        assert request.user.email == agent.email and lazy.email == agent.email


@pytest.mark.django_db
def test_an_anonymous_visitor_is_the_anonymous_user_once_read():
    request = _through_middleware({})
    assert not request.user.is_authenticated
    assert type(request.user) is AnonymousUser


def test_a_user_set_before_the_read_is_kept(agent, make_user):
    request = _through_middleware(_signed_in(agent))
    lazy = request.user
    other = make_user("other@example.com")
    request.user = other  # as ``auth.login`` sets it
    assert lazy.pk == agent.pk  # an earlier holder of the proxy reads the session's
    assert request.user is other


# --- the admin's access check: the model permissions read with the user -------------

ADMIN = "/admin/helpdesk/tickets/"
ACCESS = "wagtailadmin.access_admin"


class OwnPermissionsBackend(ModelBackend):
    """A backend that reads group permissions its own way: nothing is kept for it."""

    def _get_group_permissions(self, user_obj):
        return super()._get_group_permissions(user_obj)


OWN_PERMISSIONS = f"{__name__}.OwnPermissionsBackend"


def _permissions(user):
    """What Django's backends answer about ``user``'s model permissions."""
    return (
        user.get_user_permissions(),
        user.get_group_permissions(),
        user.get_all_permissions(),
        user.has_perm(ACCESS),
        user.has_perms([ACCESS, "tickets.view_cannedresponse"]),
        user.has_module_perms("wagtailadmin"),
        user.has_perm("tickets.view_ticket"),
    )


def _admin_request(user):
    request = RequestFactory().get(ADMIN)
    request.session = _session(_signed_in(user))
    return request


@pytest.fixture
def people(make_user):
    """A user of each kind the access check meets: a role with admin access, staff
    without any, a direct grant, a direct grant beside a role, a superuser, a
    customer."""
    from django.contrib.auth.models import Permission

    access = Permission.objects.get(codename="access_admin")
    direct = make_user("direct@example.com", is_staff=True)
    direct.user_permissions.add(access)
    both = make_user("both@example.com", groups=[roles.AGENTS])
    both.user_permissions.add(Permission.objects.get(codename="view_ticket"))
    return [
        make_user("agent@example.com", groups=[roles.AGENTS]),
        make_user("staff@example.com", is_staff=True),
        direct,
        both,
        make_user("root@example.com", is_staff=True, is_superuser=True),
        make_user("customer@example.com", groups=[roles.CUSTOMERS]),
    ]


def test_under_the_admin_the_permissions_are_djangos(people):
    for person in people:
        ours = session_user.get_user(_admin_request(person))
        django = auth.get_user(_admin_request(person))
        assert type(ours) is type(django) and ours.pk == person.pk
        assert _permissions(ours) == _permissions(django), person.email
    agent, staff, direct, both, root, customer = people
    assert _permissions(session_user.get_user(_admin_request(agent)))[3] is True
    assert _permissions(session_user.get_user(_admin_request(staff)))[3] is False
    assert _permissions(session_user.get_user(_admin_request(direct)))[3] is True
    assert _permissions(session_user.get_user(_admin_request(both)))[6] is True
    assert _permissions(session_user.get_user(_admin_request(customer)))[3] is False


def test_under_the_admin_the_access_check_reads_nothing_more(
    people, django_assert_num_queries
):
    agent, staff, direct, both, root, customer = people
    for person, allowed in ((agent, True), (staff, False), (direct, True)):
        request = _admin_request(person)
        names = set(person.groups.values_list("name", flat=True))
        with django_assert_num_queries(1):
            user = session_user.get_user(request)
            assert user.has_perms([ACCESS]) is allowed
            assert roles.group_names(user) == names


def test_the_permissions_are_kept_only_under_the_admin_and_not_for_superusers(
    people,
):
    agent, staff, direct, both, root, customer = people
    portal = RequestFactory().get("/portal/")
    portal.session = _session(_signed_in(agent))
    assert not hasattr(session_user.get_user(portal), "_group_perm_cache")
    assert not hasattr(session_user.get_user(_admin_request(root)), "_perm_cache")
    assert not hasattr(session_user.get_user(_admin_request(root)), "_group_perm_cache")
    kept = session_user.get_user(_admin_request(agent))
    assert ACCESS in kept._group_perm_cache and kept._user_perm_cache == set()


def test_a_backend_reading_permissions_its_own_way_is_asked_itself(people, settings):
    agent = people[0]
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        OWN_PERMISSIONS,
    ]
    user = session_user.get_user(_admin_request(agent))
    assert not hasattr(user, "_group_perm_cache")
    assert _permissions(user) == _permissions(auth.get_user(_admin_request(agent)))


def test_a_change_of_groups_or_grants_is_seen_by_the_next_admin_page(client, people):
    from django.contrib.auth.models import Group, Permission

    agent, staff, direct, both, root, customer = people
    client.force_login(staff)
    assert client.get(ADMIN).status_code == 302  # no admin access: to the login
    staff.groups.add(Group.objects.get(name=roles.AGENTS))
    assert client.get(ADMIN).status_code == 200
    staff.groups.remove(Group.objects.get(name=roles.AGENTS))
    assert client.get(ADMIN).status_code == 302
    access = Permission.objects.get(codename="access_admin")
    staff.user_permissions.add(access)
    client.get(ADMIN)  # admin access now; the desk itself answers for the rest
    assert session_user.get_user(_admin_request(staff)).has_perm(ACCESS)
    staff.user_permissions.remove(access)
    assert client.get(ADMIN).status_code == 302
    agents = Group.objects.get(name=roles.AGENTS)
    client.force_login(agent)
    assert client.get(ADMIN).status_code == 200
    agents.permissions.remove(access)
    assert client.get(ADMIN).status_code == 302
    agent.is_active = False
    agent.save()
    assert client.get(ADMIN).status_code == 302
