"""The one owner of helpdesk statistics: what each figure means, the roll-ups that
store them, and how a report reads them back.

Every figure counts a ticket in the period in which the *event* happened (not the
period the ticket was created in), so a past period never changes when an old ticket
moves on, days add up to weeks, months and years exactly, and the job only has to
recompute the periods it touched:

- created: tickets whose ``created_at`` falls in the period;
- resolved: tickets whose ``resolved_at`` falls in the period;
- backlog: tickets open at the period's end (created before it, not yet done:
  ``done_at`` = resolved, else closed/rejected/withdrawn, at or after the end);
- median first response: ``sla.first_response_seconds`` of the tickets first
  answered in the period (the median of all of them, never a median of medians);
- median resolution: ``sla.resolution_seconds`` of the tickets resolved in the period;
- SLA met %: of the tickets whose SLA outcome became known in the period
  (``sla.settled_at``), the share that met it (``sla.met``);
- CSAT: average rating (1–5) and count of the rated tickets done in the period.

Durations, "met" and "settled" are ``tickets.sla``'s. ``figures`` applies these
definitions to ticket rows (the job, and the raw computation reports fall back to);
``store`` writes the roll-ups; ``read`` recombines them for a report.
"""
