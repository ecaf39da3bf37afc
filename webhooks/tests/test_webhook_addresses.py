"""Webhooks post only to public addresses, unless the operator allows a host or
network: checked when a webhook is saved, and again after resolution at delivery."""

import ipaddress
import socket

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tickets.tests.factories import QueueFactory, TicketFactory, make_customer
from webhooks import services, signing
from webhooks.delivery import deliver_due
from webhooks.models import Webhook, WebhookDelivery

CREATE = (
    "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { __typename "
    "... on Webhook { id url } "
    "... on OperationInfo { messages { kind field message } } } }"
)
UPDATE = CREATE.replace("CreateWebhookInput", "UpdateWebhookInput").replace(
    "createWebhook", "updateWebhook"
)

FORBIDDEN = [
    "http://127.0.0.1/hook",
    "http://localhost:8000/hook",
    "http://api.localhost/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "http://0.0.0.0/hook",
    "http://[::]/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "https://192.168.1.10/hook",
    "http://100.64.0.1/hook",  # shared address space (CGNAT)
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.10.1/hook",  # link-local
    "http://[fe80::1]/hook",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[fc00::5]/hook",  # unique local
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[2002:a9fe:a9fe::1]/",  # 6to4 of 169.254.169.254
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://224.0.0.1/hook",  # multicast
    "http://[ff02::1]/hook",
    "http://240.0.0.1/hook",  # reserved
    "http://255.255.255.255/hook",
]
# Other notations of loopback and single-label names are not even valid URLs (and
# resolve to a forbidden address at delivery, should such a row exist).
INVALID = [
    "http://127.1:8000/hook",
    "http://2130706433/hook",
    "http://0x7f000001/hook",
    "http://metadata/computeMetadata/v1/",
]
ALLOWED = [
    "https://hooks.example.com/in",
    "http://93.184.216.34/hook",
    "https://[2606:2800:220:1:248:1893:25c8:1946]/hook",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", FORBIDDEN)
def test_creating_a_webhook_to_a_forbidden_address_is_refused(url, integrator):
    with pytest.raises(ValidationError) as error:
        services.create_webhook(
            integrator, name="CRM", url=url, events=["ticket.created"]
        )
    [message] = error.value.message_dict["url"]
    assert "WEBHOOKS_ALLOWED_HOSTS" in message
    assert Webhook.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("url", INVALID)
def test_other_notations_are_refused_too(url, integrator):
    with pytest.raises(ValidationError) as error:
        services.create_webhook(
            integrator, name="CRM", url=url, events=["ticket.created"]
        )
    assert list(error.value.message_dict) == ["url"]
    assert Webhook.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("url", ALLOWED)
def test_public_addresses_are_accepted(url, integrator):
    webhook = services.create_webhook(
        integrator, name="CRM", url=url, events=["ticket.created"]
    )
    assert Webhook.objects.get().url == webhook.url == url


@pytest.mark.django_db
def test_graphql_refuses_forbidden_addresses_on_create_and_update(integrator, as_user):
    gql = as_user(integrator)
    refused = gql(
        CREATE,
        {
            "i": {
                "name": "x",
                "url": "http://169.254.169.254/latest/meta-data/",
                "events": ["ticket.created"],
            }
        },
    )["createWebhook"]
    assert refused["__typename"] == "OperationInfo"
    [message] = refused["messages"]
    assert (message["kind"], message["field"]) == ("VALIDATION", "url")
    assert "169.254.169.254" in message["message"]
    assert Webhook.objects.count() == 0

    created = gql(
        CREATE,
        {
            "i": {
                "name": "x",
                "url": "https://hooks.example.com/in",
                "events": ["ticket.created"],
            }
        },
    )["createWebhook"]
    updated = gql(
        UPDATE, {"i": {"id": created["id"], "url": "http://[fd00:ec2::254]/"}}
    )["updateWebhook"]
    assert updated["__typename"] == "OperationInfo"
    assert updated["messages"][0]["field"] == "url"
    assert Webhook.objects.get().url == "https://hooks.example.com/in"


@pytest.mark.django_db
def test_the_admin_form_refuses_a_loopback_address(client, integrator):
    client.force_login(integrator)
    response = client.post(
        reverse("webhooks:add"),
        {"name": "CRM", "url": "http://127.0.0.1:8000/", "events": ["ticket.created"]},
    )
    assert response.status_code == 200
    assert "WEBHOOKS_ALLOWED_HOSTS" in str(response.context["form"].errors)
    assert Webhook.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, created",
    [("http://169.254.169.254/latest/", False), ("https://hooks.example.com/", True)],
)
def test_the_django_admin_refuses_a_metadata_address(client, integrator, url, created):
    client.force_login(integrator)
    response = client.post(
        "/django-admin/webhooks/webhook/add/",
        {
            "name": "CRM",
            "url": url,
            "secret": "s3cret-value",
            "events": '["ticket.created"]',
            "active": "on",
        },
    )
    assert Webhook.objects.filter(url=url).exists() is created
    if not created:
        assert response.status_code == 200
        assert "WEBHOOKS_ALLOWED_HOSTS" in str(
            response.context["adminform"].form.errors
        )


