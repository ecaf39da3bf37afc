"""Email notifications for every app: a durable outbox (one row per email, written in
the transaction of the change), rendering (HTML + text) in the recipient's language,
preferences, "not about your own action", exactly one email per idempotency key.

Services write with ``portal.notifications.dispatch`` inside their transaction; the
worker delivers with ``portal.notifications.sending`` (a wake-up job after commit, and
the ``notifications-deliver-due`` reconciliation every minute).
"""
