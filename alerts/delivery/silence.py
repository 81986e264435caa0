"""Silences: matchers over alert labels, active in a wall-clock window. Pure functions.

A matcher compares one label: equal or not equal to a value, or (``is_regex``) fully matching or
not matching a regular expression. A silence mutes an alert when every matcher matches. A missing
label matches as the empty string, as in Alertmanager.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from alerts.model import LABEL_NAMES, rfc3339
from core.errors import PeakwatchError

MAX_PATTERN_CHARS = 256
MUTED_PREFIX = "silenced:"
"""Why a row was suppressed by a silence: this prefix, then the silence id."""


class SilenceError(PeakwatchError):
    """A silence that cannot be created as asked (bad matcher, empty window, …)."""


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


@dataclass(frozen=True, slots=True)
class Matcher:
    """One label condition of a silence."""

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Does the label satisfy this matcher?"""
        actual = labels.get(self.name, "")
        if self.is_regex:
            hit = _compiled(self.value).fullmatch(actual) is not None
        else:
            hit = actual == self.value
        return hit == self.is_equal

    def as_json(self) -> dict[str, Any]:
        """``{"name", "value", "is_regex", "is_equal"}``."""
        return {
            "name": self.name,
            "value": self.value,
            "is_regex": self.is_regex,
            "is_equal": self.is_equal,
        }


def check_matchers(matchers: Sequence[Matcher]) -> None:
    """Raise ``SilenceError`` unless there is at least one matcher, each on a known label."""
    if not matchers:
        raise SilenceError("matchers: at least one is required")
    for matcher in matchers:
        if matcher.name not in LABEL_NAMES:
            raise SilenceError(f"matchers.name: {matcher.name!r} is not one of {LABEL_NAMES}")
        if matcher.is_regex:
            if len(matcher.value) > MAX_PATTERN_CHARS:
                raise SilenceError(
                    f"matchers.value: a pattern is at most {MAX_PATTERN_CHARS} chars"
                )
            try:
                _compiled(matcher.value)
            except re.error as error:
                raise SilenceError(f"matchers.value: not a regular expression: {error}") from error


@dataclass(frozen=True, slots=True)
class Silence:
    """Mutes notifications of matching alerts from ``starts_at`` until ``ends_at`` (wall clock)."""

    id: str
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    created_at: datetime
    comment: str = ""
    expired_by: str | None = None

    def active_at(self, now: datetime) -> bool:
        """True inside ``[starts_at, ends_at)``."""
        return self.starts_at <= now < self.ends_at

    def mutes(self, labels: Mapping[str, str]) -> bool:
        """True when every matcher matches ``labels``."""
        return all(matcher.matches(labels) for matcher in self.matchers)

    def as_json(self) -> dict[str, Any]:
        """The silence as the API shows it."""
        return {
            "id": self.id,
            "matchers": [matcher.as_json() for matcher in self.matchers],
            "starts_at": rfc3339(self.starts_at),
            "ends_at": rfc3339(self.ends_at),
            "created_by": self.created_by,
            "created_at": rfc3339(self.created_at),
            "comment": self.comment,
            "expired_by": self.expired_by,
        }


def new_silence(
    *,
    silence_id: str,
    matchers: Sequence[Matcher],
    starts_at: datetime | None,
    ends_at: datetime | None,
    created_by: str,
    comment: str,
    now: datetime,
    duration_s: float | None = None,
) -> Silence:
    """A checked new silence: from ``starts_at`` (default ``now``) to ``ends_at``, or for
    ``duration_s`` from its start. ``SilenceError`` if not valid."""
    check_matchers(matchers)
    start = starts_at or now
    if ends_at is None:
        if duration_s is None:
            raise SilenceError("ends_at: give ends_at or duration_s")
        ends_at = start + timedelta(seconds=duration_s)
    if ends_at <= start:
        raise SilenceError("ends_at: must be after starts_at")
    if ends_at <= now:
        raise SilenceError("ends_at: must be in the future")
    return Silence(
        id=silence_id,
        matchers=tuple(matchers),
        starts_at=start,
        ends_at=ends_at,
        created_by=created_by,
        created_at=now,
        comment=comment,
    )


def silenced_by(
    labels: Mapping[str, str], silences: Sequence[Silence], *, now: datetime
) -> Silence | None:
    """The first silence active at ``now`` that mutes ``labels``, or None."""
    return next((s for s in silences if s.active_at(now) and s.mutes(labels)), None)
