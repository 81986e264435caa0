"""Which network steps are ready on the replica that evaluates the network, and their signals.

A step's province and network rules need every partition's sums *as of that step*. The sums of
this replica's partitions are known when its engine runs the step; the others' arrive on
``hub-status`` from their owners (``NetworkView``). A step is ready once every partition of
``hub-events`` has its sums there, so one replica and several decide the same network alerts.

A step waits for a partition as long as its owner is alive: an owner still polling, however far
behind, says so on ``hub-status`` every few seconds (``publish_alive``) besides the sums of
every step it runs, so a slow replica delays the network's steps and never changes them. Live
only: a partition whose owner has said nothing for ``wait_s`` (120 s) of wall time — gone, or
wedged until the group's rebalance hands the partition on — is left out of the steps it holds
back, with a warning, so that the network's clock never freezes behind a dead replica.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime

import polars as pl

from consumers.network_view import NetworkView
from core.config import RiskConfig
from core.network_rules import network_signals_from_sums

log = logging.getLogger(__name__)

WAIT_S = 120.0  # silence of an owner: beyond a poll interval, a rebalance and a recovery


class NetworkStepper:
    """The network's own step cursor, over the sums a ``NetworkView`` holds."""

    def __init__(
        self,
        view: NetworkView,
        *,
        partitions: Collection[int],
        config: RiskConfig,
        wait_s: float = WAIT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.view = view
        self.partitions = sorted(partitions)
        self.config = config
        self.step_ms = config.evaluation_step_s * 1000
        self.wait_s = wait_s
        self.clock = clock
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
        """True once the owner of every partition missing at ``step`` has been silent — no
        sums, no word that it polls — for ``wait_s``, and the step has waited that long too."""
        now = self.clock()
        since = self._waiting_since.setdefault(step, now)
        heard = self.view.heard_at
        if any(now - max(since, heard.get(p, since)) < self.wait_s for p in missing):
            return False
        log.warning(
            "network step %s decided without partitions %s: their owners published nothing"
            " for %.0f s",
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
