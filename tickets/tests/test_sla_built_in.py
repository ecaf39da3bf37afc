"""Due times where no saved SLA policy applies: the built-in defaults' targets,
computed without a translated name (``sla.policy_for`` still gives the named one)."""

from datetime import UTC, datetime, timedelta

import pytest

from tickets import sla
from tickets.models import SLAPolicy

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # a Monday
PRIORITIES = ("critical", "high", "medium", "low")


def _untranslatable(message):
    raise AssertionError(f"translated for a due time: {message!r}")


@pytest.mark.parametrize("priority", PRIORITIES)
def test_due_times_without_a_policy_are_the_built_in_targets(
    queue, priority, monkeypatch
):
    expected = SLAPolicy(name="fresh")
    monkeypatch.setattr(sla, "gettext", _untranslatable)
    assert sla.due_times(queue, priority, START) == (
        START + timedelta(minutes=expected.first_response_minutes(priority)),
        START + timedelta(minutes=expected.resolution_minutes(priority)),
    )
    assert sla.due_times(None, priority, START) == sla.due_times(queue, priority, START)


def test_policy_for_without_a_policy_is_still_named(queue):
    policy = sla.policy_for(queue)
    assert (policy.pk, policy.name) == (None, "Built-in defaults")
    assert sla.policy_for(queue) is not policy  # a new instance for each caller


def test_the_default_policy_applies_before_the_built_in_targets(queue):
    SLAPolicy.objects.create(
        name="Default", is_default=True, first_response_minutes_high=7
    )
    first, _ = sla.due_times(queue, "high", START)
    assert first == START + timedelta(minutes=7)


def test_the_queues_policy_applies_first(queue):
    queue.sla_policy = SLAPolicy.objects.create(name="Gold", resolution_minutes_low=5)
    queue.save()
    _, resolution = sla.due_times(queue, "low", START)
    assert resolution == START + timedelta(minutes=5)
