""" "Staff" has one owner, ``accounts.roles.is_staff_member`` (the role groups and
superusers). ``User.is_staff`` is the flag Django's own admin reads, kept in step by the
role services; no page decides "staff" from it. The header's Admin link and the Wagtail
user bar ask the owner."""

import re
from pathlib import Path

import pytest

from accounts import roles
from tests.project_templates import project_templates

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
ADMIN_LINK = '<a href="/admin/">Admin</a>'


@pytest.mark.parametrize(
    ("groups", "flags", "shown"),
    [
        ([roles.AGENTS], {}, True),  # a staff role without the admin flag
        ([roles.VIEWERS], {}, True),
        ([], {"is_superuser": True}, True),
        ([], {"is_staff": True}, False),  # the flag alone is no role
        ([roles.CUSTOMERS], {}, False),
    ],
)
def test_the_admin_link_follows_the_staff_role(client, make_user, groups, flags, shown):
    user = make_user("someone@example.com", groups=groups, **flags)
    client.force_login(user)

    html = client.get("/account/profile/").content.decode()

    assert (ADMIN_LINK in html) is shown
    assert roles.is_staff_member(user) is shown


def test_no_template_decides_staff_from_the_flag():
    offenders = [
        path.relative_to(ROOT).as_posix()
        for path in project_templates()
        if re.search(r"\bis_staff\b", path.read_text())
    ]
    assert offenders == []
