"""The search backend: Wagtail's database backend, with a PostgreSQL text-search
configuration per language.

PostgreSQL stems words with a configuration per language. It ships ``english`` and
``russian`` (Snowball stemmers) but no ``polish``: Polish stemming needs an ispell
dictionary (e.g. the ``polish`` hunspell files from sjp.pl) installed into the server,
which a stock PostgreSQL and the Debian package do not have. Polish is therefore
indexed and searched with ``simple`` (lower-cased words, no stemming, no stop words):
exact word forms match, "zgłoszenie" does not find "zgłoszenia", but nothing is
wrongly stemmed as English would do. ``settings.KB_SEARCH_CONFIGS`` holds the map.

Each object is indexed with its own locale's configuration, and a query uses the
active language's (the KB search filters to the reader's locale, so both sides agree).
Objects without a locale, and other databases (SQLite in tests), are unchanged. After
changing the map, rebuild the index: ``manage.py update_index``.
"""

import contextvars

from django.conf import settings
from django.db import connection
from django.utils import translation
from modelsearch.backends import database
from modelsearch.backends.database.postgres.postgres import (
    PostgresIndex,
    PostgresSearchBackend,
)

_indexing_config = contextvars.ContextVar("kb_search_indexing_config", default=None)


def config_for_language(language: str | None) -> str | None:
    return settings.KB_SEARCH_CONFIGS.get(language or "")


class LanguagePostgresIndex(PostgresIndex):
    def add_items(self, model, objs):
        from wagtail.models import Locale

        if not any(hasattr(obj, "locale_id") for obj in objs):
            return super().add_items(model, objs)
        languages = dict(Locale.objects.values_list("pk", "language_code"))
        groups = {}
        for obj in objs:
            language = languages.get(getattr(obj, "locale_id", None))
            groups.setdefault(config_for_language(language), []).append(obj)
        for config, group in groups.items():
            token = _indexing_config.set(config or self.backend.default_config)
            try:
                super().add_items(model, group)
            finally:
                _indexing_config.reset(token)


class LanguagePostgresSearchBackend(PostgresSearchBackend):
    index_class = LanguagePostgresIndex

    @property
    def config(self):
        return (
            _indexing_config.get()
            or config_for_language(translation.get_language())
            or self.default_config
        )

    @config.setter
    def config(self, value):
        self.default_config = value


def SearchBackend(params):  # noqa: N802 — the name Wagtail looks up in a backend module
    if connection.vendor == "postgresql":
        return LanguagePostgresSearchBackend(params)
    return database.SearchBackend(params)
