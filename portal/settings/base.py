"""Settings shared by every environment. Values that differ per deployment come from
the environment through ``portal.settings.env``; each app keeps its own section.

Over 400 lines on purpose: the settings every environment shares, one section per app.
"""

import base64
import hashlib
from pathlib import Path

import dj_database_url

from portal.logs import init_sentry, logging_config

from .env import (
    email_settings_from_url,
    env_bool,
    env_int,
    env_json,
    env_list,
    env_str,
    url_with_defaults,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-not-for-production")
DEBUG = False
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # our apps first so that their templates override the packages'
    "portal",
    "accounts",
    "kb",
    "tickets",
    "crm",
    "email_channel",
    "webhooks",
    "graphql_api",
    "live",
    # wagtail
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.search_promotions",
    "wagtail.contrib.table_block",
    "wagtail.contrib.typed_table_block",
    "wagtail.contrib.simple_translation",
    "wagtail.contrib.sitemaps",
    "wagtail.locales",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    # auth
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "guardian",
    # api, jobs, storage
    "strawberry_django",
    "django_q",
    "storages",
    # django
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "portal.errors.DatabaseUnavailableMiddleware",
    # outside SessionMiddleware: it must see the session cookie being set
    "portal.middleware.PrivateCacheMiddleware",
    # django-csp's, the site's policy header built once (portal.middleware)
    "portal.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's, the path's language read once a request
    "accounts.middleware.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # before the user is loaded (portal.admin_chrome)
    "portal.admin_chrome.AdminChromeMiddleware",
    # Django's AuthenticationMiddleware, the user read with their roles in one statement
    "accounts.session_user.SessionUserMiddleware",
    # Django's, the messages cookie's signer made once (portal.middleware)
    "portal.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "portal.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT: the ticket search's plan (rank and snippet subqueries per row) is costed
    # above jit_above_cost, and compiling it took 1-2.5 s of a 0.2 s query (bench,
    # agent_search). Short OLTP queries never gain from JIT.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# A Redis outage or a wrong REDIS_URL must not break pages (portal.cache): short socket
# timeouts, errors answered as cache misses, the cache skipped for a few seconds after one.
CACHE_TIMEOUT_SECONDS = float(env_str("CACHE_TIMEOUT_SECONDS", "0.5"))
CACHE_RETRY_SECONDS = float(env_str("CACHE_RETRY_SECONDS", "5"))
if env_str("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "portal.cache.FailOpenRedisCache",
            "LOCATION": env_str("REDIS_URL"),
        }
    }
    # Signed-in requests read their session from the shared cache (written through to
    # the database, which stays the source of truth): one query fewer per request.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- Auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    # guardian's, with the queue group's rule for tickets (tickets.backends)
    "tickets.backends.ObjectPermissionBackend",
]
# guardian's check looks for its own backend by name; ours is its subclass
SILENCED_SYSTEM_CHECKS = ["guardian.W001"]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/portal/"
LOGOUT_REDIRECT_URL = "/"

# guardian: we decide anonymous visibility in our own policies, so no anonymous user row.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

# --- Internationalisation ------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("pl", "Polski"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# One date/time convention per language (portal/formats/<lang>/formats.py). Numbers are
# grouped only where a template asks (|floatformat:"g"): USE_THOUSAND_SEPARATOR would
# also group ids printed into URLs and data attributes.
FORMAT_MODULE_PATH = ["portal.formats"]

# --- Static and media ------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
# Attachments never live under MEDIA_URL: they are served only by a permission-checked view.
PRIVATE_MEDIA_ROOT = Path(
    env_str(
        "PRIVATE_MEDIA_ROOT", str(MEDIA_ROOT.parent / (MEDIA_ROOT.name + "-private"))
    )
)