@pytest.mark.django_db
def test_the_allowlist_opens_named_hosts_and_networks_only(integrator, settings):
    settings.WEBHOOKS_ALLOWED_HOSTS = ["10.0.0.0/8", "hooks.corp.internal", ".lan"]

    def create(url):
        return services.create_webhook(
            integrator, name="x", url=url, events=["ticket.created"]
        )

    for url in (
        "http://10.1.2.3/in",
        "http://hooks.corp.internal/in",
        "http://crm.office.lan/in",
    ):
        assert create(url).url == url
    for url in (
        "http://192.168.1.10/in",
        "http://other.corp.internal/in",
        "http://169.254.169.254/",
    ):
        with pytest.raises(ValidationError):
            create(url)
    assert Webhook.objects.count() == 3


# --- at delivery ----------------------------------------------------------------------


@pytest.fixture
def ticket_webhook(db, make_webhook):
    """A webhook saved while its address was allowed (the operator has since emptied
    the allowlist), and a ticket filed, so that it has one delivery to send."""

    def _make(url, settings):
        webhook = make_webhook(url=url, events=["ticket.created"])
        settings.WEBHOOKS_ALLOWED_HOSTS = []
        TicketFactory(requester=make_customer(), queue=QueueFactory())
        return webhook

    return _make


@pytest.mark.django_db
def test_a_loopback_receiver_is_refused_at_delivery_without_the_allowlist(
    receiver, ticket_webhook, settings
):
    ticket_webhook(receiver.url, settings)

    assert deliver_due() == {"refused": 1}
    row = WebhookDelivery.objects.get()
    assert row.status == "failed"
    assert row.attempts == 1
    assert "127.0.0.1" in row.last_error
    assert "WEBHOOKS_ALLOWED_HOSTS" in row.last_error
    assert receiver.requests == []
    assert deliver_due() == {}  # not retried


@pytest.mark.django_db
def test_a_loopback_receiver_named_in_the_allowlist_is_delivered_to(
    receiver, ticket_webhook, settings
):
    ticket_webhook(receiver.url, settings)
    settings.WEBHOOKS_ALLOWED_HOSTS = ["127.0.0.1"]

    assert deliver_due() == {"delivered": 1}
    [request] = receiver.requests
    assert request.json["event"] == "ticket.created"
    assert signing.verify("s3cret-value", request.body, request.headers["X-Signature"])


def _loopback_name():
    """A name other than "localhost" that this machine resolves to a loopback or
    private address (its own host name, through /etc/hosts)."""
    name = socket.gethostname()
    try:
        infos = socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)
    except OSError:
        pytest.skip("the host name does not resolve")
    found = {ipaddress.ip_address(info[4][0]) for info in infos}
    if not found or any(address.is_global for address in found):
        pytest.skip("the host name does not resolve to a private address only")
    if ipaddress.ip_address("127.0.0.1") not in found:
        pytest.skip("the host name does not resolve to 127.0.0.1")
    return name


