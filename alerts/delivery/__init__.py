"""Wall-time delivery: the outbox rows the evaluation recorded, sent on the wall clock.

    worker      ``Deliverer``: one pass (escalate, follow up, claim, plan, send, record)
    route       who hears an alert, grouped how (read by the evaluation too, to record rows)
    escalate    escalations, pages after a silence, reminders: decisions with ``wall_now``
    dispatch    a pass's plan: suppress, group interval, group, inhibit, rate limit
    retry       after a failed send: the back-off, and when to give up
    silence     silences: label matchers in a wall-clock window
    inhibit     while the network alert fires, hub notifications go out as one digest

Every query (the outbox's rows, the alerts' states) is in ``alerts.store``.
"""
