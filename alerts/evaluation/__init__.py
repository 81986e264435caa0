"""Event-time evaluation: one step's signal frame in, the alerts' decisions out, stored in the
step's transaction (``AlertService.process_steps``). The same events decide the same alerts
live or replayed; the wall clock only stamps when a decision was made.

    tick          the signal frame → one Signal per fingerprint; evaluation marks, authority,
                  the outbox rows a transition causes
    fingerprint   the stable id of (rule, scope, subject)
    lifecycle     pure decisions at the step's time: pending → firing → resolved, level changes
    incidents     which transitions open an incident (突发事件), and which reports fall due
"""
