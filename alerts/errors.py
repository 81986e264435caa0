"""Errors of alerting, under the project's root error (``core.errors``)::

PeakwatchError
├── AlertNotFoundError     no alert has that id
├── AlertNotActiveError    the alert is resolved: there is nothing left to acknowledge
├── AckLinkError           an acknowledge link's token does not match the alert
├── SilenceNotFoundError   no silence has that id
├── SilenceError           a silence cannot be made as asked (``alerts.delivery.silence``)
└── NotifyError            a notification was not delivered; ``retryable`` (``alerts.notify.base``)
"""

from __future__ import annotations

from alerts.delivery.silence import SilenceError
from alerts.notify.base import NotifyError
from core.errors import PeakwatchError

__all__ = [
    "AckLinkError",
    "AlertNotActiveError",
    "AlertNotFoundError",
    "NotifyError",
    "SilenceError",
    "SilenceNotFoundError",
]


class AlertNotFoundError(PeakwatchError):
    """No alert has this id."""


class AlertNotActiveError(PeakwatchError):
    """The alert is resolved; it can no longer be acknowledged."""


class AckLinkError(PeakwatchError):
    """The acknowledge link's token is not the one issued for this alert."""


class SilenceNotFoundError(PeakwatchError):
    """No silence has this id."""
