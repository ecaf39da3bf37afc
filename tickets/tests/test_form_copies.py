"""The portal forms' fields copied with less work (``tickets.forms.
fields_copied_cheaply``): each form gets what ``copy.deepcopy`` of the plain fields
gives (the same classes and attributes, its own widgets, attributes, messages,
validators and choices), renders and validates the same, and a change to one form's
fields never reaches another form or the class."""

import copy

import pytest
from django import forms
from django.utils import translation
from django.utils.choices import BaseChoiceIterator
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from tickets import form_fields
from tickets.desk.forms import FilterForm
from tickets.forms import NewTicketForm, RatingForm, ReplyForm, TicketListFilterForm

# A lazy text that is not in the catalogues (makemessages collects gettext_lazy calls).
lazy_text = gettext_lazy
FORMS = [NewTicketForm, TicketListFilterForm, ReplyForm, RatingForm]
# What each field's and widget's deepcopy makes anew (the rest is shared, as there).
OWN = {"widget", "error_messages", "validators", "_choices", "attrs", "_queryset"}


def plain(form_class):
    """The same fields, copied by Django: a subclass's ``base_fields`` is a plain
    dict of the same field objects."""
    return type(f"Plain{form_class.__name__}", (form_class,), {})


def same_copy(got, expected, original, path):
    assert type(got) is type(expected), path
    assert got is not original, path
    assert got.__dict__.keys() == expected.__dict__.keys(), path
    for name, value in expected.__dict__.items():
        mine = got.__dict__[name]
        if name == "widget":
            same_copy(mine, value, original.__dict__[name], f"{path}.widget")
        elif isinstance(value, BaseChoiceIterator):  # a model field's, not iterated
            assert type(mine) is type(value) and mine.__dict__ == value.__dict__
            assert mine is not original.__dict__[name]
        elif name in OWN:
            assert mine == value, (path, name)
            shared = value is original.__dict__[name]
            assert (mine is original.__dict__[name]) == shared, (path, name)
        else:
            assert mine is value or mine == value, (path, name)


def copied(form_class):
    """A form's fields as the form gets them: ``deepcopy`` of the class's, or, for a
    ``fields_copied_on_first_use`` form, the copies made by its first read."""
    got = copy.deepcopy(form_class.base_fields)
    if isinstance(got, form_fields._NotCopiedYet):
        assert got.base is form_class.base_fields
        form = form_class.__new__(form_class)
        form._fields_not_copied = got
        got = form.fields  # made now, and kept
        assert form.fields is got and "_fields_not_copied" not in form.__dict__
    return got


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: c.__name__)
def test_each_forms_fields_are_what_deepcopy_gives(form_class):
    assert isinstance(form_class.base_fields, form_fields._FieldsCopied)
    got = copied(form_class)
    expected = copy.deepcopy(dict(form_class.base_fields))
    assert type(got) is dict and list(got) == list(expected)
    for name, field in form_class.base_fields.items():
        same_copy(got[name], expected[name], field, name)
        model_field = isinstance(field, forms.ModelChoiceField)
        if isinstance(field, forms.ChoiceField) and not model_field:
            assert got[name].choices == expected[name].choices
            assert got[name].widget.choices == expected[name].widget.choices


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: c.__name__)
def test_a_change_to_one_forms_fields_reaches_no_other(form_class):
    before = copy.deepcopy(dict(form_class.base_fields))
    first = copied(form_class)
    for field in first.values():
        field.widget.attrs["data-x"] = "1"
        field.error_messages["required"] = "changed"
        field.validators.append(len)
        field.required = not field.required
        if isinstance(field, forms.ChoiceField) and not isinstance(
            field, forms.ModelChoiceField
        ):
            field.choices.append(("x", "X"))
            field.widget.choices.append(("x", "X"))
    second = copied(form_class)
    for name, field in second.items():
        same_copy(field, before[name], form_class.base_fields[name], name)
        assert field.widget.attrs == before[name].widget.attrs


def test_a_field_or_widget_of_another_kind_is_copied_by_deepcopy():
    calls = []

    class Own(forms.CharField):
        def __deepcopy__(self, memo):
            calls.append(self)
            return super().__deepcopy__(memo)

    class OwnWidget(forms.TextInput):
        def __deepcopy__(self, memo):
            calls.append(self)
            return super().__deepcopy__(memo)

    grouped = forms.ChoiceField(choices=[("Group", [("a", "A"), ("b", "B")])])
    fields = form_fields._FieldsCopied(
        own=Own(), widget=forms.CharField(widget=OwnWidget()), grouped=grouped
    )
    calls.clear()  # a field deep-copies the widget it is given
    got = copy.deepcopy(fields)
    assert [type(x) for x in calls] == [Own, OwnWidget]
    assert got["grouped"].choices == grouped.choices
    assert got["grouped"].choices[0][1] is not grouped.choices[0][1]  # deep


