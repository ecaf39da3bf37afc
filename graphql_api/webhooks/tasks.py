"""``graphql_api.webhooks.tasks.*`` as queued before the move: see the package
docstring. New jobs use ``webhooks.tasks``."""

from webhooks.tasks import process_webhooks, purge_old_deliveries

__all__ = ["process_webhooks", "purge_old_deliveries"]