AWS_STORAGE_BUCKET_NAME = env_str("AWS_STORAGE_BUCKET_NAME", "")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "attachments": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(PRIVATE_MEDIA_ROOT), "base_url": None},
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
if AWS_STORAGE_BUCKET_NAME:
    _s3 = {
        "bucket_name": AWS_STORAGE_BUCKET_NAME,
        "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
        "region_name": env_str("AWS_S3_REGION_NAME") or None,
        "access_key": env_str("AWS_ACCESS_KEY_ID") or None,
        "secret_key": env_str("AWS_SECRET_ACCESS_KEY") or None,
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": False,
    }
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_s3, "location": "media"},
    }
    STORAGES["attachments"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {**_s3, "location": "attachments", "querystring_expire": 60},
    }

# --- Encryption at rest (portal/keyring.py, docs/security.md) ---------------------------
# "id:base64key,id2:base64key": the first key encrypts, every key decrypts. Or a file with
# one "id:base64key" per line. ATTACHMENT_ENCRYPTION=off stores new files in plaintext.
ATTACHMENT_ENCRYPTION = env_bool("ATTACHMENT_ENCRYPTION", True)
ATTACHMENT_ENCRYPTION_KEYS = env_str("ATTACHMENT_ENCRYPTION_KEYS", "")
ATTACHMENT_ENCRYPTION_KEY_FILE = env_str("ATTACHMENT_ENCRYPTION_KEY_FILE", "")
# Only dev turns this on: without keys, a key file is made outside the repository.
ATTACHMENT_ENCRYPTION_GENERATE_KEY_FILE = False

# --- Email ----------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Support <support@example.com>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
if env_str("EMAIL_URL"):
    globals().update(email_settings_from_url(env_str("EMAIL_URL")))
elif env_str("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)

# --- Jobs (django-q2) ---------------------------------------------------------------------
# django-q2 defaults to Redis; the ORM broker keeps the laptop setup dependency-free.
Q_CLUSTER = {
    "name": "portal",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": 120,
    "retry": 180,
    "max_attempts": 3,
    "queue_limit": 50,
    "bulk": 10,
    "catch_up": False,
    # Successful jobs leave no row: nothing reads them (each email's and webhook's
    # outcome is in its outbox row), and keeping the last 250 cost every job a locked
    # read of those 250 rows, a DELETE and an INSERT. Failures are still kept
    # (django-q2's "Failed tasks" in /django-admin/). Q_SAVE_LIMIT=250 brings them back.
    "save_limit": env_int("Q_SAVE_LIMIT", -1),
    "orm": "default",
}
if env_str("REDIS_URL"):
    Q_CLUSTER.pop("orm")
    # Bounded waits: the workers' BLPOP waits 1 s, so answers may take up to 5 s.
    Q_CLUSTER["redis"] = url_with_defaults(
        env_str("REDIS_URL"), socket_connect_timeout=2, socket_timeout=5
    )

# --- Wagtail ----------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Support Portal"
WAGTAILADMIN_BASE_URL = env_str("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
# Wagtail's database backend; on PostgreSQL each language gets its own text-search
# configuration (kb.search_backend): no stock "polish" exists, so Polish uses "simple".
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "kb.search_backend"}}
KB_SEARCH_CONFIGS = {"en": "english", "ru": "russian", "pl": "simple"}
WAGTAILDOCS_SERVE_METHOD = "serve_view"
# Through accounts.views.admin_login_redirect: allauth for visitors, a 403 page (not a
# redirect loop) for signed-in users without admin access.
WAGTAILADMIN_LOGIN_URL = "/admin/login/"
# Sign-in and credentials are allauth's alone (second factor, rate limits, verified
# email addresses): pages that require a login send readers to allauth, and Wagtail's
# account page neither resets nor changes passwords or email addresses (it links to
# allauth's pages instead, accounts.wagtail_hooks).
WAGTAIL_FRONTEND_LOGIN_URL = LOGIN_URL
WAGTAIL_PASSWORD_MANAGEMENT_ENABLED = False
WAGTAIL_PASSWORD_RESET_ENABLED = False
WAGTAIL_EMAIL_MANAGEMENT_ENABLED = False
# Shared-password privacy would be a second, unthrottled password door
# (/_util/authenticate_with_password/): editors restrict pages and collections to
# signed-in users or groups instead (KB articles use their audience).
WAGTAIL_PRIVATE_PAGE_OPTIONS = {"SHARED_PASSWORD": False}
WAGTAILDOCS_PRIVATE_COLLECTION_OPTIONS = {"SHARED_PASSWORD": False}
# No avatars from gravatar.com (a third-party request carrying a hash of each staff
# email, broken offline): the admin shows its own default avatar or an uploaded one.
WAGTAIL_GRAVATAR_PROVIDER_URL = None

