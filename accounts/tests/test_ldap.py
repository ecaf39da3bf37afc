"""LDAP sign-in against a real slapd (accounts/tests/ldap_server.py): allauth's login
form, role mapping from groups, the organization from an attribute, a directory that
is down."""

import logging

import pytest
from allauth.account.models import EmailAddress

from accounts import roles
from accounts.ldap import directory
from accounts.models import Membership, SecurityEvent, User
from accounts.services import create_organization
from portal.settings.ldap import (
    BACKEND,
    ROLE_GROUP_VARIABLES,
    install_ldap,
    ldap_settings,
    with_ldap_backend,
)
from tickets.tests.factories import UserFactory

from .conftest import current_totp_code
from .ldap_server import (
    GROUPS,
    PEOPLE,
    PEOPLE_TREE,
    SERVICE_DN,
    SERVICE_PASSWORD,
    SLAPADD,
    SLAPD,
    Slapd,
    group_dn,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not (SLAPD and SLAPADD), reason="Debian's slapd is not installed"
    ),
]

UA = "LdapTest/1.0"


@pytest.fixture
def slapd(tmp_path):
    server = Slapd(tmp_path)
    server.start()
    yield server
    server.stop()


def environment(uri: str, **extra) -> dict:
    return {
        "LDAP_SERVER_URI": uri,
        "LDAP_BIND_DN": SERVICE_DN,
        "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
        "LDAP_USER_SEARCH_BASE": PEOPLE,
        "LDAP_USER_FILTER": "(mail=%(user)s)",
        "LDAP_GROUP_SEARCH_BASE": GROUPS,
        "LDAP_AGENTS_GROUP": group_dn("helpdesk-agents"),
        "LDAP_SUPERVISORS_GROUP": group_dn("helpdesk-supervisors"),
        "LDAP_VIEWERS_GROUP": group_dn("helpdesk-viewers"),
        "LDAP_ORGANIZATION_ATTR": "o",
        "LDAP_TIMEOUT": "2",
        **extra,
    }


@pytest.fixture
def ldap_on(settings, slapd):
    """Settings exactly as portal/settings/base.py builds them from the environment."""

    def configure(**extra):
        namespace = {
            "AUTHENTICATION_BACKENDS": settings.AUTHENTICATION_BACKENDS,
            "ACCOUNT_FORMS": getattr(settings, "ACCOUNT_FORMS", {}),
        }
        assert install_ldap(namespace, environment(slapd.uri, **extra))
        for name, value in namespace.items():
            setattr(settings, name, value)
        directory.reset()

    configure()
    yield configure
    directory.reset()


def login(client, email, password):
    return client.post(
        "/accounts/login/",
        {"login": email, "password": password},
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT=UA,
    )


def signed_in(client) -> User | None:
    pk = client.session.get("_auth_user_id")
    return User.objects.get(pk=pk) if pk else None


def role_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


SAM_MAIL, SAM_PASSWORD = PEOPLE_TREE["sam"][:2]
CORA_MAIL, CORA_PASSWORD = PEOPLE_TREE["cora"][:2]


def test_settings_from_the_environment():
    assert ldap_settings({}) == {}  # LDAP off: nothing set, no backend
    assert ldap_settings({"LDAP_SERVER_URI": "  "}) == {}
    untouched = {"AUTHENTICATION_BACKENDS": ["x"]}
    assert install_ldap(untouched, {}) is False
    assert untouched == {"AUTHENTICATION_BACKENDS": ["x"]}
    values = ldap_settings(environment("ldap://directory.example:389"))
    assert values["AUTH_LDAP_SERVER_URI"] == "ldap://directory.example:389"
    assert values["AUTH_LDAP_BIND_DN"] == SERVICE_DN
    assert values["AUTH_LDAP_USER_SEARCH"].base_dn == PEOPLE
    assert values["AUTH_LDAP_USER_SEARCH"].filterstr == "(mail=%(user)s)"
    assert values["LDAP_ROLE_GROUPS"] == {
        roles.AGENTS: group_dn("helpdesk-agents"),
        roles.SUPERVISORS: group_dn("helpdesk-supervisors"),
        roles.VIEWERS: group_dn("helpdesk-viewers"),
    }
    assert values["LDAP_ORGANIZATION_ATTR"] == "o"
    assert set(ROLE_GROUP_VARIABLES.values()) <= set(roles.STAFF_ROLES)
    backends = with_ldap_backend(
        [
            "django.contrib.auth.backends.ModelBackend",
            "allauth.account.auth_backends.AuthenticationBackend",
            "guardian.backends.ObjectPermissionBackend",
        ]
    )
    assert backends.index(BACKEND) == 2  # after the local backends


def test_unknown_group_type_is_a_clear_configuration_error():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="LDAP_GROUP_TYPE"):
        ldap_settings(environment("ldap://x", LDAP_GROUP_TYPE="nonsense"))


