"""The portal forms cleaned without their ``BoundField``s
(``tickets.forms.PortalForm._clean_fields``) and the new-ticket form built without
the organization field it is not offered: against Django's own steps (a twin whose
``_clean_fields`` is ``BaseForm``'s and whose organization field is copied, then
removed), the same cleaned data, errors in the same order and the same HTML."""

import copy

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.datastructures import MultiValueDict

from tickets import forms as portal_forms
from tickets.forms import NewTicketForm, RatingForm, ReplyForm, TicketListFilterForm
from tickets.tests.factories import OrganizationFactory, png_bytes, upload
from tickets.tests.test_form_copies import html, same_copy


def djangos(form_class):
    """``form_class`` cleaned by ``BaseForm._clean_fields`` (a ``BoundField`` for
    every field) and built as before: every field copied, an organization not
    offered removed afterwards."""

    def __init__(self, *args, **kwargs):
        user = kwargs.pop("user", None)
        forms.Form.__init__(self, *args, **{"label_suffix": "", **kwargs})
        if form_class is not NewTicketForm:
            return
        organizations = portal_forms.services.organizations_for_filing(user)
        if len(organizations) > 1:
            field = self.fields["organization"]
            field.queryset = portal_forms.Organization.objects.filter(
                memberships__user=user
            )
            field.widget.choices = [
                (o.pk, field.label_from_instance(o)) for o in organizations
            ]
            if not self.is_bound:
                default = portal_forms.services.default_organization(user)
                self.initial.setdefault("organization", default and default.pk)
        else:
            del self.fields["organization"]
        if not self.is_bound:
            self.initial.setdefault("deflection_token", "fixed")

    attributes = {"_clean_fields": forms.BaseForm._clean_fields, "__init__": __init__}
    return type(f"Djangos{form_class.__name__}", (form_class,), attributes)


def cleaned(form):
    valid = form.is_valid()
    return (
        valid,
        getattr(form, "cleaned_data", None),
        list(form.errors),
        form.errors.as_json(),
        [
            (name, [e.code for e in errors])
            for name, errors in form.errors.as_data().items()
        ],
    )


SUBJECT = {
    "subject": "Help",
    "description": "Steps",
    "category": "technical",
    "priority": "high",
}
NEW_TICKET_POSTS = [
    {},
    SUBJECT,
    {**SUBJECT, "subject": "  padded  ", "description": " x "},
    {**SUBJECT, "subject": "a" * 201},
    {**SUBJECT, "subject": "nul\x00"},
    {**SUBJECT, "priority": "nope", "category": ""},
    {**SUBJECT, "organization": "999999"},
    {**SUBJECT, "organization": "x"},
    {**SUBJECT, "deflection_token": "t" * 65, "suggestions_shown": "3"},
    {**SUBJECT, "suggestion_clicked": "/kb/a/", "suggestions_shown": "12345678901"},
]
# none, one image, one too many, an empty file: each form gets its own uploads
NEW_TICKET_FILES = [0, 1, 11, "empty"]


def uploads(case):
    if case == "empty":
        return MultiValueDict({"attachments": [upload("empty.png", b"")]})
    files = [upload(f"{n}.png", png_bytes()) for n in range(case)]
    return MultiValueDict({"attachments": files}) if files else None


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "pl", "ru"])
@pytest.mark.parametrize("organizations", [1, 2])
def test_the_new_ticket_form_cleans_as_django_does(
    alice, acme, language, organizations
):
    from accounts.services import setup_member

    if organizations == 2:
        setup_member(OrganizationFactory(name="Zeta", slug="zeta"), alice)
    with translation.override(language):
        for data in NEW_TICKET_POSTS:
            if organizations == 2 and data is SUBJECT:
                data = {**data, "organization": str(acme.pk)}
            for files in NEW_TICKET_FILES:
                made = []
                for form_class in (NewTicketForm, djangos(NewTicketForm)):
                    alice.__dict__.pop("_filing_organizations", None)
                    form = form_class(data, uploads(files), user=alice)
                    made.append((form, cleaned(form)))
                (mine, got), (django, expected) = made
                # one organization: the fields' copies not made (none changed)
                copied = "fields" in mine.__dict__
                assert list(mine.fields) == list(django.fields)
                assert got[0] == expected[0], (data, files)
                assert got[2:] == expected[2:], (data, files)
                if got[0]:
                    mine_data = {k: v for k, v in got[1].items() if k != "attachments"}
                    django_data = {
                        k: v for k, v in expected[1].items() if k != "attachments"
                    }
                    assert mine_data == django_data
                    assert [f.name for f in got[1]["attachments"]] == [
                        f.name for f in expected[1]["attachments"]
                    ]
                    # a valid filing made no BoundField, and no copy of a field
                    # unless the organizations' field was set up
                    assert mine._bound_fields_cache == {}
                    assert copied is (organizations == 2)
                else:
                    assert html(mine) == html(django)