# --- Security ---------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
DATA_UPLOAD_MAX_MEMORY_SIZE = 12 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# Ticket attachments are encrypted while they arrive (views marked @encrypts_uploads):
# no plaintext temporary file. Every other upload takes Django's two handlers.
FILE_UPLOAD_HANDLERS = [
    "tickets.uploads.EncryptingUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# ======================================================================================
# App sections. Each app owns its own block below; keep edits inside your block.
# ======================================================================================

# --- accounts -------------------------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_RATE_LIMITS = {
    "login_failed": "5/5m/ip,5/5m/key",
    "signup": "20/h/ip",
    # per address too: rotating client addresses does not flood one mailbox
    "reset_password": "5/h/ip,5/h/key",
}
ACCOUNT_APPROVAL_REQUIRED = env_bool("ACCOUNT_APPROVAL_REQUIRED", False)
MFA_REQUIRED_FOR_STAFF = env_bool("MFA_REQUIRED_FOR_STAFF", False)
MFA_TOTP_ISSUER = "Support Portal"
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Support Portal] "
# How many reverse proxies append to X-Forwarded-For; 0 trusts REMOTE_ADDR only. Used by
# the security audit and allauth's rate limits.
ACCOUNTS_TRUSTED_PROXY_COUNT = env_int("ACCOUNTS_TRUSTED_PROXY_COUNT", 0)

# --- LDAP / Active Directory sign-in (accounts/ldap.py, portal/settings/ldap.py) --------
# Off unless LDAP_SERVER_URI is set: then the LDAP backend follows the local ones and
# allauth's email + password form also checks the directory. See docs/security.md.
from .ldap import install_ldap  # noqa: E402

install_ldap(globals())  # AUTH_LDAP_*, LDAP_*, the backend, ACCOUNT_FORMS
# --- end of LDAP ---------------------------------------------------------------------

ALLAUTH_TRUSTED_PROXY_COUNT = ACCOUNTS_TRUSTED_PROXY_COUNT
MIDDLEWARE = [
    *MIDDLEWARE,
    "accounts.middleware.AccountSecurityMiddleware",
    # after LocaleMiddleware and AuthenticationMiddleware: the profile's choice wins
    "accounts.middleware.UserPreferencesMiddleware",
]

# --- accounts: passkeys (WebAuthn, docs/security.md) ------------------------------------
# A passkey or security key is a second factor beside TOTP; with passkey login on, a
# passkey that verified its user (PIN, fingerprint) signs in without the password.
# WebAuthn needs HTTPS, or http://localhost in development (browsers refuse an IP
# address such as 127.0.0.1 as a relying party); ALLOW_INSECURE_ORIGIN skips the origin
# check for other plain-HTTP hosts and must stay off in production.
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = env_bool("MFA_PASSKEY_LOGIN_ENABLED", True)
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = env_bool(
    "MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN", False
)


