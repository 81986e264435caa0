"""Alerting configuration: periods per rule, receivers, routes, outbox timing.

Loadable from a plain mapping, JSON or the ``[alerting]`` section of a TOML file::

    [alerting]
    language = "zh"
    [alerting.periods.hub_overflow]
    pending_s = 120
    clear_s = 300
    [[alerting.receivers]]
    type = "dingtalk"
    name = "hub-oncall"
    url = "https://oapi.dingtalk.com/robot/send?access_token=..."
    secret = "SEC..."
    [[alerting.routes]]
    match = { province = ["浙江", "江苏"] }
    min_level = "orange"
    receivers = ["hub-oncall"]
    escalations = [{ after_s = 900, receivers = ["duty-manager"] }]
    repeat_interval_s = 1800              # remind every 30 min while nobody acknowledges

Every field is documented in docs/alerting.md.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from alerts.evaluation.incidents import IncidentConfig
from alerts.model import LABEL_NAMES
from core.errors import ConfigError
from core.levels import WarningLevel

Language = Literal["zh", "en"]
_NAME = r"^[A-Za-z0-9_.-]{1,64}$"
DEFAULT_REPEAT_INTERVAL_S = 3600.0
"""Remind of a firing, unacknowledged alert every hour (why: docs/alerting.md)."""
MIN_REPEAT_INTERVAL_S = 60.0
LEASE_PER_TIMEOUT = 4
"""``outbox.lease_s`` ≥ this × the longest receiver ``timeout_s``: a send (connect, request,
answer) must end well within the lease its pass renewed right before it."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class RulePeriods(_Frozen):
    """How long a condition must hold before it fires, and be clear before it resolves."""

    pending_s: float = Field(default=120.0, ge=0)
    clear_s: float = Field(default=300.0, ge=0)


DEFAULT_RULE_PERIODS: dict[str, RulePeriods] = {
    # hub_silent already waits 10 minutes of silence in the core before it signals.
    "hub_silent": RulePeriods(pending_s=0.0, clear_s=300.0),
    "network_paralysis": RulePeriods(pending_s=60.0, clear_s=600.0),
    "network_data_outage": RulePeriods(pending_s=0.0, clear_s=300.0),
}


class _ReceiverBase(_Frozen):
    name: str = Field(pattern=_NAME)
    language: Language | None = None  # None: the config's language
    send_resolved: bool = True
    rate_limit_per_min: int | None = Field(default=None, ge=1)
    timeout_s: float = Field(default=10.0, gt=0)
    repeat_interval_s: float | None = None  # None: the route's, else the default; 0: never

    @model_validator(mode="after")
    def _repeat_interval(self) -> _ReceiverBase:
        _check_repeat_interval(self.repeat_interval_s)
        return self


def _check_repeat_interval(seconds: float | None) -> None:
    if seconds is not None and seconds != 0 and not seconds >= MIN_REPEAT_INTERVAL_S:
        raise ValueError(
            f"repeat_interval_s must be 0 (never) or at least {MIN_REPEAT_INTERVAL_S:.0f} s"
        )


class WebhookReceiver(_ReceiverBase):
    """Generic JSON webhook, signed with HMAC-SHA256 when ``secret`` is set."""

    type: Literal["webhook"] = "webhook"
    url: str
    secret: SecretStr | None = None


class AlertmanagerReceiver(_ReceiverBase):
    """Prometheus Alertmanager (API v2); ``url`` is its base, e.g. ``http://am:9093``."""

    type: Literal["alertmanager"] = "alertmanager"
    url: str
    resend_interval_s: float = Field(default=60.0, gt=0)


class DingTalkReceiver(_ReceiverBase):
    """DingTalk custom robot; ``secret`` enables 加签 signing."""

    type: Literal["dingtalk"] = "dingtalk"
    url: str
    secret: SecretStr | None = None
    rate_limit_per_min: int | None = Field(default=20, ge=1)
    at_mobiles: tuple[str, ...] = ()


class WeComReceiver(_ReceiverBase):
    """WeCom (企业微信) group robot; the key is part of ``url``."""

    type: Literal["wecom"] = "wecom"
    url: str
    rate_limit_per_min: int | None = Field(default=20, ge=1)


