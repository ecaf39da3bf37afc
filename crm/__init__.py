"""The customer-relationship layer over accounts and tickets: interactions (calls,
meetings, emails, notes) and follow-up tasks, with their policy, services, the
reminder job and the desk's "My tasks" and Organization 360 pages. It may import
accounts and tickets; they never import it."""
