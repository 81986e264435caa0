"""Courier mitigations (处置措施) and external warnings (预警信息) next to the alerts they concern.

Pure: no I/O, no clock. The store (``alerts.store.mitigations``, ``alerts.store.warnings``)
reads and writes them; the routes attach them to alerts; the renderer writes them into messages.

    mitigations_for(alert, mitigations)         a hub's measures whose time overlaps the alert's
    warnings_for(alert, warnings, hub_city=)    warnings of the alert's province (or its hub's
                                                city) valid at some event time of the alert
    mitigation_effect(samples, starts_at=, ended_at=)
                                                did net inflow and time to overflow improve
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

MitigationKind = Literal["throttle", "stop_intake", "extra_trucks", "temporary_site", "diversion"]
WarningKind = Literal["blizzard", "typhoon", "fog", "rainstorm", "heat", "other"]
WarningColour = Literal["blue", "yellow", "orange", "red"]

MITIGATION_KINDS: dict[str, tuple[str, str]] = {
    "throttle": ("限流", "throttling intake"),
    "stop_intake": ("停收", "intake stopped"),
    "extra_trucks": ("加开班车", "extra trucks"),
    "temporary_site": ("临时场地", "temporary site"),
    "diversion": ("分流", "diversion"),
}
"""Each kind's (Chinese, English) words."""

WARNING_KINDS: dict[str, tuple[str, str]] = {
    "blizzard": ("暴雪", "blizzard"),
    "typhoon": ("台风", "typhoon"),
    "fog": ("大雾", "dense fog"),
    "rainstorm": ("暴雨", "rainstorm"),
    "heat": ("高温", "heat"),
    "other": ("其他", "other"),
}
WARNING_COLOURS: dict[str, tuple[str, str]] = {
    "blue": ("蓝色", "blue"),
    "yellow": ("黄色", "yellow"),
    "orange": ("橙色", "orange"),
    "red": ("红色", "red"),
}


@dataclass(frozen=True)
class MitigationEffect:
    """Net inflow and time to overflow at the start of a measure and at its end.

    ``*_improved`` is None when a side is unknown. Net inflow improved when it fell; time to
    overflow improved when it grew, or when no overflow is expected any more (None after).
    """

    net_inflow_before_per_min: float | None
    net_inflow_after_per_min: float | None
    time_to_overflow_before_s: float | None
    time_to_overflow_after_s: float | None
    net_inflow_improved: bool | None
    time_to_overflow_improved: bool | None


@dataclass(frozen=True)
class Mitigation:
    """A measure a carrier declared for one of its hubs. Times are aware UTC."""

    id: int
    hub_id: str
    carrier: str
    kind: MitigationKind
    starts_at: datetime
    planned_end_at: datetime
    ended_at: datetime | None
    expected_effect: str
    note: str
    declared_by: str
    declared_at: datetime
    ended_by: str | None = None
    effect: MitigationEffect | None = None

    @property
    def until(self) -> datetime:
        """When it stops being in force: when it was ended, else its planned end."""
        return self.ended_at or self.planned_end_at

    def active_at(self, moment: datetime) -> bool:
        """In force at ``moment``: begun, and neither ended nor past its planned end."""
        return self.starts_at <= moment < self.until


@dataclass(frozen=True)
class ExternalWarning:
    """A weather or other external warning for a province, or one city of it."""

    id: int
    kind: WarningKind
    colour: WarningColour
    province: str
    city: str | None
    valid_from: datetime
    valid_to: datetime
    source: str
    text: str
    recorded_by: str
    recorded_at: datetime

    def valid_at(self, moment: datetime) -> bool:
        """In force at ``moment`` (``valid_to`` excluded)."""
        return self.valid_from <= moment < self.valid_to


class AlertTimes(Protocol):
    """What the attaching needs of an alert (``alerts.model.Alert`` is one)."""

    @property
    def scope(self) -> str: ...

    @property
    def hub_id(self) -> str | None: ...

    @property
    def province(self) -> str | None: ...

    @property
    def started_at(self) -> datetime: ...

    @property
    def resolved_at(self) -> datetime | None: ...


def _overlaps(
    start: datetime, end: datetime | None, other_start: datetime, other_end: datetime | None
) -> bool:
    return (other_end is None or start < other_end) and (end is None or other_start < end)


