"""What the service decides at one event-time step, as one function for the service, ``make
eval`` and the benchmarks alike.

    partition_sums(step)                 the step's province sums, per partition it evaluates
    step_signals(step, network_sums=, config=)
                                         hub rules at the step, and — on the replica that
                                         evaluates the network — province and network rules
                                         from the sums of every partition at that step
"""

from __future__ import annotations

import polars as pl

from core import hub_rules
from core.config import RiskConfig
from core.engine import StepResult
from core.network_rules import heard_sums, network_signals_from_sums


def partition_sums(step: StepResult) -> dict[int, pl.DataFrame]:
    """Province sums of the hubs of each partition the step evaluated for the first time (an
    empty frame for a partition with no hub heard yet: it is there, with nothing to add)."""
    held = step.hubs_by_partition
    states = step.hub_states.join(held, on="hub_id", how="inner")
    sums = heard_sums(states, "partition")
    parts = {
        int(p): frame.drop("partition")
        for (p,), frame in sums.partition_by("partition", as_dict=True).items()
    }
    empty = sums.drop("partition").clear()
    return {p: parts.get(p, empty) for p in sorted(step.partitions)}


def step_signals(
    step: StepResult, *, network_sums: pl.DataFrame | None, config: RiskConfig
) -> pl.DataFrame:
    """The signal frame of one step: hub rules, plus the network's from ``network_sums`` (the
    stacked sums of every partition at this step) when given."""
    signals = hub_rules.signals(step.hub_states)
    if network_sums is None:
        return signals
    network = network_signals_from_sums(network_sums, at=step.step, config=config)
    return pl.concat([signals, network])
