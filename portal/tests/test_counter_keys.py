"""The counters' cache keys made once per backend (``portal.counters._full_key``):
what ``make_and_validate_key`` makes, its warnings still given each time, a backend
with its own key making asked each time."""

import warnings

import pytest
from django.core.cache import CacheKeyWarning
from django.core.cache.backends.locmem import LocMemCache

from portal.counters import _full_key


def _backend(**params):
    return LocMemCache("counter-keys", params)


@pytest.mark.parametrize(
    "params",
    [{}, {"KEY_PREFIX": "site"}, {"VERSION": 7}, {"KEY_PREFIX": "p", "VERSION": 2}],
)
def test_the_key_is_make_and_validate_keys(params):
    backend = _backend(**params)
    for key in ["ratelimit:ticket_create:user:1:481", "portal:gen:x", "ÅÄÖ"]:
        expected = backend.make_and_validate_key(key)
        assert _full_key(backend, key) == expected
        assert _full_key(backend, key) == expected  # kept: the same answer


def test_kept_per_backend():
    first, second = _backend(KEY_PREFIX="a"), _backend(KEY_PREFIX="b")
    assert _full_key(first, "k") == ":".join(["a", "1", "k"])
    assert _full_key(second, "k") == ":".join(["b", "1", "k"])


def test_a_key_with_a_warning_is_warned_about_each_time():
    backend = _backend()
    for _ in range(2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert _full_key(backend, "a key") == backend.make_key("a key")
        assert [type(w.message) for w in caught] == [CacheKeyWarning]
    assert "a key" not in backend.__dict__.get("_counter_keys", {})


def test_a_backend_with_its_own_validation_is_asked_each_time():
    asked = []

    class Own(LocMemCache):
        def validate_key(self, key):
            asked.append(key)

    backend = Own("counter-keys-own", {})
    for _ in range(2):
        assert _full_key(backend, "k") == backend.make_key("k")
    assert asked == [":1:k", ":1:k"]
