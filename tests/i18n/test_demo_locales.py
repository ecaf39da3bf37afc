"""The demo has one customer reading in Polish and one in Russian."""

import pytest

from accounts import demo_data
from accounts.models import User
from portal.demo import DemoContext, demo_password


@pytest.mark.django_db
def test_demo_customers_read_in_polish_and_russian():
    for _ in range(2):  # idempotent
        demo_data.load(DemoContext(password=demo_password(), log=lambda line: None))
    locales = dict(
        User.objects.filter(email__endswith=".example").values_list("email", "locale")
    )
    assert locales["bob@acme.example"] == "pl"
    assert locales["carol@globex.example"] == "ru"
    assert locales["alice@acme.example"] == ""