# --- accounts: single sign-on (OpenID Connect through allauth, docs/security.md) -------
# OIDC_PROVIDERS: a JSON list, one object per provider: {"id", "name", "server_url"
# (the issuer), "client_id", "secret", optional "scope" (a list) and "trust_mfa"}.
# Empty: no SSO buttons.
# The list is checked at start-up (accounts.sso.check_providers).
INSTALLED_APPS += [
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]
OIDC_PROVIDERS = env_json("OIDC_PROVIDERS", [])
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "APPS": [
            {
                "provider_id": p.get("id"),
                "name": p.get("name") or p.get("id"),
                "client_id": p.get("client_id"),
                "secret": p.get("secret", ""),
                "settings": {
                    "server_url": p.get("server_url"),
                    "trust_mfa": p.get("trust_mfa") is True,
                    # e.g. ["openid", "profile", "email", "groups"]
                    **({"scope": p["scope"]} if p.get("scope") else {}),
                },
            }
            for p in (OIDC_PROVIDERS if isinstance(OIDC_PROVIDERS, list) else [])
            if isinstance(p, dict)
        ],
        "OAUTH_PKCE_ENABLED": True,
        # sends a nonce and verifies the ID token's signature (accounts/oidc_tokens.py)
        "provider_class": "accounts.oidc_tokens.Provider",
    }
}
SOCIALACCOUNT_ADAPTER = "accounts.sso.SocialAccountAdapter"
# An existing account is reached through its email only when the provider says the
# address is verified (allauth ignores unverified claims for this lookup).
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_STORE_TOKENS = False
# The claim carrying group names, and group name -> role (accounts.roles), e.g.
# {"helpdesk-agents": "Agents"}; mapped roles are set again at every SSO sign-in.
OIDC_ROLE_CLAIM = env_str("OIDC_ROLE_CLAIM", "groups")
OIDC_ROLE_MAP = env_json("OIDC_ROLE_MAP", {})
# "acr" values that mean a multi-factor sign-in (besides "amr" methods such as "mfa").
OIDC_MFA_ACR_VALUES = env_list(
    "OIDC_MFA_ACR_VALUES",
    ["http://schemas.openid.net/pape/policies/2007/06/multi-factor"],
)