def mitigations_for(alert: AlertTimes, mitigations: Iterable[Mitigation]) -> list[Mitigation]:
    """The measures of the alert's hub in force at some time of the alert (from their start to
    their end, or their planned end while not ended), oldest first. Only hub alerts carry
    measures."""
    if alert.scope != "hub" or alert.hub_id is None:
        return []
    found = [
        m
        for m in mitigations
        if m.hub_id == alert.hub_id
        and _overlaps(alert.started_at, alert.resolved_at, m.starts_at, m.until)
    ]
    return sorted(found, key=lambda m: (m.starts_at, m.id))


def warnings_for(
    alert: AlertTimes, warnings: Iterable[ExternalWarning], *, hub_city: str | None = None
) -> list[ExternalWarning]:
    """Warnings of the alert's province valid at some event time of the alert, worst colour
    first. A city warning applies to hub alerts of that city only; network and carrier alerts
    have no area and carry none."""
    if alert.province is None or alert.scope not in ("hub", "province"):
        return []
    found = [
        w
        for w in warnings
        if w.province == alert.province
        and (w.city is None or (alert.scope == "hub" and w.city == hub_city))
        and _overlaps(alert.started_at, alert.resolved_at, w.valid_from, w.valid_to)
    ]
    order = list(WARNING_COLOURS)
    return sorted(found, key=lambda w: (-order.index(w.colour), w.valid_from, w.id))


@dataclass(frozen=True)
class Sample:
    """A hub's numbers at one event time (from the alert history or the hub's state)."""

    at: datetime
    net_inflow_per_min: float | None
    time_to_overflow_s: float | None


def _at_or_before(samples: Sequence[Sample], moment: datetime) -> Sample | None:
    earlier = [s for s in samples if s.at <= moment]
    return max(earlier, key=lambda s: s.at) if earlier else None


def mitigation_effect(
    samples: Sequence[Sample], *, starts_at: datetime, ended_at: datetime
) -> MitigationEffect:
    """Compare the hub's numbers when the measure began (the last sample at or before
    ``starts_at``) with those when it ended (the last sample at or before ``ended_at`` and
    after the start). Missing sides stay None."""
    before = _at_or_before(samples, starts_at)
    after = _at_or_before([s for s in samples if s.at > starts_at], ended_at)
    inflow_before = before.net_inflow_per_min if before else None
    inflow_after = after.net_inflow_per_min if after else None
    eta_before = before.time_to_overflow_s if before else None
    eta_after = after.time_to_overflow_s if after else None
    inflow_improved = (
        None if inflow_before is None or inflow_after is None else inflow_after < inflow_before
    )
    eta_improved: bool | None = None
    if before is not None and after is not None:
        if eta_after is None:  # no overflow expected any more (net inflow ≤ 0)
            eta_improved = eta_before is not None
        elif eta_before is not None:
            eta_improved = eta_after > eta_before
        else:
            eta_improved = False  # none was expected before, one is now
    return MitigationEffect(
        net_inflow_before_per_min=inflow_before,
        net_inflow_after_per_min=inflow_after,
        time_to_overflow_before_s=eta_before,
        time_to_overflow_after_s=eta_after,
        net_inflow_improved=inflow_improved,
        time_to_overflow_improved=eta_improved,
    )


def series_samples(
    series: Sequence[tuple[datetime, int, int, int]],
    *,
    storage_capacity: int,
    window_min: int = 15,
) -> list[Sample]:
    """Samples from a hub's per-minute series (``minute``, ``arrivals``, ``departures``,
    ``backlog``, oldest first): net inflow as the mean of the last ``window_min`` minutes, and
    time to overflow as free room over that inflow (None when it is not positive)."""
    samples: list[Sample] = []
    for index, (minute, _, _, backlog) in enumerate(series):
        window = series[max(0, index - window_min + 1) : index + 1]
        net = sum(arrivals - departures for _, arrivals, departures, _ in window) / len(window)
        room = max(storage_capacity - backlog, 0)
        eta = room / net * 60 if net > 0 and storage_capacity > 0 else None
        samples.append(Sample(at=minute, net_inflow_per_min=net, time_to_overflow_s=eta))
    return samples
