import pytest

from portal.notifications import skeletons


@pytest.fixture(autouse=True)
def _no_skeletons_between_tests():
    """Each test starts without the process's email skeletons (tests count renders)."""
    skeletons.clear()
    yield
    skeletons.clear()