# --- tickets --------------------------------------------------------------------------
TICKETS_REFERENCE_PREFIX = "HD"
TICKETS_ATTACHMENT_MAX_BYTES = env_int("TICKETS_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
TICKETS_AUTO_CLOSE_DAYS = env_int("TICKETS_AUTO_CLOSE_DAYS", 7)

# Email channel (email_channel, docs/email.md). Messages the intake could not decide
# are written here (ingest_email exits 75); the domain of our Message-IDs.
EMAIL_SPOOL_DIR = Path(
    env_str("EMAIL_SPOOL_DIR", str(BASE_DIR / "var" / "email-spool"))
)
EMAIL_MESSAGE_ID_DOMAIN = env_str("EMAIL_MESSAGE_ID_DOMAIN", "")
# extra CA bundle for a mail server with a private certificate (IMAPS/STARTTLS)
EMAIL_IMAP_CA_FILE = env_str("EMAIL_IMAP_CA_FILE", "")


# --- kb -------------------------------------------------------------------------------
# Rendered KB pages for anonymous readers (kb.page_cache): seconds a page is kept, 0 to
# switch it off. Unset: 300 s when the cache is shared (REDIS_URL), off otherwise.
if env_str("KB_PAGE_CACHE_SECONDS"):
    KB_PAGE_CACHE_SECONDS = env_int("KB_PAGE_CACHE_SECONDS", 300)

# --- graphql_api ----------------------------------------------------------------------
GRAPHQL_DEBUG = False  # True shows resolver exception messages (dev only)
# "authenticated": signed-in callers and tokens (everyone when DEBUG); "always"; "never"
GRAPHQL_INTROSPECTION = env_str("GRAPHQL_INTROSPECTION", "authenticated")
# per token / per user / per IP for anonymous callers; "" disables
GRAPHQL_RATE_LIMIT = env_str("GRAPHQL_RATE_LIMIT", "120/m")
GRAPHQL_MAX_DEPTH = 10
GRAPHQL_MAX_ALIASES = 15
GRAPHQL_MAX_TOKENS = 2000


# --- jobs / webhooks / notifications ------------------------------------------------------
INSTALLED_APPS += ["portal.notifications"]  # SentNotification lives there
WEBHOOKS_TIMEOUT_SECONDS = env_int("WEBHOOKS_TIMEOUT_SECONDS", 5)
WEBHOOKS_CLAIM_SIZE = 10  # rows a worker leases at once
# A leased row is retried this long after a crash; longer than sending a whole claim.
WEBHOOKS_LEASE_SECONDS = WEBHOOKS_CLAIM_SIZE * WEBHOOKS_TIMEOUT_SECONDS + 10
# A run stops claiming after this; + one claim stays below Q_CLUSTER["timeout"].
WEBHOOKS_RUN_SECONDS = 60
WEBHOOKS_BACKOFF_BASE_SECONDS = 30  # first retry after 30 s, then 1 min, 2 min, ...
WEBHOOKS_BACKOFF_MAX_SECONDS = 3600
WEBHOOKS_MAX_AGE_HOURS = 24  # then a delivery is marked failed
WEBHOOKS_BATCH_SIZE = 500  # at most this many attempts per process_webhooks run
WEBHOOKS_RETENTION_DAYS = env_int("WEBHOOKS_RETENTION_DAYS", 30)
# Hosts (name, ".suffix") and networks (IP or CIDR) webhooks may post to although they
# are loopback/private/link-local: intranet receivers. Empty: public addresses only.
WEBHOOKS_ALLOWED_HOSTS = env_list("WEBHOOKS_ALLOWED_HOSTS", [])
API_TOKENS_RETENTION_DAYS = env_int("API_TOKENS_RETENTION_DAYS", 30)
# Notification outbox (portal/notifications/sending.py). A claim of CLAIM_SIZE emails
# must be sent within the lease (CLAIM_SIZE × EMAIL_TIMEOUT < LEASE), or another worker
# could send them too; a killed worker's emails go out once its lease has run out.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
NOTIFICATIONS_CLAIM_SIZE = 25
# The outboxes' claims and outcomes as prepared statements on PostgreSQL
# (``portal.outbox.prepared_cursor``); off behind a PgBouncer in transaction mode that
# does not keep prepared statements (before 1.21, or without max_prepared_statements)
OUTBOX_PREPARED_STATEMENTS = env_bool("OUTBOX_PREPARED_STATEMENTS", True)
# The web's hot statements (a filing's INSERTs, the session's user read) prepared on
# PostgreSQL once per kept connection (``portal.prepared.web_cursor``; not with
# DB_CONN_MAX_AGE=0); off behind PgBouncer as OUTBOX_PREPARED_STATEMENTS
WEB_PREPARED_STATEMENTS = env_bool("WEB_PREPARED_STATEMENTS", True)
NOTIFICATIONS_LEASE_SECONDS = NOTIFICATIONS_CLAIM_SIZE * EMAIL_TIMEOUT + 60
NOTIFICATIONS_RUN_SECONDS = 60  # a reconciliation run stops claiming after this
NOTIFICATIONS_BATCH_SIZE = 1000  # at most this many emails per reconciliation run
NOTIFICATIONS_BACKOFF_BASE_SECONDS = 60  # first retry after 1 min, then 2, 4, ...
NOTIFICATIONS_BACKOFF_MAX_SECONDS = 3600
NOTIFICATIONS_MAX_ATTEMPTS = 10  # then the row is marked failed
NOTIFICATIONS_MAX_AGE_HOURS = 24  # or once the change is this old
NOTIFICATIONS_RETENTION_DAYS = env_int("NOTIFICATIONS_RETENTION_DAYS", 90)
# Audit events of finished (closed, rejected, withdrawn) tickets are kept this long.
TICKETS_EVENT_RETENTION_DAYS = env_int("TICKETS_EVENT_RETENTION_DAYS", 365)


# --- portal ---------------------------------------------------------------------------
# Wagtail's admin chrome (sidebar, JS configuration, shortcuts dialog) kept between
# requests (portal.admin_chrome). Unset: on when the cache is shared (REDIS_URL).
if env_str("ADMIN_CHROME_CACHE"):
    ADMIN_CHROME_CACHE = env_bool("ADMIN_CHROME_CACHE")
ADMIN_CHROME_CACHE_SECONDS = env_int("ADMIN_CHROME_CACHE_SECONDS", 600)
# Content-Security-Policy on the public site (KB, portal, accounts): no inline script is
# needed there. The Wagtail and Django admins and GraphiQL manage their own scripts.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/admin/", "/django-admin/", "/graphql/"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "https:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-src": [
            "'self'",
            "https://www.youtube-nocookie.com",
            "https://www.youtube.com",
            "https://player.vimeo.com",
        ],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}
