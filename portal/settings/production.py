# ruff: noqa: F405
"""Production: every secret comes from the environment, and the process refuses to
start without them."""

from portal.keyring import check_production_settings
from portal.logs import logging_config

from .base import *  # noqa: F403
from .env import env_bool, env_int, env_list, env_required, env_str

DEBUG = False
SECRET_KEY = env_required("SECRET_KEY")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    env_required("ALLOWED_HOSTS")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
# Cookies only over HTTPS. A plain-HTTP intranet sets SECURE_COOKIES=false (and
# SECURE_SSL_REDIRECT=false, SECURE_HSTS_SECONDS=0), or nobody could sign in.
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
check_production_settings(
    enabled=ATTACHMENT_ENCRYPTION,
    keys=ATTACHMENT_ENCRYPTION_KEYS,
    key_file=ATTACHMENT_ENCRYPTION_KEY_FILE,
)
MFA_REQUIRED_FOR_STAFF = env_bool("MFA_REQUIRED_FOR_STAFF", True)
LOG_FORMAT = env_str("LOG_FORMAT", "json")
LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL, request_log=REQUEST_LOG)
