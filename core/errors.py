"""The one root error of peakwatch and the tree below it.

    PeakwatchError                 every error peakwatch raises on purpose
    ├── ConfigError                a setting or file the operator must fix; retrying will not help
    ├── EventError                 one event breaks schema v1 (field and rule named)
    └── RetryableError             a dependency is down or busy; the same call may succeed later
        └── BrokerUnavailableError Kafka could not take or give records in time

Errors that cross a boundary (HTTP, Kafka, a notifier) say whether a retry can help through
``retryable``.
"""

from __future__ import annotations


class PeakwatchError(Exception):
    """Root of every error peakwatch raises on purpose."""

    retryable: bool = False


class ConfigError(PeakwatchError):
    """A setting, file or registry entry is wrong; fix it, then start again."""


class EventError(PeakwatchError):
    """An event breaks schema v1. ``field`` and ``rule`` say which and why."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class RetryableError(PeakwatchError):
    """A dependency is down or busy; the same call may succeed later."""

    retryable = True


class BrokerUnavailableError(RetryableError):
    """Kafka could not take or give records in time."""
