def everyone(data: dict):
    """A ``payload_for`` for ``outbox.enqueue`` that gives every webhook owner the same
    data (tests of the outbox mechanics; the scoping by owner is tested with real
    tickets and articles)."""
    return lambda owner: data
