"""Fields copied on first use (``tickets.form_fields.fields_copied_on_first_use``): a
form that is only bound and cleaned makes no copy of its fields; the first read of
``form.fields`` (or of a ``BoundField``) makes them, and from then on the form is as
one given its copies at once: a change to its fields reaches no other form, nor the
class; a field whose cleaning may change it is cleaned through its copy."""

import pytest
from django import forms

from tickets import form_fields
from tickets.form_fields import PortalForm, fields_copied_on_first_use


class Changing(forms.CharField):
    """Changes itself while cleaning (so it must be cleaned as a copy)."""

    def clean(self, value):
        self.seen = value
        return super().clean(value)


@fields_copied_on_first_use
class Form(PortalForm):
    name = forms.CharField(max_length=5)
    kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])
    note = forms.CharField(required=False)


@fields_copied_on_first_use
class WithChanging(PortalForm):
    name = forms.CharField(max_length=5)
    changing = Changing(required=False)


@fields_copied_on_first_use
class WithHook(PortalForm):
    name = forms.CharField()
    note = forms.CharField(required=False)

    def clean_name(self):
        self.fields["note"].required = True  # the copy's, read when ``note`` is cleaned
        return self.cleaned_data["name"]


def test_a_valid_form_is_cleaned_without_copies():
    form = Form({"name": "abc", "kind": "b", "note": ""})
    assert form.is_valid()
    assert form.cleaned_data == {"name": "abc", "kind": "b", "note": ""}
    assert "fields" not in form.__dict__
    assert form._bound_fields_cache == {}


def test_the_first_read_makes_the_copies_once():
    form = Form({"name": "abc", "kind": "b"})
    fields = form.fields
    assert form.fields is fields and "_fields_not_copied" not in form.__dict__
    assert list(fields) == ["name", "kind", "note"]
    for name, field in fields.items():
        assert field is not Form.base_fields[name]
        assert field.widget is not Form.base_fields[name].widget
        assert type(field) is type(Form.base_fields[name])


def test_a_change_after_cleaning_reaches_no_other_form_nor_the_class():
    first = Form({"name": "abc", "kind": "a"})
    assert first.is_valid()
    first.fields["name"].max_length = 1
    first.fields["kind"].widget.attrs["class"] = "mine"
    first.fields["kind"].choices = [("z", "Z")]
    second = Form({"name": "abc", "kind": "a"})
    assert second.is_valid()
    assert Form.base_fields["name"].max_length == 5
    assert "class" not in Form.base_fields["kind"].widget.attrs
    assert 'class="mine"' not in str(second["kind"])
    assert [value for value, _label in second.fields["kind"].choices] == ["a", "b"]


def test_an_invalid_form_shows_its_errors_as_a_copied_one():
    data = {"name": "toolong", "kind": "x"}
    lazy = Form(data)

    class Eager(PortalForm):  # Django's own copies
        name = forms.CharField(max_length=5)
        kind = forms.ChoiceField(choices=[("a", "A"), ("b", "B")])
        note = forms.CharField(required=False)

    eager = Eager(data)
    assert not lazy.is_valid() and not eager.is_valid()
    assert lazy.errors == eager.errors
    assert str(lazy) == str(eager)
    assert "fields" in lazy.__dict__  # the errors made the copies


def test_a_field_order_copies_at_once_in_that_order():
    form = Form({"name": "abc", "kind": "a"}, field_order=["note", "kind"])
    assert "fields" in form.__dict__
    assert list(form.fields) == ["note", "kind", "name"]
    assert form.is_valid()
    assert list(Form.base_fields) == ["name", "kind", "note"]


def test_a_field_that_changes_itself_is_cleaned_through_its_copy():
    form = WithChanging({"name": "abc", "changing": "x"})
    assert form.is_valid()
    assert not hasattr(WithChanging.base_fields["changing"], "seen")
    assert form.fields["changing"].seen == "x"
    assert form_fields._CLEANED_AS_READ >= {forms.CharField, forms.ChoiceField}
    assert Changing not in form_fields._CLEANED_AS_READ


def test_a_field_changed_by_a_hook_is_cleaned_as_changed():
    form = WithHook({"name": "abc", "note": ""})
    assert not form.is_valid()
    assert list(form.errors) == ["note"]
    assert WithHook.base_fields["note"].required is False


def test_the_decorator_wants_a_portal_form():
    with pytest.raises(TypeError):
        fields_copied_on_first_use(type("Plain", (forms.Form,), {}))
