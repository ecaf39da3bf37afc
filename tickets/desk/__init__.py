"""The agent desk: the helpdesk inside the Wagtail admin (inbox, ticket workspace,
organizations, reports, dashboard panels). Every decision goes through
``tickets.permissions`` and every change through ``tickets.services``."""