class FeishuReceiver(_ReceiverBase):
    """Feishu (飞书) custom bot; ``secret`` enables signature verification."""

    type: Literal["feishu"] = "feishu"
    url: str
    secret: SecretStr | None = None
    rate_limit_per_min: int | None = Field(default=100, ge=1)


class EmailReceiver(_ReceiverBase):
    """SMTP e-mail. ``tls``: ``none``, ``starttls`` or ``implicit`` (SMTPS)."""

    type: Literal["email"] = "email"
    host: str
    port: int = Field(default=25, ge=1, le=65535)
    tls: Literal["none", "starttls", "implicit"] = "none"
    username: str | None = None
    password: SecretStr | None = None
    from_addr: str
    to: tuple[str, ...] = Field(min_length=1)


Receiver = Annotated[
    WebhookReceiver
    | AlertmanagerReceiver
    | DingTalkReceiver
    | WeComReceiver
    | FeishuReceiver
    | EmailReceiver,
    Field(discriminator="type"),
]


class Escalation(_Frozen):
    """Not acknowledged ``after_s`` seconds (wall clock) after firing → notify ``receivers``."""

    after_s: float = Field(gt=0)
    receivers: tuple[str, ...] = Field(min_length=1)


class Route(_Frozen):
    """Alerts whose labels match go to ``receivers``; the first match wins unless ``continue``."""

    match: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    min_level: WarningLevel | None = None
    receivers: tuple[str, ...] = ()
    continue_matching: bool = Field(default=False, alias="continue")
    group_by: tuple[str, ...] = ("rule", "subject")
    group_wait_s: float = Field(default=10.0, ge=0)
    group_interval_s: float = Field(default=60.0, ge=0)
    escalations: tuple[Escalation, ...] = ()
    repeat_interval_s: float | None = None  # None: the alerting default; 0: never

    @model_validator(mode="after")
    def _known_labels(self) -> Route:
        for name in (*self.match, *self.group_by):
            if name not in LABEL_NAMES:
                raise ValueError(f"route label {name!r} is not one of {', '.join(LABEL_NAMES)}")
        _check_repeat_interval(self.repeat_interval_s)
        return self


class OutboxSettings(_Frozen):
    """Delivery timing: exponential back-off between attempts, when to give up, the lease."""

    backoff_initial_s: float = Field(default=5.0, gt=0)
    backoff_max_s: float = Field(default=300.0, gt=0)
    give_up_after_s: float = Field(default=86_400.0, gt=0)
    lease_s: float = Field(default=120.0, gt=0)
    batch_limit: int = Field(default=1000, ge=1)

    @property
    def send_deadline_s(self) -> float:
        """The longest one send may take: half the lease, renewed right before the send."""
        return self.lease_s / 2


class DailyReportSchedule(_Frozen):
    """一日一报 sent by itself: when event time passes ``hour``:00 Beijing time of the next day,
    the day's report goes to ``receivers`` (the nation's, and one per listed province)."""

    enabled: bool = False
    hour: int = Field(default=8, ge=0, le=23)  # Beijing hour of the day after
    receivers: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()  # extra per-province reports; none: the nation's only


def _check_daily_report(schedule: DailyReportSchedule, receivers: tuple[Receiver, ...]) -> None:
    by_name = {receiver.name: receiver for receiver in receivers}
    for name in schedule.receivers:
        if name not in by_name:
            raise ValueError(f"daily_report names receiver {name!r}, which is not configured")
        if isinstance(by_name[name], AlertmanagerReceiver):
            raise ValueError(
                f"daily_report receiver {name!r} is Alertmanager, which takes alerts only"
            )
    if schedule.enabled and not schedule.receivers:
        raise ValueError("daily_report.enabled needs at least one name in daily_report.receivers")


