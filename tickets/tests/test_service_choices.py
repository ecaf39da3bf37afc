"""A service's choice arguments (priority, category, source, status): the known
values accepted as given, anything else refused with the same error, an unhashable
value included."""

import pytest

from tickets import services
from tickets.errors import TicketError, TicketErrorCode
from tickets.models import Category, Priority, Source, Status


@pytest.mark.parametrize("choices", [Priority, Category, Source, Status])
def test_every_value_is_known(choices):
    for value in choices.values:
        assert services._choice(value, choices, field="f", label="l") is value
    member = list(choices)[0]
    assert services._choice(member, choices, field="f", label="l") is member


@pytest.mark.parametrize("value", ["urgent", "", None, 3, ["high"], {"high": 1}])
def test_anything_else_is_refused_with_the_allowed_values(value):
    with pytest.raises(TicketError) as raised:
        services._choice(value, Priority, field="priority", label="priority")
    assert raised.value.domain_code == TicketErrorCode.UNKNOWN_CHOICE
    assert raised.value.text == (
        f"Unknown priority “{value}”; use one of low, medium, high, critical."
    )
