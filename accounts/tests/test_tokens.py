from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import TokenError, authenticate_bearer, create_token, revoke_token


@pytest.fixture
def owner(make_user):
    return make_user("integrator@example.com")


def test_token_secret_is_never_stored(owner):
    new = create_token(owner, name="CI", scopes="read,write")
    row = ApiToken.objects.get(pk=new.token.pk)
    assert row.scopes == ["read", "write"]
    for value in ApiToken.objects.values_list(
        "name", "prefix", "secret_hash", "scopes"
    ).get():
        assert new.secret not in str(value)
    assert new.secret.split(".", 1)[1] not in row.secret_hash


def test_valid_token_authenticates_and_records_use(owner):
    new = create_token(owner, name="CI", scopes=["read"])
    token = authenticate_bearer(new.secret)
    assert token.pk == new.token.pk and token.owner == owner
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_the_token_brings_its_owners_roles_in_the_same_statement(
    owner, django_assert_num_queries
):
    from django.contrib.auth.models import Group

    from accounts import roles

    owner.groups.add(
        Group.objects.get_or_create(name=roles.AGENTS)[0],
        Group.objects.get_or_create(name=roles.VIEWERS)[0],
    )
    new = create_token(owner, name="CI", scopes=["read"])
    authenticate_bearer(new.secret)  # records the use (an UPDATE) once a minute
    with django_assert_num_queries(1):
        token = authenticate_bearer(new.secret)
        assert roles.group_names(token.owner) == {roles.AGENTS, roles.VIEWERS}


def test_an_owner_without_roles_has_none_without_a_statement(
    owner, django_assert_num_queries
):
    from accounts import roles

    new = create_token(owner, name="CI", scopes=["read"])
    authenticate_bearer(new.secret)
    with django_assert_num_queries(1):
        token = authenticate_bearer(new.secret)
        assert roles.group_names(token.owner) == set()
        assert not roles.is_staff_member(token.owner)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: (
            s[:-1] + ("A" if s[-1] != "A" else "B")
        ),  # forged secret, right prefix
        lambda s: "hdp_000000000000." + s.split(".", 1)[1],  # unknown prefix
        lambda s: "",
        lambda s: "garbage",
    ],
)
def test_forged_tokens_are_refused(owner, mangle):
    new = create_token(owner, name="CI", scopes=["read"])
    assert authenticate_bearer(mangle(new.secret)) is None


def test_expired_and_revoked_tokens_are_refused(owner):
    expired = create_token(owner, name="old", scopes=["read"], expires_days=1)
    ApiToken.objects.filter(pk=expired.token.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert authenticate_bearer(expired.secret) is None

    revoked = create_token(owner, name="gone", scopes=["read"])
    assert revoke_token(owner, revoked.token.pk) is True
    assert authenticate_bearer(revoked.secret) is None
    assert revoke_token(owner, revoked.token.pk) is False


def test_token_of_inactive_owner_is_refused(owner):
    new = create_token(owner, name="CI", scopes=["read"])
    owner.is_active = False
    owner.save()
    assert authenticate_bearer(new.secret) is None


def test_others_cannot_revoke_my_token(owner, make_user):
    new = create_token(owner, name="CI", scopes=["read"])
    other = make_user("other@example.com")
    assert revoke_token(other, new.token.pk) is False
    assert ApiToken.objects.get(pk=new.token.pk).revoked_at is None


@pytest.mark.parametrize("scopes", ["", "admin", "read,delete", []])
def test_bad_scopes_are_refused_and_nothing_is_stored(owner, scopes):
    with pytest.raises(TokenError):
        create_token(owner, name="x", scopes=scopes)
    assert ApiToken.objects.count() == 0


def test_the_token_read_is_the_row_the_orm_reads(owner, make_user):
    other = make_user("other@example.com")
    create_token(other, name="theirs", scopes=["write"])
    new = create_token(owner, name="CI", scopes="read,write", expires_days=3)
    ApiToken.objects.filter(pk=new.token.pk).update(
        last_used_at=timezone.now() - timedelta(minutes=5)
    )
    row = ApiToken.objects.select_related("owner").get(pk=new.token.pk)
    token = authenticate_bearer(new.secret)
    for field in ApiToken._meta.concrete_fields:
        if field.name != "last_used_at":  # recorded anew: more than a minute ago
            assert getattr(token, field.attname) == getattr(row, field.attname)
    assert token.scopes == ["read", "write"] and token.has_scope("write")
    assert token.expires_at.tzinfo is not None and token.last_used_at > row.last_used_at
    assert token.owner == owner and token.owner.email == owner.email
    assert not token._state.adding and token._state.db == row._state.db


def test_token_of_a_locked_owner_is_refused(owner):
    new = create_token(owner, name="CI", scopes=["read"])
    assert authenticate_bearer(new.secret) is not None
    owner.locked_at = timezone.now()
    owner.save()
    assert authenticate_bearer(new.secret) is None