@pytest.mark.django_db
@pytest.mark.parametrize("organizations", [1, 2])
def test_the_new_ticket_forms_fields_are_what_djangos_steps_give(alice, organizations):
    from accounts.services import setup_member

    if organizations == 2:
        setup_member(OrganizationFactory(name="Zeta", slug="zeta"), alice)
    for data in (None, SUBJECT):
        args = () if data is None else (data,)
        alice.__dict__.pop("_filing_organizations", None)
        mine = NewTicketForm(*args, user=alice)
        alice.__dict__.pop("_filing_organizations", None)
        django = djangos(NewTicketForm)(*args, user=alice)
        assert list(mine.fields) == list(django.fields)
        assert ("organization" in mine.fields) == (organizations == 2)
        assert "base_fields" not in mine.__dict__
        expected = copy.deepcopy(dict(NewTicketForm.base_fields))
        for name, field in mine.fields.items():
            if name != "organization":
                same_copy(field, expected[name], NewTicketForm.base_fields[name], name)
            assert field is not NewTicketForm.base_fields[name]
        if data is None:
            assert html(mine) == html(django).replace(
                'value="fixed"', f'value="{mine.initial["deflection_token"]}"'
            )


OTHER_POSTS = [
    (TicketListFilterForm, [{}, {"q": "x" * 201}, {"status": "?", "order": "created"}]),
    (ReplyForm, [{}, {"body": ""}, {"body": " Hi "}, {"body": "\x00"}]),
    (RatingForm, [{}, {"rating": "9"}, {"rating": "4", "comment": "ok"}]),
]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_other_portal_forms_clean_as_django_does(language):
    with translation.override(language):
        for form_class, posts in OTHER_POSTS:
            for data in posts:
                mine, django = form_class(data), djangos(form_class)(data)
                assert cleaned(mine) == cleaned(django), (form_class, data)
                assert html(mine) == html(django)


def test_a_disabled_field_a_prefix_and_a_field_method_as_django_does():
    class Form(ReplyForm):
        def clean_body(self):
            if self.cleaned_data["body"] == "no":
                raise ValidationError("refused", code="refused")
            return self.cleaned_data["body"].upper()

    for data in ({"p-body": "no"}, {"p-body": "yes"}, {"body": "yes"}):
        for disabled in (False, True):
            made = []
            for form_class in (Form, djangos(Form)):
                form = form_class(data, prefix="p", initial={"body": "initial"})
                form.fields["body"].disabled = disabled
                form.fields["attachments"].disabled = disabled
                made.append(form)
            mine, django = made
            assert cleaned(mine) == cleaned(django), (data, disabled)
            assert html(mine) == html(django)


def test_a_field_it_cannot_read_plainly_gets_its_bound_field():
    made = []

    class Bound(forms.BoundField):
        @property
        def data(self):
            made.append(self.name)
            return "from the bound field"

    class Form(portal_forms.PortalForm):
        own = forms.CharField(bound_field_class=Bound)
        plain = forms.CharField()
        lazy_initial = forms.FileField(required=False, initial=lambda: None)

    form = Form({"own": "x", "plain": "y"})
    assert form.is_valid()
    assert form.cleaned_data == {
        "own": "from the bound field",
        "plain": "y",
        "lazy_initial": None,
    }
    assert made == ["own"]
    assert set(form._bound_fields_cache) == {"own", "lazy_initial"}