def test_staff_member_signs_in_through_allauth_with_the_ldap_password(client, ldap_on):
    response = login(client, SAM_MAIL.upper(), SAM_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/admin/"  # staff land in the admin
    user = signed_in(client)
    assert user.email == SAM_MAIL
    assert (user.first_name, user.last_name) == ("Sam", "Staff")
    assert role_names(user) == {roles.AGENTS}
    assert user.is_staff is True
    assert user.has_usable_password() is False  # no local password
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == (SAM_MAIL, True, True)
    event = SecurityEvent.objects.get(kind="login", user=user)
    assert (event.ip, event.user_agent) == ("198.51.100.4", UA)
    assert event.data == {
        "method": "ldap",
        "dn": "uid=sam,ou=people,dc=example,dc=org",
        "roles": [roles.AGENTS],
    }


def test_directory_user_with_a_second_factor_meets_it(client, ldap_on, enable_totp):
    login(client, SAM_MAIL, SAM_PASSWORD)
    client.logout()
    secret = enable_totp(User.objects.get(email=SAM_MAIL))

    response = login(client, SAM_MAIL, SAM_PASSWORD)
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert signed_in(client) is None
    response = client.post(
        "/accounts/2fa/authenticate/",
        {"code": current_totp_code(secret)},
        REMOTE_ADDR="198.51.100.4",
        HTTP_USER_AGENT=UA,
    )
    assert response.status_code == 302
    assert signed_in(client).email == SAM_MAIL
    last = SecurityEvent.objects.filter(kind="login").latest("pk")
    assert last.data["method"] == "ldap"  # still known after the second step


def test_role_follows_the_group_at_the_next_sign_in(client, ldap_on, slapd):
    login(client, SAM_MAIL, SAM_PASSWORD)
    assert role_names(signed_in(client)) == {roles.AGENTS}
    client.logout()

    slapd.set_group_members("helpdesk-agents", [])
    slapd.set_group_members("helpdesk-supervisors", ["sam"])
    assert login(client, SAM_MAIL, SAM_PASSWORD).status_code == 302
    user = signed_in(client)
    assert role_names(user) == {roles.SUPERVISORS}
    assert user.is_staff is True
    client.logout()

    slapd.set_group_members("helpdesk-supervisors", [])  # out of every staff group
    assert login(client, SAM_MAIL, SAM_PASSWORD).status_code == 302
    user = signed_in(client)
    assert role_names(user) == {roles.CUSTOMERS}
    assert user.is_staff is False
    assert User.objects.filter(email=SAM_MAIL).count() == 1


def test_viewer_group_maps_to_viewers(client, ldap_on):
    login(client, PEOPLE_TREE["vic"][0], PEOPLE_TREE["vic"][1])
    assert role_names(signed_in(client)) == {roles.VIEWERS}


def test_customer_joins_the_organization_named_by_the_attribute(client, ldap_on):
    acme = create_organization(name="Acme Ltd", slug="acme")

    response = login(client, CORA_MAIL, CORA_PASSWORD)

    assert response.status_code == 302
    assert response["Location"] != "/admin/"
    user = signed_in(client)
    assert role_names(user) == {roles.CUSTOMERS, acme.group.name}
    membership = Membership.objects.get(user=user)
    assert (membership.organization, membership.role) == (acme, "member")
    assert SecurityEvent.objects.filter(
        kind="member_added", user=user, data__via="ldap"
    ).exists()


def test_manager_keeps_their_role_at_the_next_ldap_sign_in(client, ldap_on):
    acme = create_organization(name="Acme Ltd", slug="acme")
    login(client, CORA_MAIL, CORA_PASSWORD)
    Membership.objects.filter(organization=acme).update(role="manager")
    client.logout()

    login(client, CORA_MAIL, CORA_PASSWORD)

    assert Membership.objects.get(organization=acme).role == "manager"


def test_customer_whose_organization_does_not_exist_joins_none(client, ldap_on):
    create_organization(name="Other", slug="other")
    login(client, CORA_MAIL, CORA_PASSWORD)  # o: acme, not here
    user = signed_in(client)
    assert role_names(user) == {roles.CUSTOMERS}
    assert not Membership.objects.filter(user=user).exists()


def test_customer_without_the_attribute_is_a_plain_customer(client, ldap_on):
    login(client, PEOPLE_TREE["nora"][0], PEOPLE_TREE["nora"][1])
    user = signed_in(client)
    assert role_names(user) == {roles.CUSTOMERS}
    assert user.is_staff is False


def test_wrong_ldap_password_is_refused(client, ldap_on):
    response = login(client, SAM_MAIL, "not-the-password")

    assert response.status_code == 200  # the form again, with its error
    assert response.context["form"].errors
    assert signed_in(client) is None
    assert not User.objects.filter(email=SAM_MAIL).exists()
    event = SecurityEvent.objects.get(kind="login_failed")
    assert event.data == {"login": SAM_MAIL}


def test_unknown_address_and_empty_password_are_refused(client, ldap_on):
    assert login(client, "ghost@corp.example", "whatever-123").status_code == 200
    assert login(client, SAM_MAIL, "").status_code == 200
    assert signed_in(client) is None
    assert not User.objects.exists()


def test_filter_characters_in_the_address_do_not_widen_the_search(client, ldap_on):
    """django-auth-ldap escapes the typed value: ``*`` matches no one."""
    response = login(client, "*", SAM_PASSWORD)
    assert response.status_code == 200
    assert signed_in(client) is None
    response = login(client, "sam.staff@corp.example)(mail=*", SAM_PASSWORD)
    assert response.status_code == 200
    assert signed_in(client) is None


def test_directory_account_gets_no_local_password(client, ldap_on):
    from django.core import mail

    login(client, SAM_MAIL, SAM_PASSWORD)
    response = client.post(
        "/accounts/password/set/",
        {"password1": "a-Local-pass-99", "password2": "a-Local-pass-99"},
    )
    assert response.status_code == 200
    assert "managed by your organization" in str(response.context["form"].errors)
    user = User.objects.get(email=SAM_MAIL)
    assert user.has_usable_password() is False
    client.logout()

    response = client.post("/accounts/password/reset/", {"email": SAM_MAIL})
    assert response.status_code == 302  # the same answer as for any address
    assert mail.outbox == []  # but no reset link

    local = UserFactory(email="local@example.com", roles=[roles.CUSTOMERS])
    local.set_password("local-Pass-123")
    local.save()
    EmailAddress.objects.create(
        user=local, email=local.email, verified=True, primary=True
    )
    client.post("/accounts/password/reset/", {"email": "local@example.com"})
    assert [m.to for m in mail.outbox] == [["local@example.com"]]


def test_local_account_still_signs_in_with_ldap_on(client, ldap_on):
    user = UserFactory(email="local@example.com", roles=[roles.CUSTOMERS])
    user.set_password("local-Pass-123")
    user.save()
    EmailAddress.objects.create(
        user=user, email=user.email, verified=True, primary=True
    )

    assert login(client, "local@example.com", "local-Pass-123").status_code == 302
    assert signed_in(client) == user
    assert SecurityEvent.objects.get(kind="login", user=user).data == {}


def test_directory_down_local_accounts_sign_in_and_the_error_is_logged_once(
    client, ldap_on, slapd, caplog
):
    ldap_on(LDAP_RETRY_AFTER="0")  # retry at every attempt: still logged only once
    user = UserFactory(email="local@example.com", roles=[roles.AGENTS])
    user.set_password("local-Pass-123")
    user.save()
    EmailAddress.objects.create(
        user=user, email=user.email, verified=True, primary=True
    )
    slapd.stop()
    caplog.set_level(logging.INFO)

    for _ in range(3):
        response = login(client, SAM_MAIL, SAM_PASSWORD)
        assert response.status_code == 200  # the form's error, never a 5xx
        assert signed_in(client) is None
        response = login(client, "local@example.com", "local-Pass-123")
        assert response.status_code == 302
        assert signed_in(client) == user
        client.logout()

    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.name, r.levelname) for r in errors] == [("accounts.ldap", "ERROR")]
    assert "unreachable" in errors[0].getMessage()
    assert slapd.uri in errors[0].getMessage()


