"""The application side of the outbox suite, run as its own process with
``tests.reliability.outbox_settings``: ``python -m tests.reliability.outbox_producer
TICKETS`` files TICKETS tickets through ``tickets.services.create_ticket`` (each
writes two emails: the requester's receipt and the queue agent's alert), one
transaction each, and prints the references."""

import sys

import django


def main(count: int) -> None:
    django.setup()
    from tickets import services
    from tickets.tests.factories import QueueFactory, make_agent, make_customer

    queue = QueueFactory(name="Support", slug="support")
    make_agent(queue, email="agent@example.com")
    for n in range(count):
        customer = make_customer(email=f"customer{n}@example.com")
        ticket = services.create_ticket(
            customer, subject=f"Outbox {n}", description="D", queue=queue
        )
        print(ticket.reference, flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
