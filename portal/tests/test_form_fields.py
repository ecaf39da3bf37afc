"""``portal.forms.SmallModelChoiceField``: the same ``<select>`` as Django's
``ModelChoiceField``, its choices read once per form in one plain query."""

import pytest
from django import forms
from django.contrib.auth.models import Group
from django.utils.functional import lazystr
from django.utils.safestring import SafeData, mark_safe

from portal.forms import OptionsSelect, PlainTextInput, SmallModelChoiceField

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


# ``OptionsSelect``: Django's ``Select`` markup, built without a template per option.

CHOICES = [
    ("", "---------"),
    (1, "Ann <ann@example.com>"),
    ("2", 'Bob & "Bobby" O\'Neil'),
    (3, mark_safe("<b>safe</b>")),
    ('<x>&"', lazystr("Lazy label")),  # lazy, not a message
    (4, 12345),
    (5.5, None),
    (None, "none value"),
]
GROUPED = [
    ("", "—"),
    ("Team <A> & co", [(1, "one"), (2, "two & <2>")]),
    ("Solo", [(3, "three")]),
    (4, "four"),
]


@pytest.mark.parametrize("choices", [CHOICES, GROUPED, [], [("a", "A")]])
@pytest.mark.parametrize("value", [None, "", 1, "1", "2", '<x>&"', 3, ["1", "3"]])
@pytest.mark.parametrize(
    "attrs",
    [
        None,
        {"id": "id_x", "required": True, "disabled": False},
        {"aria-describedby": 'a"b <c>', "data-n": 7, "class": mark_safe("a&amp;b")},
    ],
)
def test_options_select_renders_django_select_markup(choices, value, attrs):
    name = 'who"<'
    ours = OptionsSelect(choices=choices).render(name, value, attrs)
    django = forms.Select(choices=choices).render(name, value, attrs)
    assert ours == django
    assert isinstance(ours, SafeData)


def test_options_select_escapes_labels_and_marks_the_chosen_option():
    html = OptionsSelect(choices=CHOICES).render("who", "2", {"id": "id_who"})
    assert '<select name="who" id="id_who">' in html
    assert "Ann &lt;ann@example.com&gt;" in html
    assert "Bob &amp; &quot;Bobby&quot; O&#x27;Neil" in html
    assert '<option value="&lt;x&gt;&amp;&quot;">' in html
    assert "<b>safe</b>" in html  # a label marked safe stays markup, as in Django
    assert html.count(" selected") == 1
    assert '<option value="2" selected>' in html
    assert '<option value="">---------</option>' in html


def test_a_form_field_renders_the_same_with_the_cheap_widget(groups):
    groups[1].name = 't-<a> & "b"'
    groups[1].save()
    for initial in (None, groups[1].pk):
        bound = Small(initial={"group": initial})["group"]
        assert isinstance(bound.field.widget, OptionsSelect)
        assert str(bound) == str(Plain(initial={"group": initial})["group"])
        assert "t-&lt;a&gt; &amp; &quot;b&quot;" in str(bound)
    data = {"group": groups[1].pk}
    invalid = Small(data={"group": "nope"})
    assert not invalid.is_valid()
    assert str(invalid["group"]) == str(Plain(data={"group": "nope"})["group"])
    assert str(Small(data=data)["group"]) == str(Plain(data=data)["group"])


class Custom(OptionsSelect):
    option_template_name = "django/forms/widgets/select_option.html"
    template_name = "django/forms/widgets/select_date.html"


def test_a_subclass_with_its_own_templates_is_rendered_by_them():
    widget = Custom(choices=[("a", "A")])
    assert widget.render("x", "a") == forms.Widget.render(widget, "x", "a")


# ``PlainTextInput``: Django's ``TextInput`` markup, built without its templates.


@pytest.mark.parametrize(
    "value",
    [None, "", "tags, more", "a & <b> \"q\" 's'", mark_safe("<i>safe</i>"), 12, 0],
)
@pytest.mark.parametrize(
    "attrs",
    [
        None,
        {"id": "id_tags", "maxlength": "1200", "required": True, "disabled": False},
        {"aria-describedby": 'a"b <c>', "data-n": 7, "class": mark_safe("a&amp;b")},
    ],
)
def test_plain_text_input_renders_django_text_input_markup(value, attrs):
    name = 'tags"<'
    ours = PlainTextInput(attrs={"placeholder": "x & y"}).render(name, value, attrs)
    django = forms.TextInput(attrs={"placeholder": "x & y"}).render(name, value, attrs)
    assert ours == django
    assert isinstance(ours, SafeData)


def test_plain_text_input_in_a_form_is_djangos_field():
    class Ours(forms.Form):
        tags = forms.CharField(max_length=12, required=False, widget=PlainTextInput)

    class Theirs(forms.Form):
        tags = forms.CharField(max_length=12, required=False)

    for kwargs in ({"initial": {"tags": "a, <b>"}}, {"data": {"tags": "x&y"}}, {}):
        assert str(Ours(**kwargs)["tags"]) == str(Theirs(**kwargs)["tags"])
    assert str(Ours(initial={"tags": "a, <b>"})["tags"]) == (
        '<input type="text" name="tags" value="a, &lt;b&gt;" maxlength="12" '
        'id="id_tags">'
    )
