import pytest

from tickets.models import Ticket
from tickets.tests.factories import QueueFactory, make_agent, make_supervisor

from ..intake import ingest
from ..models import InboundMessage
from .conftest import make_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def emailed(alice, queue):
    raw = make_email(subject="Emailed in", headers={"X-Mailer": "Test Mail 1.0"})
    result = ingest(raw)
    return Ticket.objects.get(reference=result.reference), raw


def raw_url(ticket):
    return f"/email/messages/{InboundMessage.objects.get(ticket=ticket).pk}/raw/"


def test_the_desk_shows_the_source_email_and_its_headers(client, agent, emailed):
    ticket, _raw = emailed
    client.force_login(agent)
    html = client.get(f"/admin/helpdesk/tickets/{ticket.reference}/").content.decode()
    assert "Source: email" in html
    assert "X-Mailer: Test Mail 1.0" in html
    assert raw_url(ticket) in html


def test_staff_download_the_raw_message(client, agent, emailed):
    ticket, raw = emailed
    client.force_login(agent)
    response = client.get(raw_url(ticket))
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response.content == raw


@pytest.mark.parametrize("who", ["requester", "other_agent", "anonymous"])
def test_everyone_else_gets_404_for_the_raw_message(client, alice, emailed, who):
    ticket, _raw = emailed
    if who == "requester":
        client.force_login(alice)
    elif who == "other_agent":
        client.force_login(
            make_agent(QueueFactory(slug="billing"), email="b@x.example")
        )
    assert client.get(raw_url(ticket)).status_code == 404
    assert client.get("/email/messages/999999/raw/").status_code == 404


def test_the_mailbox_is_edited_as_a_snippet(client, mailbox, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
    client.force_login(make_supervisor(email="boss@example.com", is_superuser=True))
    response = client.get("/admin/snippets/email_channel/mailbox/")
    assert response.status_code == 200
    edit = client.get(f"/admin/snippets/email_channel/mailbox/edit/{mailbox.pk}/")
    html = edit.content.decode()
    assert 'name="password_env"' in html
    assert 'name="last_error"' not in html


# The former markup of the workspace's source emails, which read the related manager
# in the template (now the list ``source_emails`` read in ``workspace.context``).
FORMER_SOURCE = """{% load i18n %}{% with emails=ticket.inbound_messages.all %}{% if emails %}
    <section class="desk-email">
      <h2>{% trans "Source: email" %}</h2>
      <ul>
        {% for message in emails %}
        <li>
          <strong>{{ message.subject|default:_("(no subject)") }}</strong><br>
          {% blocktrans with sender=message.sender received=message.received_at|date:"DAY_MONTH_TIME_FORMAT" outcome=message.get_outcome_display %}From {{ sender }}, {{ received }} ({{ outcome }}){% endblocktrans %}
          <details><summary>{% trans "Headers" %}</summary><pre class="desk-email-headers">{{ message.headers }}</pre></details>
          <a href="{% url 'email_channel:raw' message.pk %}">{% trans "Download the original message" %}</a>
        </li>
        {% endfor %}
      </ul>
    </section>
    {% endif %}{% endwith %}"""  # noqa: E501


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_the_source_emails_are_the_former_markup(client, agent, emailed, language):
    """Newest first, escaped, in the agent's language: byte for byte what the
    template rendered from ``ticket.inbound_messages.all``; none on a ticket that
    came from no email."""
    import re

    from django.template import Context, Template
    from django.utils import translation
    from wagtail.users.models import UserProfile

    from tickets.tests.factories import TicketFactory

    ticket, _raw = emailed
    InboundMessage.objects.create(
        message_key="second",
        sender="bob@acme.example",
        subject="",
        headers="X-Odd: <b>&\"'</b>",
        raw=b"raw",
        outcome="replied",
        ticket=ticket,
    )
    profile = UserProfile.get_for_user(agent)
    profile.preferred_language = language
    profile.save()
    client.force_login(agent)
    html = client.get(f"/admin/helpdesk/tickets/{ticket.reference}/").content.decode()
    section = re.compile(r'<section class="desk-email">.*?</section>', re.S)
    with translation.override(language):
        former = Template(FORMER_SOURCE).render(Context({"ticket": ticket}))
    assert section.findall(html) == section.findall(former)
    assert len(section.findall(former)) == 1
    assert former.index("bob@acme.example") < former.index("Emailed in")
    assert "&lt;b&gt;&amp;&quot;&#x27;&lt;/b&gt;" in former
    plain = TicketFactory(queue=ticket.queue, requester=ticket.requester)
    other = client.get(f"/admin/helpdesk/tickets/{plain.reference}/").content.decode()
    assert 'class="desk-email"' not in other
