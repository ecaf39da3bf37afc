import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A request leaves its language active in the thread (Django's LocaleMiddleware
    does not reset it); these tests render pages in Polish and Russian, so they put
    English back for whatever test runs next in the same process."""
    yield
    translation.activate("en")