@pytest.mark.django_db
@pytest.mark.parametrize("allowed", [False, True])
def test_a_name_that_resolves_to_a_private_address_is_checked_at_delivery(
    receiver, ticket_webhook, settings, allowed
):
    name = _loopback_name()
    port = receiver.url.split(":")[2].split("/")[0]
    url = f"http://{name}:{port}/hook"
    ticket_webhook(url, settings)
    if allowed:
        settings.WEBHOOKS_ALLOWED_HOSTS = ["127.0.0.1/32"]

    outcome = deliver_due()

    row = WebhookDelivery.objects.get()
    if allowed:
        assert (outcome, row.status) == ({"delivered": 1}, "delivered")
        [request] = receiver.requests
        assert request.headers["Host"] == f"{name}:{port}"
    else:
        assert (outcome, row.status) == ({"refused": 1}, "failed")
        assert f"{name} (127.0.0.1)" in row.last_error
        assert receiver.requests == []


@pytest.mark.django_db
def test_the_connection_goes_to_the_address_that_was_checked(
    receiver, ticket_webhook, settings, monkeypatch
):
    """DNS rebinding: a name that answers an allowed address to the check and a
    forbidden one to a second lookup still reaches only the checked address."""
    port = int(receiver.url.split(":")[2].split("/")[0])
    ticket_webhook(f"http://rebind.example.com:{port}/hook", settings)
    settings.WEBHOOKS_ALLOWED_HOSTS = ["127.0.0.1/32"]
    real_getaddrinfo = socket.getaddrinfo
    lookups = []

    def rebinding_dns(host, *args, **kwargs):
        if host != "rebind.example.com":
            return real_getaddrinfo(host, *args, **kwargs)
        if kwargs.get("flags", 0) & socket.AI_NUMERICHOST:
            raise socket.gaierror(socket.EAI_NONAME, "not a numeric address")
        lookups.append(host)
        answer = "127.0.0.1" if len(lookups) == 1 else "169.254.169.254"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)

    assert deliver_due() == {"delivered": 1}
    assert lookups == ["rebind.example.com"]
    [request] = receiver.requests
    assert request.headers["Host"] == f"rebind.example.com:{port}"


@pytest.fixture
def tls_receiver(tmp_path):
    """An https endpoint on 127.0.0.1 with a certificate for hooks.example.com,
    recording the SNI name and Host header it gets."""
    import shutil
    import ssl
    import subprocess
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=hooks.example.com"]
        + ["-addext", "subjectAltName=DNS:hooks.example.com"],
        check=True,
        capture_output=True,
    )
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(("host", self.headers["Host"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen.append(("sni", name))
    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], cert, seen
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_https_goes_to_the_checked_address_with_the_names_sni_and_certificate(
    tls_receiver, make_webhook, settings, monkeypatch
):
    import ssl

    port, cert, seen = tls_receiver
    make_webhook(url=f"https://hooks.example.com:{port}/in")
    TicketFactory(requester=make_customer(), queue=QueueFactory())
    settings.WEBHOOKS_ALLOWED_HOSTS = ["127.0.0.1/32"]
    real_getaddrinfo, real_context = socket.getaddrinfo, ssl.create_default_context

    def dns(host, *args, **kwargs):
        if host != "hooks.example.com":
            return real_getaddrinfo(host, *args, **kwargs)
        if kwargs.get("flags", 0) & socket.AI_NUMERICHOST:
            raise socket.gaierror(socket.EAI_NONAME, "not a numeric address")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    # trust the test certificate (and nothing else), as a real CA would be trusted
    monkeypatch.setattr(
        ssl, "create_default_context", lambda *a, **k: real_context(cafile=cert)
    )

    assert deliver_due() == {"delivered": 1}
    assert seen == [("sni", "hooks.example.com"), ("host", f"hooks.example.com:{port}")]
