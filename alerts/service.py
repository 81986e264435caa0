"""The alerting facade: the one object the app holds (``app.state.alerts``).

    service = await AlertService.open(db=db, config=config, public_url="https://peakwatch.example")
    changes = await service.process(frame, now=watermark, owned_hubs=None, evaluates_network=True)
    delivered = await service.deliver_due(wall_now=datetime.now(UTC))   # in a background loop

``process`` runs on event time: a tick's transitions, history and outbox rows commit in one
transaction before anything is sent. ``deliver_due`` runs on the wall clock (retries, back-off,
rate limits, escalation). The stages it wires are the modules of this package; see __init__.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import polars as pl
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession

from alerts.config import AlertingConfig
from alerts.delivery.silence import Matcher, Silence, new_silence
from alerts.delivery.worker import Deliverer
from alerts.errors import (
    AckLinkError,
    AlertNotActiveError,
    AlertNotFoundError,
    SilenceNotFoundError,
)
from alerts.evaluation import incidents as incident_rules
from alerts.evaluation import lifecycle
from alerts.evaluation.lifecycle import Authority
from alerts.evaluation.tick import (
    StepSignals,
    authority,
    mark_late,
    notifications_for,
    signals_by_fingerprint,
    stamp_firing,
    step_authority,
)
from alerts.metrics import AlertMetrics
from alerts.model import Alert, AlertChange
from alerts.notify.build import build_notifier
from alerts.notify.render import Links, Renderer, ack_token_valid
from alerts.store import incidents as incident_store
from alerts.store import outbox, repository, silences
from alerts.store.history import AlertQuery, query_alerts
from storage.db import Database

EVENT_PAGE = 500
LATE_AFTER_S = 60.0  # decided this long after the data arrived: marked as detected late
SUBSCRIBER_POLL_S = 2.0  # how often a stream looks for changes made by other replicas


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def new_alert_id() -> str:
    """A fresh alert id: 32 hex characters."""
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class AlertPage:
    """One page of ``list_alerts``: alerts newest first, and the cursor of the next page."""

    alerts: list[Alert]
    next_cursor: str | None


class AlertService:
    """Lifecycle, store, silences, acknowledgements, escalation, outbox delivery, streaming."""

    def __init__(
        self,
        *,
        db: Database,
        config: AlertingConfig,
        links: Links,
        client: httpx.AsyncClient,
        metrics: AlertMetrics,
        wall_clock: Callable[[], datetime] = _wall_clock,
        incidents: incident_rules.IncidentConfig | None = None,
    ) -> None:
        self._db, self._config, self._links, self._client = db, config, links, client
        self._incidents = incidents or config.incidents
        self._metrics, self._clock = metrics, wall_clock
        notifiers = {
            receiver.name: build_notifier(
                receiver,
                renderer=Renderer(language=config.language_of(receiver), links=links),
                client=client,
            )
            for receiver in config.receivers
        }
        self._deliverer = Deliverer(
            db=db, config=config, notifiers=notifiers, metrics=metrics, on_changes=self._published
        )
        self._wakeup = asyncio.Event()
        self._closed = False

    @classmethod
    async def open(
        cls,
        *,
        db: Database,
        config: AlertingConfig,
        public_url: str,
        registry: CollectorRegistry | None = None,
        wall_clock: Callable[[], datetime] = _wall_clock,
        transport: httpx.AsyncBaseTransport | None = None,
        incidents: incident_rules.IncidentConfig | None = None,
    ) -> AlertService:
        """Build the service on an open store. ``transport`` replaces the network in tests.

        Acknowledge links are signed with ``config.ack_link_secret``; without one a random
        secret is made, and links stop working when the process restarts.
        """
        secret = config.ack_link_secret
        key = secret.get_secret_value().encode() if secret else secrets.token_bytes(32)
        links = Links(
            public_url=public_url, ack_secret=key, dashboard_template=config.dashboard_url
        )
        client = httpx.AsyncClient(transport=transport, follow_redirects=False)
        return cls(
            db=db,
            config=config,
            links=links,
            client=client,
            metrics=AlertMetrics(registry),
            wall_clock=wall_clock,
            incidents=incidents,
        )

    @property
    def links(self) -> Links:
        """How dashboard and acknowledge links are built (and ack tokens checked)."""
        return self._links

    async def process(
        self,
        signals: pl.DataFrame,
        *,
        now: datetime,
        owned_hubs: set[str] | None,
        evaluates_network: bool,
        wall_now: datetime | None = None,
    ) -> list[AlertChange]:
        """Apply one tick's signal frame (``core.signals.SIGNAL_SCHEMA``) at event time ``now``.

        Only subjects this call is authoritative for change: hubs in ``owned_hubs`` (every hub
        when None) and, when ``evaluates_network``, province, carrier and network subjects.
        Transitions, history and notifications commit together; returns the stored changes.
        """
        wall_now = wall_now or self._clock()
        check = authority(owned_hubs, evaluates_network)
        async with self._db.sessionmaker.begin() as session:
            active = await repository.load_active(session)
            stored, active = await self._decide(
                session, active, signals, now=now, check=check, wall_now=wall_now, late_s=None
            )
        self._metrics.set_active(a for a in active.values() if check(a.scope, a.subject))
        self._metrics.observe_changes(stored)
        self._published(stored)
        return stored

    async def process_steps(
        self,
        steps: Sequence[StepSignals],
        *,
        behind_s: float = 0.0,
        wall_now: datetime | None = None,
    ) -> list[AlertChange]:
        """Decide a run of event-time steps, oldest first, in one transaction.

        Each step decides only what no earlier call stored (the evaluation marks, per partition
        and for the network), so a replayed step never pages again. ``behind_s``: how long the
        data had waited; from ``LATE_AFTER_S`` on, alerts started here are marked detected late.
        """
        wall_now = wall_now or self._clock()
        late_s = behind_s if behind_s >= LATE_AFTER_S else None
        stored: list[AlertChange] = []
        check = authority(set(), False)
        async with self._db.sessionmaker.begin() as session:
            marks = await repository.load_marks(session)
            active = await repository.load_active(session)
            moved: dict[str, datetime] = {}
            for step in steps:
                hubs, network, keys = step_authority(step, {**marks, **moved})
                if not hubs and not network:
                    continue
                check = authority(hubs, network)
                changes, active = await self._decide(
                    session,
                    active,
                    step.signals,
                    now=step.at,
                    check=check,
                    wall_now=wall_now,
                    late_s=late_s,
                )
                stored.extend(changes)
                moved.update(dict.fromkeys(keys, step.at))
            await repository.save_marks(session, moved, wall_now=wall_now)
        self._metrics.set_active(a for a in active.values() if check(a.scope, a.subject))
        self._metrics.observe_changes(stored)
        self._published(stored)
        return stored

    async def _decide(
        self,
        session: AsyncSession,
        active: dict[str, Alert],
        signals: pl.DataFrame,
        *,
        now: datetime,
        check: Authority,
        wall_now: datetime,
        late_s: float | None,
    ) -> tuple[list[AlertChange], dict[str, Alert]]:
        """One step inside the caller's transaction; returns its changes and the active alerts
        after it."""
        decision = lifecycle.decide(
            active,
            signals_by_fingerprint(signals),
            now=now,
            periods=self._config.periods_for,
            authoritative=check,
            new_id=new_alert_id,
        )
        decision = mark_late(stamp_firing(decision, wall_now=wall_now), late_s)
        await repository.write_alerts(
            session,
            inserts=decision.inserts,
            updates=decision.updates,
            deletes=decision.deletes,
            wall_now=wall_now,
        )
        resolved = [c.alert.id for c in decision.changes if c.kind == "resolved"]
        notified = await outbox.notified_receivers(session, resolved)
        notifications = notifications_for(decision.changes, self._config, notified=notified)
        await outbox.enqueue(session, notifications, wall_now=wall_now)
        stored = await repository.record_changes(session, decision.changes, wall_now=wall_now)
        # Incidents open and follow on the same transitions, in the same transaction.
        await incident_store.record_changes(
            session, decision.changes, config=self._incidents, wall_now=wall_now
        )
        after = {**active, **{a.fingerprint: a for a in (*decision.inserts, *decision.updates)}}
        gone = set(decision.deletes)
        return stored, {
            key: alert
            for key, alert in after.items()
            if alert.state != "resolved" and alert.id not in gone
        }

    async def deliver_due(self, *, wall_now: datetime) -> int:
        """One delivery pass (see ``alerts.delivery.worker``); returns notifications delivered.

        Incident reports past their deadline are escalated first (to the leader on call), once.
        """
        async with self._db.sessionmaker.begin() as session:
            changes = await incident_store.escalate_overdue(
                session, self._config, wall_now=wall_now
            )
        self._published(changes)
        return await self._deliverer.run_pass(wall_now=wall_now)

    async def list_alerts(self, query: AlertQuery) -> AlertPage:
        """Alerts matching ``query``, newest first (``ValueError`` for a foreign cursor)."""
        async with self._db.sessionmaker() as session:
            alerts, cursor = await query_alerts(session, query)
        return AlertPage(alerts=alerts, next_cursor=cursor)

    async def get(self, alert_id: str) -> Alert | None:
        """One alert by id, or None."""
        async with self._db.sessionmaker() as session:
            return await repository.get_alert(session, alert_id)

    async def history(self, alert_id: str) -> list[AlertChange]:
        """Every recorded change of one alert, oldest first (empty for an unknown id)."""
        async with self._db.sessionmaker() as session:
            return await repository.events_of(session, alert_id)

    async def ack(self, alert_id: str, *, by: str) -> Alert:
        """Acknowledge (stops escalation). Idempotent: a second ack keeps the first who/when.

        Raises ``AlertNotFoundError``, or ``AlertNotActiveError`` for a resolved alert.
        """
        wall_now = self._clock()
        async with self._db.sessionmaker.begin() as session:
            changed = await repository.acknowledge(session, alert_id, by=by, wall_now=wall_now)
            alert = await repository.get_alert(session, alert_id)
            if alert is None:
                raise AlertNotFoundError(f"no alert {alert_id}")
            if not changed and alert.acked_at is None:
                raise AlertNotActiveError(f"alert {alert_id} is {alert.state}")
            change = AlertChange(kind="acked", alert=alert, at=wall_now, actor=by)
            stored = await repository.record_changes(
                session, [change] if changed else [], wall_now=wall_now
            )
        self._published(stored)
        return alert

    def ack_link_valid(self, alert_id: str, token: str) -> bool:
        """Is ``token`` the one this service signs into ``alert_id``'s acknowledge link?"""
        return ack_token_valid(self._links.ack_secret, alert_id, token)

    async def ack_with_token(self, alert_id: str, token: str, *, by: str) -> Alert:
        """Acknowledge through a signed link (``AckLinkError`` when the token is wrong)."""
        if not self.ack_link_valid(alert_id, token):
            raise AckLinkError("this acknowledge link is not valid for the alert")
        return await self.ack(alert_id, by=by)

    async def create_silence(
        self,
        *,
        matchers: Sequence[Matcher],
        created_by: str,
        ends_at: datetime | None = None,
        starts_at: datetime | None = None,
        comment: str = "",
        duration_s: float | None = None,
    ) -> Silence:
        """Mute matching notifications from ``starts_at`` (default now) to ``ends_at``, or for
        ``duration_s``.

        Raises ``SilenceError`` for no matchers, an unknown label, a bad pattern or an empty window.
        """
        silence = new_silence(
            silence_id=uuid.uuid4().hex,
            matchers=matchers,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=created_by,
            comment=comment,
            now=self._clock(),
            duration_s=duration_s,
        )
        async with self._db.sessionmaker.begin() as session:
            await silences.insert_silence(session, silence)
        return silence

    async def delete_silence(self, silence_id: str, *, by: str) -> Silence:
        """Expire a silence now (``SilenceNotFoundError`` for an unknown id)."""
        now = self._clock()
        async with self._db.sessionmaker.begin() as session:
            await silences.expire_silence(session, silence_id, by=by, now=now)
            silence = await silences.get_silence(session, silence_id)
        if silence is None:
            raise SilenceNotFoundError(f"no silence {silence_id}")
        return silence

    async def list_silences(self, *, include_expired: bool = False) -> list[Silence]:
        """Silences in force (or all, newest first)."""
        async with self._db.sessionmaker() as session:
            return await silences.list_silences(
                session, now=self._clock(), include_expired=include_expired
            )

    async def subscribe(self, *, after_event_id: int | None = None) -> AsyncIterator[AlertChange]:
        """Changes as they are stored, oldest first, until the service closes.

        From ``after_event_id`` (an SSE ``Last-Event-ID``) when given, else from now. Changes
        stored by other replicas arrive within ``SUBSCRIBER_POLL_S``.
        """
        async with self._db.sessionmaker() as session:
            last = (
                after_event_id
                if after_event_id is not None
                else await repository.last_event_id(session)
            )
        while not self._closed:
            wakeup = self._wakeup
            async with self._db.sessionmaker() as session:
                changes = await repository.events_after(session, last, limit=EVENT_PAGE)
            for change in changes:
                yield change
                last = change.event_id
            if len(changes) == EVENT_PAGE:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=SUBSCRIBER_POLL_S)

    def _published(self, changes: list[AlertChange]) -> None:
        if changes:
            self._wakeup.set()
            self._wakeup = asyncio.Event()

    async def close(self) -> None:
        """End every stream and close the HTTP client (the store belongs to the caller)."""
        self._closed = True
        self._wakeup.set()
        await self._client.aclose()
