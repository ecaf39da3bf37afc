import pytest
from django.core.management import call_command
from django_q.models import Schedule

from portal.schedules import SCHEDULES


@pytest.mark.django_db
def test_setup_schedules_twice_gives_the_same_rows():
    call_command("setup_schedules")
    first = list(
        Schedule.objects.order_by("name").values_list(
            "name", "func", "schedule_type", "minutes", "cron"
        )
    )
    call_command("setup_schedules")
    second = list(
        Schedule.objects.order_by("name").values_list(
            "name", "func", "schedule_type", "minutes", "cron"
        )
    )
    assert first == second
    assert [row[0] for row in first] == sorted(job.name for job in SCHEDULES)


@pytest.mark.django_db
def test_setup_schedules_removes_duplicate_rows_by_name():
    job = SCHEDULES[0]
    Schedule.objects.create(
        name=job.name, func="old.func", schedule_type=Schedule.MINUTES, minutes=9
    )
    Schedule.objects.create(
        name=job.name, func="old.func", schedule_type=Schedule.MINUTES, minutes=9
    )
    call_command("setup_schedules")
    rows = Schedule.objects.filter(name=job.name)
    assert rows.count() == 1
    assert rows.get().func == job.func


@pytest.mark.django_db
def test_backups_run_daily_and_are_verified_weekly():
    call_command("setup_schedules")
    rows = {
        row.func: (row.schedule_type, row.cron)
        for row in Schedule.objects.filter(func__startswith="portal.backup.")
    }
    assert rows == {
        "portal.backup.scheduled_backup": (Schedule.CRON, "15 2 * * *"),
        "portal.backup.scheduled_verify": (Schedule.CRON, "45 4 * * 0"),
    }
