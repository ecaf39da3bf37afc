"""Email notifications: rendering (HTML + text), preferences, "not about your own
action", and exactly-once sending per idempotency key, for every app.

Use ``portal.notifications.sending.send_notification`` inside a job, and
``portal.notifications.dispatch`` to queue such a job after the current transaction
commits.
"""