BACKUP_EXCLUDE_MODELS = [
    "sessions",
    "admin.logentry",
    "wagtailsearch.indexentry",
    # its SQLite full-text mirror: loading it clashes with the index's triggers; restore
    # rebuilds the index (update_index)
    "wagtailsearch.sqliteftsindexentry",
    "django_q.ormq",
    "django_q.task",
    # numbers the database's triggers keep from the ticket and grant rows (tickets 0026):
    # the restore's rows make them again; loading them too would count twice
    "tickets.queuetally",
    "tickets.granttally",
    "tickets.tallieduser",
]
# Who gets operational alerts by email (a failed backup check): comma-separated addresses.
ADMINS = [(address, address) for address in env_list("ADMINS", [])]
# Backups (portal.backup): a folder or s3://bucket/prefix; default <project>/backups.
BACKUP_LOCATION = env_str("BACKUP_LOCATION", str(BASE_DIR / "backups"))
# 32 random bytes, URL-safe base64: archives are encrypted with AES-256-GCM.
BACKUP_ENCRYPTION_KEY = env_str("BACKUP_ENCRYPTION_KEY", "")
BACKUP_KEEP_DAILY = env_int("BACKUP_KEEP_DAILY", 7)
BACKUP_KEEP_WEEKLY = env_int("BACKUP_KEEP_WEEKLY", 4)
BACKUP_KEEP_MONTHLY = env_int("BACKUP_KEEP_MONTHLY", 12)
# Per-user limits on actions a script could repeat (portal.ratelimits): filing tickets
# from the portal and through GraphQL, inviting people to an organization. allauth and
# GraphQL requests have their own.
PORTAL_RATE_LIMITS = {
    "ticket_create": env_str("TICKET_CREATE_RATE_LIMIT", "20/h"),
    # messages one sender may mail to the helpdesk (email_channel.intake)
    "email_inbound": env_str("EMAIL_INBOUND_RATE_LIMIT", "30/h"),
    # an organization manager's invitations: each one emails an address
    "organization_invite": env_str("INVITATION_RATE_LIMIT", "30/h"),
}
# Operations: request ids, one log line per request and metrics (portal.observability,
# first so that it times everything), JSON logs (portal.logs), /metrics (portal.metrics).
MIDDLEWARE = ["portal.observability.RequestObservabilityMiddleware", *MIDDLEWARE]
# "json" (one object per line; production's default) or "text".
LOG_FORMAT = env_str("LOG_FORMAT", "text")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# One INFO line per request (portal.request); off when the reverse proxy's access log
# has them (5xx lines, at ERROR, stay).
REQUEST_LOG = env_bool("REQUEST_LOG", True)
LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL, request_log=REQUEST_LOG)
# Take X-Request-ID from the proxy in front (a client alone cannot set it): on by
# default when a trusted proxy is declared.
LOG_TRUST_REQUEST_ID = env_bool(
    "LOG_TRUST_REQUEST_ID", ACCOUNTS_TRUSTED_PROXY_COUNT > 0
)
# Bearer token for /metrics; unset, /metrics answers 404.
METRICS_TOKEN = env_str("METRICS_TOKEN", "")
SENTRY_DSN = env_str("SENTRY_DSN", "")
if SENTRY_DSN:
    init_sentry(
        SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", ""),
        traces_sample_rate=float(env_str("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )
# Benchmarks only: report each request's SQL statement count in X-SQL-Queries.
if env_bool("BENCH_COUNT_QUERIES", False):
    MIDDLEWARE = ["portal.middleware.QueryCountMiddleware", *MIDDLEWARE]

# --- first paint and compression (Lighthouse) ------------------------------------------
# The theme's pre-paint line is inlined in <head> (templates/includes/theme_init.js) so
# that no script blocks rendering; the CSP allows exactly that script by its hash.
THEME_INIT_SCRIPT = BASE_DIR / "templates" / "includes" / "theme_init.js"
CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"].append(
    "'sha256-{}'".format(
        base64.b64encode(
            hashlib.sha256(THEME_INIT_SCRIPT.read_bytes()).digest()
        ).decode()
    )
)
# HTML and JSON are sent gzip-compressed. BREACH: Django's GZipMiddleware pads each
# compressed answer with random bytes (Heal The BREACH) and CSRF tokens are masked per
# answer; static files come precompressed from whitenoise.
MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware", *MIDDLEWARE]

# --- live updates (live/) ---------------------------------------------------------------
# The bus that wakes live streams across processes: Redis pub/sub in production (any
# redis:// URL; REDIS_URL when unset), in-process when empty (one server process).
LIVE_BUS_URL = env_str("LIVE_BUS_URL", env_str("REDIS_URL", ""))
LIVE_BUS_CHANNEL = env_str("LIVE_BUS_CHANNEL", "live:events")
# Open event streams per signed-in user (the browser's tabs); more answer 429.
LIVE_MAX_CONNECTIONS_PER_USER = env_int("LIVE_MAX_CONNECTIONS_PER_USER", 5)
# A comment line this often keeps proxies from closing an idle stream; the session is
# re-checked as often, so a signed-out stream ends within this time.
LIVE_HEARTBEAT_SECONDS = env_int("LIVE_HEARTBEAT_SECONDS", 15)
# How long a stream trusts what it read about its user (groups, roles) before reading
# again; grant changes on a ticket (assignment, queue move, sharing) apply at once.
LIVE_VISIBILITY_TTL_SECONDS = env_int("LIVE_VISIBILITY_TTL_SECONDS", 60)
# Longest time an event's transaction may take to commit after writing it: until then
# a reconnect also looks below the greatest id delivered (live.stream.resume_token).
LIVE_REORDER_SECONDS = env_int("LIVE_REORDER_SECONDS", 30)
# Events read back from the database on reconnect (Last-Event-ID), at most.
LIVE_REPLAY_LIMIT = env_int("LIVE_REPLAY_LIMIT", 500)
# Threads per process for the live streams' ORM and cache calls (live.threads): each
# may hold a database connection within CONN_MAX_AGE.
LIVE_SYNC_THREADS = env_int("LIVE_SYNC_THREADS", 8)
# How long a "viewing"/"typing" beat of the desk's presence lasts without another one.
LIVE_PRESENCE_TTL_SECONDS = env_int("LIVE_PRESENCE_TTL_SECONDS", 30)
# WebSocket connections by path (portal.websockets): GraphQL subscriptions over
# graphql-transport-ws on the HTTP endpoint's path. Any other path is refused.
ASGI_WEBSOCKET_ROUTES = {"/graphql/": "graphql_api.live.transport.application"}
