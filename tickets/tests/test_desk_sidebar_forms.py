"""The workspace's status and tags forms are ``forms.Unbuilt`` (not built for a page
that only shows them): the sidebar's lines that read them render, character for
character, what the former lines rendered with the built forms, in each language,
without building them; a bound form (a failed POST shown again, its errors and values)
renders as before."""

import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation
from django.utils.functional import empty

from tickets import services
from tickets.desk import forms, workspace
from tickets.models import Status

pytestmark = pytest.mark.django_db

# The sidebar's lines reading the two forms as they were (dea0768), the built forms.
FORMER = "\n".join(
    [
        "{% load i18n %}",
        "{% with chosen=status_form.status.value|default:ticket.status %}",
        '<select name="status" id="id_status" data-desk-status>',
        '<option value="{{ ticket.status }}"{% if chosen == ticket.status %} selected'
        "{% endif %}>{% blocktrans with status=ticket.get_status_display %}"
        "{{ status }} (current){% endblocktrans %}</option>",
        '{% for value, label in allowed_statuses %}<option value="{{ value }}"'
        "{% if chosen == value %} selected{% endif %}>{{ label }}</option>"
        "{% endfor %}",
        "</select>",
        "{% endwith %}",
        "{# Asked for only when rejecting; desk.js hides it otherwise (without "
        "JavaScript it stays visible). #}",
        "<div data-desk-reason>",
        '<label for="id_reason">{% trans "Reason (for rejection)" %}</label>',
        '<input type="text" name="reason" id="id_reason" maxlength="'
        '{{ status_form.fields.reason.max_length }}" value="{{ status_form.reason.'
        "value|default:'' }}\">",
        '<label for="id_tags">{% trans "Tags (comma separated)" %}</label> '
        "{{ tags_form.tags }}",
    ]
)


def _sidebar_lines():
    """The same lines of today's template."""
    path = settings.BASE_DIR / "templates" / "tickets" / "desk" / "ticket.html"
    lines = [line.strip() for line in path.read_text().splitlines()]
    start = next(n for n, line in enumerate(lines) if "{% with chosen=status" in line)
    end = next(n for n, line in enumerate(lines) if 'name="reason"' in line)
    tags = [line for line in lines if "tags_form %}" in line and "label" in line]
    assert len(tags) == 1
    return "\n".join(["{% load i18n desk_tags %}", *lines[start : end + 1], *tags])


TAGS = [[], ["vip"], ["<b>\"x\"</b> & 'y'", "t1", "{{ a }}", "50%"]]
BOUND_STATUS = [
    {"status": "bogus", "reason": "<b>\"&'x"},
    {},
    {"status": Status.REJECTED, "reason": "r<&>" * 1300},
    {"status": Status.OPEN, "reason": "fine"},
]
BOUND_TAGS = [{"tags": "x" * 1201}, {"tags": '<a href="x">&amp;</a>, "q"'}, {}]


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_the_status_and_tags_forms_not_built_are_the_built_forms_markup(
    language, ticket, agent
):
    ours, theirs = Template(_sidebar_lines()), Template(FORMER)
    allowed = [(s, Status(s).label) for s in (Status.OPEN, Status.REJECTED)]
    with translation.override(language):
        for names in TAGS:
            services.set_tags(agent, ticket, names) if names else ticket.tags.clear()
            ticket.refresh_from_db()
            unbuilt = workspace.build_forms(ticket, agent)
            status, tags = unbuilt["status_form"], unbuilt["tags_form"]
            built = {
                "status_form": forms.StatusForm(initial={"status": ticket.status}),
                "tags_form": forms.TagsForm(
                    initial={"tags": ", ".join(t.name for t in ticket.tags.all())}
                ),
            }
            for name, form in built.items():
                assert unbuilt[name].shown == {
                    field: form[field].value() for field in unbuilt[name].shown
                }
            common = {"ticket": ticket, "allowed_statuses": allowed}
            for _ in range(2):  # the tags' markup worked out, then kept
                got = ours.render(Context({**common, **unbuilt}))
                assert got == theirs.render(Context({**common, **built})), names
            assert status._wrapped is empty and tags._wrapped is empty  # not built
            assert " selected" in got and 'maxlength="5000"' in got
            assert ('value="' in got.split('name="tags"')[1]) == bool(names)
        # denied twins: bound forms (a failed POST shown again) render as before
        for status_data in BOUND_STATUS:
            for tags_data in BOUND_TAGS:
                context = {
                    **common,
                    "status_form": forms.StatusForm(status_data),
                    "tags_form": forms.TagsForm(tags_data),
                }
                assert ours.render(Context(context)) == theirs.render(
                    Context(context)
                ), (status_data, tags_data)
        shown = ours.render(
            Context(
                {
                    **common,
                    "status_form": forms.StatusForm(BOUND_STATUS[0]),
                    "tags_form": forms.TagsForm(BOUND_TAGS[1]),
                }
            )
        )
        assert 'value="&lt;b&gt;&quot;&amp;&#x27;x"' in shown
        assert "&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;, &quot;q&quot;" in shown
        assert " selected" not in shown  # "bogus" is no option
        long = str(forms.TagsForm(BOUND_TAGS[0])["tags"])
        assert 'aria-invalid="true"' in long


def test_the_tags_markup_escapes_the_value_as_the_widget():
    """``tags_input`` of an ``Unbuilt`` form is the widget's markup for any value
    (escaping, an empty one without a value attribute)."""
    for value in ["", "a", "<x>", "\"'&", "a, b", "{% x %}", "é ü ъ", "  lead"]:
        unbuilt = forms.Unbuilt(lambda: None, {"tags": value}, forms.TagsForm)
        expected = str(forms.TagsForm(initial={"tags": value})["tags"])
        assert forms.tags_input(unbuilt) == expected, value
