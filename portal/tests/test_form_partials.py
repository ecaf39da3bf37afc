"""The one form-error partial and the one field partial (templates/includes/) that the
portal, the desk and the account pages render forms with: labels tied to widgets, errors
and help text announced and pointed to by aria-describedby."""

import re

from django import forms
from django.template.loader import render_to_string


class SampleForm(forms.Form):
    subject = forms.CharField(label="Short Summary", help_text="One line.")
    body = forms.CharField(widget=forms.Textarea)
    notify = forms.BooleanField(label="Email Me", required=False)
    scopes = forms.MultipleChoiceField(
        choices=[("read", "Read"), ("write", "Write")],
        widget=forms.CheckboxSelectMultiple,
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        raise forms.ValidationError("Something is off.")


def field_html(form, name, **extra) -> str:
    return render_to_string("includes/field.html", {"field": form[name], **extra})


def test_a_valid_field_has_a_label_help_text_and_no_error_state():
    form = SampleForm()
    html = field_html(form, "subject")

    assert '<div class="field">' in html
    assert '<label for="id_subject">Short summary</label>' in html
    assert '<div class="helptext" id="id_subject_helptext">One line.</div>' in html
    assert 'aria-describedby="id_subject_helptext"' in html
    assert "aria-invalid" not in html
    assert "errorlist" not in html


def test_an_invalid_field_points_to_its_errors_and_help_text():
    form = SampleForm(data={"body": ""})
    assert not form.is_valid()
    html = field_html(form, "subject", **{"class": "wide"})

    assert '<div class="field has-error wide">' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_subject_helptext id_subject_error"' in html
    assert '<ul class="errorlist" id="id_subject_error"><li>' in html


def test_a_checkbox_sits_in_its_label_and_a_group_is_a_fieldset():
    form = SampleForm()
    checkbox = field_html(form, "notify")
    group = field_html(form, "scopes")

    assert 'class="field field-checkbox"' in checkbox
    assert re.search(r'<label for="id_notify"><input [^>]*id="id_notify"', checkbox)
    assert checkbox.count("<label") == 1
    assert "<fieldset>" in group and "<legend>Scopes</legend>" in group
    assert 'id="id_scopes_0"' in group and 'id="id_scopes_1"' in group


def test_a_hidden_field_is_the_bare_input():
    html = field_html(SampleForm(), "token").strip()

    assert html == '<input type="hidden" name="token" id="id_token">'


def test_form_errors_lists_non_field_errors_and_on_request_field_errors():
    form = SampleForm(data={"subject": "x", "scopes": ["read"]})
    assert not form.is_valid()

    plain = render_to_string("includes/form_errors.html", {"form": form})
    compact = render_to_string(
        "includes/form_errors.html",
        {"form": form, "field_errors": True, "class": "error-message"},
    )

    assert plain.strip() == (
        '<div class="form-errors" role="alert"><ul class="errorlist nonfield">'
        "<li>Something is off.</li></ul></div>"
    )
    assert compact.strip() == (
        '<div class="form-errors error-message" role="alert">'
        '<ul class="errorlist nonfield"><li>Something is off.</li>'
        "<li>Body: This field is required.</li></ul></div>"
    )


def test_form_errors_renders_nothing_for_a_valid_or_unbound_form():
    class Valid(forms.Form):
        name = forms.CharField()

    for form in (Valid(), Valid(data={"name": "ok"})):
        form.is_valid()
        html = render_to_string(
            "includes/form_errors.html", {"form": form, "field_errors": True}
        )
        assert html.strip() == ""


def test_no_page_template_renders_form_errors_or_fields_by_hand():
    """Pages include the partials instead of looping over ``form.errors`` or
    ``non_field_errors`` themselves (allauth's element templates and the passkey
    page's fixed message are the exceptions: allauth hands them attributes, not a
    bound field)."""
    from pathlib import Path

    from tests.project_templates import project_templates

    root = Path(__file__).resolve().parents[2]
    allowed = {
        "templates/includes/form_errors.html",
        "templates/includes/field.html",
        "templates/allauth/elements/field.html",
        "templates/mfa/webauthn/add_form.html",
    }
    offenders = []
    for path in project_templates():
        relative = path.relative_to(root).as_posix()
        if relative in allowed:
            continue
        text = path.read_text()
        if re.search(r"non_field_errors|\.errors\b.*(for |\}\})|\.label_tag", text):
            offenders.append(relative)
    assert offenders == []
