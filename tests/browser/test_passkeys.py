"""Passkeys in a real browser: Chromium's virtual authenticator (the DevTools
``WebAuthn`` domain, through Playwright's CDP session) stands in for a phone or a
security key, and allauth's own pages and scripts talk to it over WebAuthn."""

from urllib.parse import urlparse

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from playwright.sync_api import expect

from accounts.models import SecurityEvent
from tickets.tests.factories import PASSWORD, make_customer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

EMAIL = "pat@example.org"


@pytest.fixture
def customer(db):
    user = make_customer(email=EMAIL, display_name="Pat")
    EmailAddress.objects.create(user=user, email=EMAIL, verified=True, primary=True)
    return user


class VirtualAuthenticator:
    """A platform authenticator with user verification (a laptop's fingerprint
    reader), plugged into the page's browser through the DevTools protocol."""

    OPTIONS = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }

    def __init__(self, page):
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("WebAuthn.enable", {"enableUI": False})
        self.id = None
        self.plug_in()

    def plug_in(self):
        self.id = self.cdp.send(
            "WebAuthn.addVirtualAuthenticator", {"options": self.OPTIONS}
        )["authenticatorId"]

    def unplug(self):
        self.cdp.send(
            "WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.id}
        )

    def credentials(self):
        return self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id})[
            "credentials"
        ]


def sign_in_with_password(page, base, email=EMAIL):
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_load_state()


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def signed_in_as(page, base):
    """The email the profile page shows, or None when it sends us to sign in."""
    page.goto(f"{base}/account/profile/")
    if urlparse(page.url).path != "/account/profile/":
        return None  # sent to sign in, or to the pending second step
    # the paragraph under the heading (a flash message such as "Successfully signed
    # in" may come before it in <main>)
    return page.locator("main h1 + p").first.inner_text().split(" ")[0]


def confirm_password(page):
    """allauth asks for the password again before a second factor changes (unless
    it was confirmed a few minutes ago)."""
    page.wait_for_load_state()
    if "/accounts/reauthenticate/" not in page.url:
        return
    page.fill("input[name=password]", PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_load_state()


def add_passkey(page, base, name="Laptop"):
    """From the profile's security section to a saved passkey."""
    page.goto(f"{base}/account/profile/")
    page.locator("#security").get_by_role(
        "link", name="Passkeys and security keys"
    ).click()
    page.get_by_role("link", name="Add a passkey").click()
    confirm_password(page)
    page.get_by_label("Name").fill(name)
    page.get_by_label("Passwordless").check()
    page.get_by_role("button", name="Add").click()
    # the ceremony runs, then the page posts the new credential
    page.wait_for_url(lambda url: "/webauthn/add/" not in url)


def test_register_a_passkey_then_use_it_as_second_factor_and_to_sign_in(
    page, live_server, customer, screenshot
):
    base = live_server.url
    authenticator = VirtualAuthenticator(page)
    sign_in_with_password(page, base)
    assert signed_in_as(page, base) == EMAIL

    add_passkey(page, base)

    # saved on both sides: one resident credential in the authenticator, one
    # WebAuthn authenticator (plus the recovery codes allauth makes) for the user
    credentials = authenticator.credentials()
    assert len(credentials) == 1
    assert credentials[0]["isResidentCredential"] is True
    saved = Authenticator.objects.get(user=customer, type=Authenticator.Type.WEBAUTHN)
    assert saved.wrap().name == "Laptop"
    assert saved.wrap().is_passwordless is True
    assert set(customer.authenticator_set.values_list("type", flat=True)) == {
        "webauthn",
        "recovery_codes",
    }
    page.goto(f"{base}/accounts/2fa/webauthn/")
    expect(page.locator("main")).to_contain_text("Laptop")
    screenshot("passkeys-list")
    sign_out(page)
    assert signed_in_as(page, base) is None

    # password first, then the passkey as the second factor
    sign_in_with_password(page, base)
    assert "/accounts/2fa/authenticate/" in page.url
    screenshot("passkeys-second-factor")
    page.get_by_role("button", name="Use a passkey or security key").click()
    page.wait_for_url(lambda url: "/2fa/authenticate/" not in url)
    assert signed_in_as(page, base) == EMAIL
    sign_out(page)

    # the passkey alone
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    assert signed_in_as(page, base) == EMAIL

    saved.refresh_from_db()
    assert saved.last_used_at is not None
    kinds = list(
        SecurityEvent.objects.filter(user=customer)
        .order_by("pk")
        .values_list("kind", "data")
    )
    assert kinds == [
        ("login", {}),
        ("mfa_enabled", {"type": "webauthn"}),
        ("mfa_enabled", {"type": "recovery_codes"}),
        ("logout", {}),
        ("login", {}),
        ("logout", {}),
        ("login", {}),
    ]


def test_another_authenticator_cannot_complete_the_second_factor_or_sign_in(
    page, live_server, customer, screenshot
):
    base = live_server.url
    authenticator = VirtualAuthenticator(page)
    sign_in_with_password(page, base)
    add_passkey(page, base)
    assert customer.authenticator_set.filter(type="webauthn").count() == 1
    sign_out(page)

    # the passkey's device is gone; another one (holding no credential for this
    # site) is plugged in instead
    authenticator.unplug()
    authenticator.plug_in()
    assert authenticator.credentials() == []

    sign_in_with_password(page, base)
    assert "/accounts/2fa/authenticate/" in page.url
    page.get_by_role("button", name="Use a passkey or security key").click()
    expect(page.get_by_role("alert")).to_contain_text("The passkey could not be used")
    screenshot("passkeys-second-factor-refused")
    assert "/accounts/2fa/authenticate/" in page.url
    assert signed_in_as(page, base) is None
    page.goto(f"{base}/accounts/2fa/authenticate/")
    page.get_by_role("button", name="Cancel").click()
    page.wait_for_load_state()

    page.goto(f"{base}/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("The passkey could not be used")
    assert signed_in_as(page, base) is None
    # only the sign-in before the passkey was added
    assert SecurityEvent.objects.filter(user=customer, kind="login").count() == 1


def test_a_removed_passkey_no_longer_signs_in(page, live_server, customer):
    base = live_server.url
    authenticator = VirtualAuthenticator(page)
    sign_in_with_password(page, base)
    add_passkey(page, base)

    page.goto(f"{base}/accounts/2fa/webauthn/")
    page.get_by_role("link", name="Remove").click()
    confirm_password(page)
    page.get_by_role("button", name="Remove").click()
    page.wait_for_url(lambda url: "/remove/" not in url)
    assert not customer.authenticator_set.filter(type="webauthn").exists()
    assert SecurityEvent.objects.filter(
        user=customer, kind="mfa_disabled", data={"type": "webauthn"}
    ).exists()
    sign_out(page)

    # the device still holds the credential, but the site no longer knows it
    assert len(authenticator.credentials()) == 1
    page.goto(f"{base}/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.locator(".messages")).to_contain_text("Incorrect code.")
    assert "/accounts/login/" in page.url
    assert signed_in_as(page, base) is None
