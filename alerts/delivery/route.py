"""Routing: which receivers hear about an alert, grouped how. Pure functions of labels and config.

Routes are tried in order; the first that matches wins unless it says ``continue = true``, in which
case later routes are tried too (as in Alertmanager). An alert no route matches is still recorded
and shown by the API, but nobody is notified.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from alerts.config import Escalation, Route
from core.levels import at_least


@dataclass(frozen=True, slots=True)
class Delivery:
    """One receiver to notify, and the group the notification joins there."""

    receiver: str
    group_key: str
    group_wait_s: float
    group_interval_s: float


def route_matches(route: Route, labels: Mapping[str, str]) -> bool:
    """True when every ``match`` label has one of its values and the level is high enough."""
    for name, allowed in route.match.items():
        if labels.get(name) not in allowed:
            return False
    return route.min_level is None or at_least(labels["level"], route.min_level)


def matching_routes(labels: Mapping[str, str], routes: Sequence[Route]) -> list[tuple[int, Route]]:
    """``(index, route)`` of every route that takes the alert, honouring ``continue``."""
    matched: list[tuple[int, Route]] = []
    for index, route in enumerate(routes):
        if route_matches(route, labels):
            matched.append((index, route))
            if not route.continue_matching:
                break
    return matched


def group_key(index: int, route: Route, labels: Mapping[str, str]) -> str:
    """``<route index>|name=value|…`` over the route's ``group_by`` labels."""
    parts = [str(index), *(f"{name}={labels.get(name, '')}" for name in route.group_by)]
    return "|".join(parts)


def deliveries(labels: Mapping[str, str], routes: Sequence[Route]) -> list[Delivery]:
    """Where a firing or level-changed alert goes: one delivery per receiver (first route wins)."""
    seen: set[str] = set()
    result: list[Delivery] = []
    for index, route in matching_routes(labels, routes):
        for receiver in route.receivers:
            if receiver in seen:
                continue
            seen.add(receiver)
            result.append(
                Delivery(
                    receiver=receiver,
                    group_key=group_key(index, route, labels),
                    group_wait_s=route.group_wait_s,
                    group_interval_s=route.group_interval_s,
                )
            )
    return result


def escalations(labels: Mapping[str, str], routes: Sequence[Route]) -> list[Escalation]:
    """The escalation steps of every matching route, earliest first."""
    steps = [step for _, route in matching_routes(labels, routes) for step in route.escalations]
    return sorted(steps, key=lambda step: step.after_s)
