"""Date, time and number formats per language (``FORMAT_MODULE_PATH``).

One convention on every surface (portal, desk, accounts, admin screens we added):
day, abbreviated month in the active language, four-digit year, 24-hour time.
Templates and Python name a format instead of spelling one out:

- ``DATE_FORMAT`` / ``DATETIME_FORMAT``: "03 Dec 2026" / "03 Dec 2026 14:05"
- ``SHORT_DATE_FORMAT`` / ``SHORT_DATETIME_FORMAT``: numeric, for tables
- ``MONTH_DAY_FORMAT``: "03 Dec", chart axes
- ``DAY_MONTH_TIME_FORMAT`` (ours): "03 Dec 14:05", compact desk lists and SLA clocks

Every language module below must define ``DAY_MONTH_TIME_FORMAT``: Django returns an
unknown format name verbatim, so a missing one would print its own name.
"""

DAY_MONTH_TIME = "DAY_MONTH_TIME_FORMAT"
