"""Old dotted paths of the webhook jobs, kept importable for jobs queued before the
webhooks app existed (django-q2 stores the function path in each queued task); the
schedules themselves are moved by ``webhooks/migrations/0002``. Nothing else lives
here: the webhooks domain is the ``webhooks`` app."""
