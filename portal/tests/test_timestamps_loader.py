"""``timestamptz`` values read by psycopg's own loader give what Django's loader gives
(``portal.timestamps``): the same values, aware, in the same ``tzinfo`` object."""

import cProfile
import pstats
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from accounts.models import User

pytestmark = pytest.mark.django_db

_VALUES_SQL = """
    SELECT v FROM (VALUES
        ('0001-01-01 00:00:00+00'::timestamptz),
        ('1900-01-01 00:00:00+00'), ('1969-12-31 23:59:59.999999+00'),
        ('1970-01-01 00:00:00+00'), ('2000-02-29 12:00:00.5+00'),
        ('2026-03-29 01:59:59.999999+02'), ('2026-10-25 03:00:00.000001+03'),
        ('2026-12-06 09:30:00.123456-11:30'), ('9999-12-31 23:59:59.999999+00'),
        (NULL)
    ) AS t(v)
    UNION ALL
    SELECT '2026-12-06 09:30:00.000007+00'::timestamptz
        + make_interval(secs => g * 7919.123457) FROM generate_series(-500, 500) g
"""


def _postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("psycopg's loaders: PostgreSQL only")


def _read(sql, *, djangos=False):
    from django.db.backends.postgresql.psycopg_any import register_tzloader

    with connection.cursor() as cursor:
        if djangos:
            register_tzloader(connection.timezone, cursor.cursor)
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def _same(mine, djangos):
    assert len(mine) == len(djangos) > 1000
    for a, b in zip(mine, djangos, strict=True):
        assert a == b
        if b is not None:
            assert (a.year, a.hour, a.minute, a.second, a.microsecond) == (
                b.year,
                b.hour,
                b.minute,
                b.second,
                b.microsecond,
            )
            assert a.tzinfo is b.tzinfo


def test_psycopgs_loader_reads_what_djangos_reads():
    _postgresql()
    mine, djangos = _read(_VALUES_SQL), _read(_VALUES_SQL, djangos=True)
    _same(mine, djangos)
    assert djangos[0].tzinfo is UTC
    assert mine[1] == datetime(1900, 1, 1, tzinfo=UTC)


def test_the_connection_chooses_psycopgs_loader_per_cursor():
    _postgresql()
    from psycopg import adapters, postgres, pq

    from portal import timestamps

    oid = postgres.types["timestamptz"].oid
    connection.ensure_connection()
    registered = connection.connection.adapters.get_loader(oid, pq.Format.TEXT)
    assert registered is timestamps._loaders()[2]
    assert registered.timezone is connection.timezone is UTC
    loader = registered(oid, connection.connection)
    assert type(loader) is adapters.get_loader(oid, pq.Format.TEXT)


def test_reading_a_thousand_values_costs_a_few_python_calls():
    _postgresql()
    _read(_VALUES_SQL)
    profiler = cProfile.Profile()
    profiler.enable()
    _read(_VALUES_SQL)
    profiler.disable()
    calls = sum(v[1] for v in pstats.Stats(profiler).stats.values())
    assert calls < 300  # Django's loader: ~8 a value


def test_a_session_in_another_time_zone_keeps_djangos_loader():
    """The denied twin: psycopg's loader would give Moscow's ``tzinfo``; Django's
    gives what it gave (its ``replace`` of the zone), so that one stays."""
    _postgresql()
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Europe/Moscow'")
    # the year 9999 passes the year 10000 in Moscow: no loader reads it
    sql = f"SELECT v FROM ({_VALUES_SQL}) s WHERE v IS NULL OR v < '9000-01-01'"  # noqa: S608
    try:
        mine, djangos = _read(sql), _read(sql, djangos=True)
        _same(mine, djangos)
        assert mine[5].tzinfo is UTC
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")


@override_settings(USE_TZ=False)
def test_without_time_zones_the_values_stay_naive_as_djangos():
    _postgresql()
    mine, djangos = _read(_VALUES_SQL), _read(_VALUES_SQL, djangos=True)
    assert len(mine) == len(djangos)
    assert mine == djangos
    assert all(v is None or v.tzinfo is None for v in mine)


def test_a_model_reads_its_moments_as_before():
    _postgresql()
    moment = timezone.now().replace(microsecond=654321) - timedelta(days=400)
    user = User.objects.create(email="moments@example.com", last_login=moment)
    read = User.objects.get(pk=user.pk)
    assert read.last_login == moment
    assert read.last_login.tzinfo is UTC
    assert read.date_joined.tzinfo is UTC
