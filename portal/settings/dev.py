# ruff: noqa: F405
from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
GRAPHQL_DEBUG = True
STORAGES["staticfiles"] = {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}  # noqa: F405
ATTACHMENT_ENCRYPTION_GENERATE_KEY_FILE = True