def html(form):
    return "\n".join(
        [str(form), str(form.errors), *(str(form[name]) for name in form.fields)]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_the_forms_render_and_validate_as_with_djangos_copies(alice, acme, language):
    from accounts.services import setup_member
    from tickets.tests.factories import OrganizationFactory, png_bytes, upload

    token = {"deflection_token": "3f1c5a1e-8a7b-4c57-9e51-3c1b7e6b8f00"}
    cases = [
        (TicketListFilterForm, [(), ({"q": "x", "status": "all"},), ({"order": "?"},)]),
        (ReplyForm, [(), ({"body": ""},), ({"body": "Hi"},)]),
        (RatingForm, [(), ({"rating": "9"},), ({"rating": "4", "comment": "ok"},)]),
    ]
    with translation.override(language):
        for form_class, arguments in cases:
            for args in arguments:
                mine, django = form_class(*args), plain(form_class)(*args)
                assert html(mine) == html(django)
                assert mine.is_valid() == django.is_valid()
                assert html(mine) == html(django)
        for organizations in (1, 2):
            if organizations == 2:
                setup_member(OrganizationFactory(name="Zeta", slug="zeta"), alice)
                alice.__dict__.pop("_filing_organizations", None)
            posts = [
                {"subject": "", "priority": "nope"},
                {
                    "subject": "Help",
                    "description": "x",
                    "priority": "high",
                    "category": "technical",
                    "organization": acme.pk,
                    **token,
                },
                {
                    "subject": "Help",
                    "description": "x",
                    "priority": "high",
                    "category": "technical",
                    "organization": 999999,
                },
            ]
            for data in [None, *posts]:
                made = []
                for form_class in (NewTicketForm, plain(NewTicketForm)):
                    files = {"attachments": [upload("s.png", png_bytes())]}
                    args = () if data is None else (data, files)
                    form = form_class(*args, user=alice, initial=token)
                    made.append((form, form.is_bound and form.is_valid()))
                (mine, valid), (django, django_valid) = made
                assert valid == django_valid
                assert html(mine) == html(django)
                if valid:
                    assert mine.cleaned_data.keys() == django.cleaned_data.keys()
                    assert mine.chosen_organization == django.chosen_organization
                    assert mine.deflection_data() == django.deflection_data()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_the_desk_filter_form_validates_and_renders_as_with_djangos_copies(language):
    from django.http import QueryDict

    from tickets.models import Queue

    assert isinstance(FilterForm.base_fields, form_fields._FieldsCopied)
    strings = [
        "",
        "q=x&status=open&status=new&priority=high",
        "assignee=x2&per_page=7",
        "queue=nope&per_page=50&organization=&tag=vip",
        "status=bogus",
    ]
    with translation.override(language):
        for string in strings:
            for queues in (None, Queue.objects.all()):
                data = QueryDict(string) or None
                mine = FilterForm(data, queues=queues)
                django = plain(FilterForm)(data, queues=queues)
                assert mine.is_valid() == django.is_valid()
                assert html(mine) == html(django)
                assert getattr(mine, "cleaned_data", None) == getattr(
                    django, "cleaned_data", None
                )
                if queues is not None:  # set on this form's copy only
                    assert not mine.fields["queue"].queryset.query.is_empty()
                    base = FilterForm.base_fields["queue"]
                    assert base.queryset.query.is_empty()  # Queue.objects.none()


def _flat_pairs_as_before(choices):
    """The test of F-3/R-6 with its ``_atom`` helper, for comparison."""

    def atom(value):
        return type(value) in form_fields._ATOMS or isinstance(value, Promise)

    return type(choices) is list and all(
        type(pair) is tuple and len(pair) == 2 and atom(pair[0]) and atom(pair[1])
        for pair in choices
    )


@pytest.mark.parametrize(
    "choices",
    [
        [],
        [("a", "A"), (1, 2.5), (None, True)],
        [("a", gettext_lazy("Open")), (lazy_text("x"), "X")],
        [("a", ["A"])],  # a group: not flat
        [(["a"], "A")],
        [("a", "A", "extra")],
        [["a", "A"]],
        (("a", "A"),),  # a tuple of pairs: not a list
        [("a", object())],
        [(object(), "A")],
        [("a", b"A")],  # bytes: deepcopy keeps them too, but not ours to call flat
    ],
)
def test_flat_pairs_answers_as_before(choices):
    assert form_fields._flat_pairs(choices) is _flat_pairs_as_before(choices)
