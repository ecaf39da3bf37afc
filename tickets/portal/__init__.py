"""The customer's self-service portal: thin views over ``tickets.services`` and
``tickets.permissions`` (dashboard, list, new ticket, one ticket and its actions)."""