def test_directory_down_is_not_retried_before_the_back_off(
    client, ldap_on, slapd, caplog
):
    ldap_on(LDAP_RETRY_AFTER="300")
    slapd.stop()
    login(client, SAM_MAIL, SAM_PASSWORD)
    assert not directory.available()
    slapd.start()  # back, but the back-off still holds
    assert login(client, SAM_MAIL, SAM_PASSWORD).status_code == 200
    assert signed_in(client) is None

    directory.reset()  # the back-off has passed
    caplog.set_level(logging.INFO)
    assert login(client, SAM_MAIL, SAM_PASSWORD).status_code == 302
    assert signed_in(client).email == SAM_MAIL


def test_directory_back_after_an_outage_signs_in_and_says_so(
    client, ldap_on, slapd, caplog
):
    ldap_on(LDAP_RETRY_AFTER="0")
    slapd.stop()
    caplog.set_level(logging.INFO)
    login(client, SAM_MAIL, SAM_PASSWORD)
    slapd.start()

    assert login(client, SAM_MAIL, SAM_PASSWORD).status_code == 302
    assert [r.getMessage() for r in caplog.records if r.name == "accounts.ldap"] == [
        caplog.records[0].getMessage(),
        f"LDAP directory {slapd.uri} answers again",
    ]


def test_wrong_service_password_refuses_directory_users_only(client, ldap_on):
    ldap_on(LDAP_BIND_PASSWORD="wrong-service-password")
    assert login(client, SAM_MAIL, SAM_PASSWORD).status_code == 200
    assert signed_in(client) is None
