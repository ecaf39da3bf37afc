"""``portal.forms.SmallModelChoiceField``: the same ``<select>`` as Django's
``ModelChoiceField``, its choices read once per form in one plain query."""

import pytest
from django import forms
from django.contrib.auth.models import Group

from portal.forms import SmallModelChoiceField

# The test's own groups (migrations create the role groups).
OURS = Group.objects.filter(name__startswith="t-").order_by("name")


class Plain(forms.Form):
    group = forms.ModelChoiceField(queryset=OURS)


class Small(forms.Form):
    group = SmallModelChoiceField(queryset=OURS)


@pytest.fixture
def groups(db):
    return [Group.objects.create(name=f"t-{name}") for name in ("b", "a", "c")]


def test_renders_the_same_select_as_django_field(groups):
    for initial in (None, groups[0].pk):
        plain = str(Plain(initial={"group": initial})["group"])
        small = str(Small(initial={"group": initial})["group"])
        assert small == plain
        assert small.count("<option") == 4  # the empty choice and three groups


class PlainNoEmpty(forms.Form):
    group = forms.ModelChoiceField(queryset=OURS, empty_label=None)


class SmallNoEmpty(forms.Form):
    group = SmallModelChoiceField(queryset=OURS, empty_label=None)


def test_a_required_select_reads_its_choices_once(groups, django_assert_num_queries):
    # Without an empty choice, Django's field reads them twice: whether the first
    # option is empty (for ``required``), then the options, each through
    # ``QuerySet.iterator()`` (a server-side cursor on PostgreSQL).
    with django_assert_num_queries(2):
        plain = str(PlainNoEmpty()["group"])
    form = SmallNoEmpty()
    with django_assert_num_queries(1):
        html = str(form["group"])
    assert html == plain
    with django_assert_num_queries(0):  # the same form asks again: no query
        assert [label for _value, label in form.fields["group"].choices] == [
            "t-a",
            "t-b",
            "t-c",
        ]


def test_a_form_reads_the_rows_of_its_own_time(groups):
    first = Small()
    list(first.fields["group"].choices)
    Group.objects.create(name="t-d")
    assert len(list(Small().fields["group"].choices)) == 5
    assert len(list(first.fields["group"].choices)) == 4


def test_validation_still_reads_the_database(groups, django_assert_num_queries):
    form = Small(data={"group": groups[2].pk})
    with django_assert_num_queries(1):
        assert form.is_valid()
    assert form.cleaned_data["group"] == groups[2]
    assert not Small(data={"group": 0}).is_valid()