class AlertingConfig(_Frozen):
    """Everything alerting needs to know; see the module docstring for the file format."""

    language: Language = "zh"
    default_periods: RulePeriods = RulePeriods()
    periods: dict[str, RulePeriods] = Field(default_factory=dict)
    receivers: tuple[Receiver, ...] = ()
    routes: tuple[Route, ...] = ()
    outbox: OutboxSettings = OutboxSettings()
    network_digest: bool = True
    dashboard_url: str | None = None
    ack_link_secret: SecretStr | None = None
    repeat_interval_s: float = Field(default=DEFAULT_REPEAT_INTERVAL_S, ge=0)
    incidents: IncidentConfig = IncidentConfig()  # when incidents open, when reports are due
    daily_report: DailyReportSchedule = DailyReportSchedule()  # app.reports.schedule

    @model_validator(mode="after")
    def _receivers_exist(self) -> AlertingConfig:
        names = [receiver.name for receiver in self.receivers]
        if len(set(names)) != len(names):
            raise ValueError("receiver names must be unique")
        for route in self.routes:
            wanted = [*route.receivers, *(r for e in route.escalations for r in e.receivers)]
            for name in wanted:
                if name not in names:
                    raise ValueError(f"route names receiver {name!r}, which is not configured")
        _check_daily_report(self.daily_report, self.receivers)
        _check_repeat_interval(self.repeat_interval_s)
        slowest = max((r.timeout_s for r in self.receivers), default=0.0)
        if self.outbox.lease_s < LEASE_PER_TIMEOUT * slowest:
            raise ValueError(
                f"outbox.lease_s ({self.outbox.lease_s:g} s) must be at least {LEASE_PER_TIMEOUT}"
                f" x the longest receiver timeout_s ({slowest:g} s)"
            )
        return self

    def shortest_repeat_interval_s(self) -> float | None:
        """The shortest repeat interval configured anywhere (None: reminders are off)."""
        values = [
            self.repeat_interval_s,
            *(r.repeat_interval_s for r in self.receivers),
            *(r.repeat_interval_s for r in self.routes),
        ]
        return min((v for v in values if v), default=None)

    def repeat_interval_for(self, receiver_name: str, route: Route | None) -> float | None:
        """Seconds between reminders of a firing, unacknowledged alert to a receiver, or None
        (never): the receiver's own value, else its route's, else ``repeat_interval_s``.

        Alertmanager receivers are never reminded: peakwatch re-pushes their firing alerts every
        ``resend_interval_s`` and Alertmanager repeats by its own ``repeat_interval``.
        """
        receiver = self.receiver(receiver_name)
        if receiver is None or isinstance(receiver, AlertmanagerReceiver):
            return None
        chosen = receiver.repeat_interval_s
        if chosen is None and route is not None:
            chosen = route.repeat_interval_s
        if chosen is None:
            chosen = self.repeat_interval_s
        return chosen or None

    def periods_for(self, rule: str) -> RulePeriods:
        """Pending and clear periods of ``rule``: configured, else built-in, else the default."""
        return self.periods.get(rule) or DEFAULT_RULE_PERIODS.get(rule) or self.default_periods

    def receiver(self, name: str) -> Receiver | None:
        """The receiver called ``name``, or None."""
        return next((r for r in self.receivers if r.name == name), None)

    def language_of(self, receiver: Receiver) -> Language:
        """The language messages to ``receiver`` are written in."""
        return receiver.language or self.language

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> AlertingConfig:
        """Validate a plain mapping; a mistake raises ``ConfigError`` naming the field."""
        try:
            return cls.model_validate(dict(data))
        except ValidationError as error:
            raise ConfigError(f"alerting config: {error}") from error

    @classmethod
    def from_json(cls, text: str) -> AlertingConfig:
        """Parse and validate a JSON object."""
        try:
            data = json.loads(text)
        except ValueError as error:
            raise ConfigError(f"alerting config is not JSON: {error}") from error
        if not isinstance(data, dict):
            raise ConfigError("alerting config must be a JSON object")
        return cls.from_mapping(data)

    @classmethod
    def from_toml(cls, text: str, *, section: str = "alerting") -> AlertingConfig:
        """Parse the ``[section]`` table of a TOML document (empty config when absent)."""
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"alerting config is not TOML: {error}") from error
        table = document.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}] must be a table")
        return cls.from_mapping(table)
