"""Who may register or change which hub: the rules of ``PUT /v1/hubs/{hub_id}``, pure.

    accept_change(requested, current=..., sent=..., carrier=...)  the hub as it will be stored
                                                                   or RegistrationRefusedError

The regulator (and an admin) may register any hub id and set every field. A carrier (``carrier``
given) may only:

- change hubs that are its own, and never give one to another carrier;
- register new hub ids in its own namespace, ``<CODE>-…`` (``ZTO-HZ01``), so no carrier can take
  an id before its owner does (squatting). Hubs under other ids are registered by the regulator;
- leave ``key_node`` as the regulator set it: ``false`` on a new hub, the stored value on an
  existing one. A carrier sending a different value is refused, naming the field.

A carrier is told the same thing whether an id outside its own hubs is free or a competitor's, so
the answer reveals nothing about who else runs what.
"""

from __future__ import annotations

from collections.abc import Set

from core.errors import PeakwatchError
from core.registry import HubSpec


class RegistrationRefusedError(PeakwatchError):
    """The caller may not make this registry change. ``field`` and ``rule`` say which and why."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


def carrier_namespace(carrier: str) -> str:
    """The prefix of the hub ids a carrier may register itself: ``ZTO`` → ``ZTO-``."""
    return f"{carrier}-"


def accept_change(
    requested: HubSpec,
    *,
    current: HubSpec | None,
    sent: Set[str],
    carrier: str | None,
) -> HubSpec:
    """The hub to store for a ``PUT`` of ``requested`` over ``current`` (None: a new hub id).

    ``sent``: the fields the caller actually sent (an omitted ``key_node`` keeps the stored
    value). ``carrier``: the calling carrier's code, or None for the regulator or an admin.
    Raises ``RegistrationRefusedError`` naming the field and the rule.
    """
    stored_key_node = current.key_node if current is not None else False
    key_node = requested.key_node if "key_node" in sent else stored_key_node
    if carrier is not None:
        _check_carrier_may_write(requested, current=current, carrier=carrier)
        if key_node != stored_key_node:
            raise RegistrationRefusedError(
                "key_node",
                f"is set by the regulator; a carrier's change must leave it "
                f"{str(stored_key_node).lower()} (or omit it)",
            )
    return HubSpec.model_validate({**requested.model_dump(), "key_node": key_node})


def _check_carrier_may_write(requested: HubSpec, *, current: HubSpec | None, carrier: str) -> None:
    if requested.carrier != carrier:
        raise RegistrationRefusedError("carrier", f"must be your own carrier ({carrier})")
    if current is not None and current.carrier == carrier:
        return
    namespace = carrier_namespace(carrier)
    if current is not None or not requested.hub_id.startswith(namespace):
        raise RegistrationRefusedError(
            "hub_id",
            f"is not one of your hubs; a carrier registers new hubs under {namespace}… "
            f"(other ids are registered by the regulator)",
        )
