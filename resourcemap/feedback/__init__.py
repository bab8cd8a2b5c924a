"""Feedback after a visit (#23): one invitation per attended visit (``invites``), an
anonymous answer nothing links back to the visit, comments released in weekly batches of at
least five or dropped, and aggregates for services and (k ≥ 5) planners (``answers``)."""
