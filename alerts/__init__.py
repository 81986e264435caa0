"""Alerting: from the core's risk signals to the on-call phone, with nothing lost.

Split by the clock each part runs on, in the order a signal meets them (see docs/alerting.md):

    evaluation/   event time: tick, fingerprint, lifecycle, incidents, in the step's transaction
    store/        every query: alerts and history, the outbox, silences, incidents, duty, …
    delivery/     wall time: the delivery pass, routes, escalation, dispatch, silences, inhibition
    notify/       one module per integration; render and texts (below them) write the messages

Shared by all of them, at this level: ``model`` (Alert, AlertChange), ``config``, ``errors``,
``metrics``, ``duty`` (the roster: who handles an incident, whom a message @-mentions),
``measures*`` and ``schemas`` (the API's shapes); ``service`` is ``AlertService``, the facade the
app holds.
"""
