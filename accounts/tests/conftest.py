import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _clear_cache():
    """allauth keeps rate-limit counters and used TOTP codes in the cache."""
    cache.clear()
    yield
    cache.clear()


TOTP_SECRET = "JBSWY3DPEHPK3PXP"


@pytest.fixture
def enable_totp():
    def _enable(user, secret=TOTP_SECRET):
        TOTP.activate(user, secret)
        return secret

    return _enable


def current_totp_code(secret=TOTP_SECRET) -> str:
    import time

    from allauth.mfa import app_settings

    counter = int(time.time()) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))
