"""Formats for "ru": see portal/formats/__init__.py for the convention.

Only the names below are overridden; separators and input formats come from Django's
own "ru" locale.
"""

DATE_FORMAT = "d M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "d M Y H:i"
MONTH_DAY_FORMAT = "d M"
SHORT_DATE_FORMAT = "d.m.Y"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
DAY_MONTH_TIME_FORMAT = "d M H:i"
