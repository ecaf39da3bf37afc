"""Form fields shared by the domain apps' forms."""

from django import forms
from django.forms.models import ModelChoiceIterator
from django.template import Context
from django.template.base import render_value_in_context
from django.template.defaultfilters import stringformat
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe


class ReadOnceChoiceIterator(ModelChoiceIterator):
    """Django's iterator, reading the field's queryset as one plain SELECT kept for
    the form's lifetime. Django's own reads ``queryset.iterator()``: on PostgreSQL a
    server-side cursor (DECLARE … WITH HOLD, FETCH, CLOSE round trips, the result
    materialised at commit), and again each time the choices are asked for (a
    required ``<select>`` asks twice: its options, and whether the first is empty).
    For a ``<select>`` of a few dozen rows one read is enough."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        # The field's own copy of the queryset (``ModelChoiceField.queryset`` is
        # copied per form), so the rows are cached for this form only.
        for obj in self.queryset:
            yield self.choice(obj)


class OptionsSelect(forms.Select):
    """Django's ``Select`` with its markup built in Python: byte for byte what
    ``django/forms/widgets/select.html`` renders (asserted against Django's own
    widget in ``portal/tests/test_form_fields.py``), escaped as the templates escape,
    without an included template per ``<option>``. Only the standard templates are
    mirrored: a subclass that changes ``template_name`` or ``option_template_name``
    is rendered by them (``Widget.render``)."""

    def render(self, name, value, attrs=None, renderer=None):
        if (
            self.template_name != forms.Select.template_name
            or self.option_template_name != forms.Select.option_template_name
        ):
            return super().render(name, value, attrs, renderer)
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(f'\n  <optgroup label="{_shown(group_name)}">')
            for option in options:
                parts.append(
                    f'\n  <option value="{_shown(_as_s(option["value"]))}"'
                    f"{_attrs(option['attrs'])}>{_shown(option['label'])}</option>\n"
                )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))


class PlainTextInput(forms.TextInput):
    """Django's ``TextInput`` with its markup built in Python: byte for byte what
    ``django/forms/widgets/text.html`` (``input.html`` and ``attrs.html``) renders
    (asserted against Django's own widget in ``portal/tests/test_form_fields.py``),
    without three included templates. A subclass that changes ``template_name`` is
    rendered by its template (``Widget.render``)."""

    def render(self, name, value, attrs=None, renderer=None):
        if self.template_name != forms.TextInput.template_name:
            return super().render(name, value, attrs, renderer)
        widget = self.get_context(name, value, attrs)["widget"]
        value = widget["value"]
        shown = "" if value is None else f' value="{_shown(_as_s(value))}"'
        return mark_safe(
            f'<input type="{_shown(widget["type"])}" name="{_shown(widget["name"])}"'
            f"{shown}{_attrs(widget['attrs'])}>"
        )


_CONTEXT = Context(autoescape=True)


def _shown(value) -> str:
    """``{{ value }}`` in an autoescaping template (``render_value_in_context``)."""
    if isinstance(value, str):
        return conditional_escape(value)
    return render_value_in_context(value, _CONTEXT)


def _as_s(value):
    """``value|stringformat:'s'``: the filter keeps a safe string safe."""
    formatted = stringformat(value, "s")
    return mark_safe(formatted) if isinstance(value, SafeData) else formatted


def _attrs(attrs) -> str:
    """``django/forms/widgets/attrs.html``."""
    return "".join(
        f" {_shown(name)}"
        if value is True
        else f' {_shown(name)}="{_shown(_as_s(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class SmallModelChoiceField(forms.ModelChoiceField):
    """A ``ModelChoiceField`` over a short list (queues, assignable people): its
    choices are read in one query per form (``ReadOnceChoiceIterator``) and rendered
    without a template per option (``OptionsSelect``); validation still looks the
    submitted value up in the database."""

    iterator = ReadOnceChoiceIterator
    widget = OptionsSelect
