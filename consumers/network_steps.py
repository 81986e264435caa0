"""Which network steps are ready on the replica that evaluates the network, and their signals.

A step's province and network rules need every partition's sums *as of that step*. The sums of
this replica's partitions are known when its engine runs the step; the others' arrive on
``hub-status`` from their owners (``NetworkView``). A step is ready once every partition of
``hub-events`` has its sums there, so one replica and several decide the same network alerts.

Live only: a partition whose sums do not come for ``wait_s`` (120 s) of wall time (its owner wedged,
or holding no data) is left out of that step, with a warning, so that the network's clock
never freezes behind one replica.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from datetime import UTC, datetime

import polars as pl

from consumers.network_view import NetworkView
from core.config import RiskConfig
from core.network_rules import network_signals_from_sums

log = logging.getLogger(__name__)

WAIT_S = 120.0  # a replica catching up a big batch under load can take a minute


class NetworkStepper:
    """The network's own step cursor, over the sums a ``NetworkView`` holds."""

    def __init__(
        self,
        view: NetworkView,
        *,
        partitions: Collection[int],
        config: RiskConfig,
        wait_s: float = WAIT_S,
    ) -> None:
        self.view = view
        self.partitions = sorted(partitions)
        self.config = config
        self.step_ms = config.evaluation_step_s * 1000
        self.wait_s = wait_s
        self.next_ms: int | None = None  # the next network step to decide
        self._waiting_since: dict[int, float] = {}

    def ready(self) -> list[tuple[datetime, pl.DataFrame]]:
        """The steps ready now, oldest first, with their network signal frames. ``done``
        moves the cursor once their decisions are stored."""
        view = self.view
        step = self.next_ms
        if step is None:  # the first: every partition's, else the earliest anyone has
            known = [s for steps in view.sums.values() for s in steps]
            step = view.first_common_step(self.partitions) or (min(known) if known else None)
        result: list[tuple[datetime, pl.DataFrame]] = []
        while step is not None:
            missing = view.sums_for(step, self.partitions)
            if len(missing) == len(self.partitions):  # no partition has this step (yet)
                later = [s for steps in view.sums.values() for s in steps if s > step]
                if not later or not self._all_have_some_step_after(step):
                    break
                step = min(later)  # a quiet gap the engines jumped over
                continue
            if missing and not self._waited_out(step, missing):
                break
            at = datetime.fromtimestamp(step / 1000, tz=UTC)
            signals = network_signals_from_sums(view.stacked_sums(step), at=at, config=self.config)
            result.append((at, signals))
            step += self.step_ms
        return result

    def _all_have_some_step_after(self, step: int) -> bool:
        return all(any(s > step for s in self.view.sums.get(p, {})) for p in self.partitions)

    def _waited_out(self, step: int, missing: list[int]) -> bool:
        since = self._waiting_since.setdefault(step, time.monotonic())
        if time.monotonic() - since < self.wait_s:
            return False
        log.warning(
            "network step %s decided without partitions %s: their sums did not come in %.0f s",
            datetime.fromtimestamp(step / 1000, tz=UTC).isoformat(),
            missing,
            self.wait_s,
        )
        return True

    def done(self, decided: list[datetime]) -> None:
        """The decisions of these steps are stored: move on, forget their sums."""
        if not decided:
            return
        last = int(decided[-1].timestamp() * 1000)
        self.next_ms = last + self.step_ms
        self.view.forget_sums_until(last)
        self._waiting_since = {s: t for s, t in self._waiting_since.items() if s > last}
