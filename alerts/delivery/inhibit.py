"""Inhibition: while ``network_paralysis`` fires, per-hub notifications go out as one digest.

When the whole network is at risk, a phone that buzzes once per hub is noise. The network alert
itself still goes out alone; every hub-scope notification for the same receiver in the same
delivery pass is merged into a single digest message. Nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

NETWORK_RULE = "network_paralysis"


class _Scoped(Protocol):
    @property
    def scope(self) -> str: ...


Item = TypeVar("Item", bound=_Scoped)


def split_hub_items(
    items: Sequence[Item], *, network_firing: bool
) -> tuple[list[Item], list[Item]]:
    """``(kept, digested)``: hub-scope items go to the digest while the network alert fires."""
    if not network_firing:
        return list(items), []
    kept = [item for item in items if item.scope != "hub"]
    digested = [item for item in items if item.scope == "hub"]
    return kept, digested
