"""Alerts in event time (issue 12), through real ``peakwatch serve`` processes and a real broker.

1. One simulator scenario with incidents, byte-identical input, four ways — paced live, as fast
   as possible, ``kill -9`` and restart in the middle, split across two replicas — gives the
   same alert history (rule, subject, every transition, event times) and the same pages, none
   twice.
2. A partition that stops receiving records holds the watermark back only without idleness.
3. When the whole feed stops, event time goes on: ``hub_silent`` on key nodes and
   ``network_data_outage`` fire within their configured periods.

Logs of every service are in the test's ``tmp_path`` (``service-<name>.log``); those of the
idleness tests in the module's ``idleness*`` directory.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from app.local_service import LocalService
from consumers.network_steps import WAIT_S
from tests.alerts.notify.receiver import RobotReceiver
from tests.support.histories import (
    PARTIAL_NETWORK_STEP,
    AlertHistory,
    Batch,
    CancelledPending,
    NotificationKey,
    Record,
    StoreProgress,
    alert_histories,
    all_alerts,
    applied_records,
    cancelled_pending,
    closing_records,
    consumer_records,
    expected_notifications,
    first_difference,
    log_lines,
    network_watermark,
    notification_items,
    produce,
    produce_schedule,
    readiness,
    records_of,
    repeated,
    store_progress,
)
from tests.support.postgres import postgres_server, postgres_url
from tests.support.pycache import bytecode_env, warm
from tests.support.service import Service, hub_line, make_service, run_simulator, wait_for

__all__ = ["postgres_server", "postgres_url"]

pytestmark = pytest.mark.integration

# -- 1. four ways, one history -----------------------------------------------------------------

# cascade: a national key hub (JD-JN01) fails 30 min in and goes silent; its load is diverted to
# the nearest big hub (JD-BJ01), which overflows ~2 h in. 40 hubs, 3 h: ~48 000 events.
SCENARIO = ["--scenario", "cascade", "--hubs", "40", "--seed", "11", "--duration", "3h"]
STEP_S = 60
LATENESS_S = 300
# The defaults of the risk model (docs/risk-model.md), the same in all four runs; idleness far
# beyond the test's length, so that no partition ever counts as idle and every run is a pure
# function of the records.
EVENT_TIME = {
    "PEAKWATCH_RISK": json.dumps({"allowed_lateness_s": LATENESS_S, "evaluation_step_s": STEP_S}),
    "PEAKWATCH_IDLE_TIMEOUT_S": "600",
}
# With idleness off, the last ``LATENESS_S`` of the feed would never be evaluated, and a replica
# holding the partitions that end earliest would stop at another step than one holding them all.
# So every run gets, after the scenario, one empty arrival per hub stamped ``LATENESS_S`` after
# the step that follows the last event (``closing_records``): every partition's watermark then
# passes exactly that step, on one replica or two, and the histories are compared through it.
LIVE_PACE_S = 0.1  # one event minute per 0.1 s of wall time: 600x, 3 h in 18 s
KILL_AT = 0.5  # of the records applied
FIRST_PART = 0.6  # produced before the kill; the rest while it is down and restarting
START_TIMEOUT_S = 150.0
SETTLE_TIMEOUT_S = 240.0
RUNS = ("live", "fast", "crash", "replicas")


@dataclass(frozen=True)
class Scenario:
    """The simulator's output: registry, records (in file order), the closing records and the
    last step every run evaluates, and the ground truth."""

    hubs_jsonl: str
    records: list[Record]
    closing: list[Record]
    final_ms: int
    labels: dict[str, Any]

    @property
    def final_step(self) -> str:
        """The last step evaluated, as the API spells it."""
        return datetime.fromtimestamp(self.final_ms / 1000, tz=UTC).isoformat()

    @property
    def feed(self) -> list[Record]:
        """Everything every run receives, in order."""
        return [*self.records, *self.closing]


@pytest.fixture(scope="module")
def bytecode(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Settings that let every service of this module share compiled bytecode (warmed once)."""
    directory = tmp_path_factory.getbasetemp() / "pycache"
    warm(directory)
    return bytecode_env(directory)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """Generate the scenario once (at full speed; same seed, same events)."""
    directory = tmp_path_factory.mktemp("scenario")
    hubs, events, labels = (directory / n for n in ("hubs.jsonl", "events.ndjson", "labels.json"))
    run_simulator(
        *SCENARIO,
        "--speed", "max",
        "--target", "ndjson",
        "--out", str(events),
        "--hubs-out", str(hubs),
        "--labels", str(labels),
        timeout_s=180,
    )  # fmt: skip
    records = records_of(events)
    registry = [json.loads(line) for line in hubs.read_text().splitlines() if line.strip()]
    closing, final_ms = closing_records(records, registry, step_s=STEP_S, lateness_s=LATENESS_S)
    return Scenario(hubs.read_text(), records, closing, final_ms, json.loads(labels.read_text()))


@dataclass
class Run:
    """One way of feeding the scenario: its services (two for the replicas), its receiver."""

    name: str
    services: list[Service]
    receiver: RobotReceiver
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def db_url(self) -> str:
        return self.services[0].env["PEAKWATCH_DB_URL"]

    @property
    def topic(self) -> str:
        return self.services[0].env["PEAKWATCH_EVENTS_TOPIC"]

    @property
    def bootstrap(self) -> str:
        return self.services[0].env["PEAKWATCH_KAFKA_BOOTSTRAP"]

    def logs(self) -> str:
        return ", ".join(str(s.log_path) for s in self.services)


def _alerting(receiver: RobotReceiver) -> str:
    """Every alert to one signed webhook, each row on its own (no group wait or interval, no
    network digest), no reminders or escalations (those are wall-clock pages). A short outbox
    lease: a row leased by the process killed mid-send is due again within 20 s."""
    return json.dumps(
        {
            "receivers": [
                {
                    "type": "webhook",
                    "name": "hook",
                    "url": f"{receiver.url}/hook",
                    "secret": receiver.webhook_secret,
                    "timeout_s": 5,
                }
            ],
            "routes": [
                {
                    "receivers": ["hook"],
                    "group_wait_s": 0,
                    "group_interval_s": 0,
                    "repeat_interval_s": 0,
                }
            ],
            "repeat_interval_s": 0,
            "network_digest": False,
            "outbox": {"lease_s": 20, "backoff_initial_s": 1, "backoff_max_s": 5},
        }
    )


def _start_all(services: list[Service]) -> None:
    """Start the processes together (each start costs 10–40 s on this machine), then wait."""
    for service in services:
        LocalService.start(service)
    for service in services:
        service.wait("/healthz", timeout_s=START_TIMEOUT_S)


def _assigned(service: Service) -> list[int]:
    partitions: list[int] = readiness(service).get("assigned_partitions", [])
    return partitions


def _feed_live(run: Run, scenario: Scenario) -> None:
    started = time.monotonic()
    produce(run.bootstrap, run.topic, scenario.feed, pace_s=LIVE_PACE_S)
    run.notes["produce_s"] = round(time.monotonic() - started, 1)


def _feed_fast(run: Run, scenario: Scenario) -> None:
    started = time.monotonic()
    produce(run.bootstrap, run.topic, scenario.feed)
    run.notes["produce_s"] = round(time.monotonic() - started, 1)


def _feed_with_crash(run: Run, scenario: Scenario) -> None:
    """The first 60 % at once; ``kill -9`` as soon as half the records are applied (the rest
    of that part still being consumed); the other 40 % while it is down and starting again."""
    service = run.services[0]
    feed = scenario.feed
    cut = int(len(feed) * FIRST_PART)
    produce(run.bootstrap, run.topic, feed[:cut])
    threshold = int(len(feed) * KILL_AT)
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    applied = 0
    while time.monotonic() < deadline:
        applied = applied_records(service)
        if applied >= threshold:
            break
        time.sleep(0.05)
    service.kill()
    run.notes["applied_at_kill"] = applied
    run.notes["produced_before_kill"] = cut
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as pool:
        rest = pool.submit(produce, run.bootstrap, run.topic, feed[cut:])
        service.start(wait_ready=True, timeout_s=START_TIMEOUT_S)
        rest.result()
    run.notes["restart_to_ready_s"] = round(time.monotonic() - started, 1)


def _progress_of(run: Run, final_ms: int) -> tuple[bool, dict[str, Any]]:
    """Has the run evaluated every step up to the final one, everywhere, and sent its pages?"""
    progress: StoreProgress = store_progress(run.db_url)
    marks_done = all(
        progress.marks.get(key) == final_ms
        for key in ("network", "partition:0", "partition:1", "partition:2", "partition:3")
    )
    ready = [readiness(s) for s in run.services]
    watermarks = [network_watermark(s) for s in run.services]
    final = datetime.fromtimestamp(final_ms / 1000, tz=UTC)
    caught_up = all(r.get("caught_up") and r.get("lag_records") == 0 for r in ready)
    at_final = all(w is not None and _parse(w) == final for w in watermarks)
    state = {
        "marks": progress.marks,
        "outbox_pending": progress.outbox_pending,
        "ready": ready,
        "watermarks": watermarks,
    }
    done = marks_done and caught_up and at_final and progress.outbox_pending == 0
    return done, state


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _note(message: str) -> None:
    print(message, file=sys.stderr)


@pytest.mark.timeout(450)
def test_live_fast_crash_and_replicas_give_identical_alert_histories(
    postgres_url: str,  # before the services: they are stopped before the database is dropped
    service_factory: Callable[..., Service],
    scenario: Scenario,
    bytecode: dict[str, str],
) -> None:
    began = time.monotonic()
    receivers = {name: RobotReceiver().start() for name in RUNS}
    try:
        runs = _make_runs(service_factory, scenario, receivers, postgres_url, bytecode)
        _start_all([s for run in runs.values() for s in run.services])
        first, second = runs["replicas"].services
        wait_for(
            lambda: (
                sorted(_assigned(first) + _assigned(second)) == [0, 1, 2, 3]
                and bool(_assigned(first))
                and bool(_assigned(second))
            ),
            timeout_s=START_TIMEOUT_S,
            what="the two replicas to split the four partitions",
            describe=lambda: (_assigned(first), _assigned(second)),
        )
        for run in runs.values():
            wait_for(
                lambda run=run: all(readiness(s).get("ready") for s in run.services),
                timeout_s=START_TIMEOUT_S,
                what=f"run {run.name} ready",
            )
        started = round(time.monotonic() - began, 1)
        feeders = {
            "live": _feed_live,
            "fast": _feed_fast,
            "crash": _feed_with_crash,
            "replicas": _feed_fast,
        }
        with ThreadPoolExecutor(max_workers=len(RUNS)) as pool:
            futures = [pool.submit(feeders[name], runs[name], scenario) for name in RUNS]
            for future in futures:
                future.result()
        fed = round(time.monotonic() - began, 1)
        for run in runs.values():
            wait_for(
                lambda run=run: _progress_of(run, scenario.final_ms)[0],
                timeout_s=SETTLE_TIMEOUT_S,
                what=f"run {run.name} to evaluate every step to {scenario.final_step} "
                f"and deliver its pages (logs: {run.logs()})",
                describe=lambda run=run: _progress_of(run, scenario.final_ms)[1],
            )
        settled = round(time.monotonic() - began, 1)
        for run in runs.values():
            # In time order per partition nothing is late: a late record means a partition was
            # skipped over (taken for idle) and its events moved to a later step.
            run.notes["late"] = [consumer_records(s, "late") for s in run.services]
            run.notes["partial_network_steps"] = [
                line[:160] for s in run.services for line in log_lines(s, PARTIAL_NETWORK_STEP)
            ]
        histories = {name: alert_histories(run.services[0]) for name, run in runs.items()}
        cancelled = {name: cancelled_pending(run.db_url) for name, run in runs.items()}
        _note(
            f"event-time runs: started {started} s, fed {fed} s, settled {settled} s; "
            f"{len(scenario.feed)} records; final step {scenario.final_step}; "
            + "; ".join(f"{n}: {r.notes}" for n, r in runs.items())
        )

        reference = histories["live"]
        _note(
            f"{len(reference)} alerts, {sum(len(h.transitions) for h in reference)} transitions"
            f" ({dict(Counter(h.rule for h in reference))}); "
            f"{len(cancelled['live'])} pending alerts cancelled"
        )
        _assert_identical(histories, cancelled, runs)
        _assert_not_trivial(histories["fast"], scenario)
        assert alert_histories(second) == histories["replicas"]  # one shared store
        _assert_pages(runs, histories)
        _note("pages: " + "; ".join(f"{n}: {r.notes.get('pages')}" for n, r in runs.items()))
        # The alerts agree; so must what they were decided on (a race that happened to decide
        # nothing different this time is still a race).
        for run in runs.values():
            assert not any(run.notes["late"]), (
                f"run {run.name}: records counted late in a replay in time order: a partition "
                f"was skipped over and its events moved to later steps ({run.notes})"
            )
            assert not run.notes["partial_network_steps"], (
                f"run {run.name}: network steps decided on part of the network: a replica that "
                f"was alive but behind was waited for {WAIT_S:.0f} s of wall time only "
                f"(consumers/network_steps.py), so the province and network rules of those "
                f"steps saw some partitions' hubs only ({run.notes['partial_network_steps']})"
            )
        _note(f"event-time test done in {time.monotonic() - began:.1f} s")
    finally:
        for receiver in receivers.values():
            receiver.stop()


def _make_runs(
    factory: Callable[..., Service],
    scenario: Scenario,
    receivers: dict[str, RobotReceiver],
    postgres_url: str,
    bytecode: dict[str, str],
) -> dict[str, Run]:
    tag = uuid.uuid4().hex[:6]

    def service(run: str, **extra: str) -> Service:
        alerting = _alerting(receivers[run])
        overrides = {**bytecode, **EVENT_TIME, "PEAKWATCH_ALERTING": alerting, **extra}
        made: Service = factory(scenario.hubs_jsonl, name=f"{run}-{tag}", overrides=overrides)
        return made

    runs = {name: Run(name, [service(name)], receivers[name]) for name in RUNS[:2]}
    # Small batches for the run killed mid-stream, so that the kill lands between batches
    # near the middle (and batching is one more thing that must not matter).
    crash = service("crash", PEAKWATCH_MAX_BATCH_RECORDS="2000")
    runs["crash"] = Run("crash", [crash], receivers["crash"])
    first = service("replicas", PEAKWATCH_DB_URL=postgres_url)
    shared = {
        key: first.env[key]
        for key in (
            "PEAKWATCH_EVENTS_TOPIC",
            "PEAKWATCH_DLQ_TOPIC",
            "PEAKWATCH_STATUS_TOPIC",
            "PEAKWATCH_CHECKPOINT_TOPIC",
            "PEAKWATCH_CONSUMER_GROUP",
            "PEAKWATCH_DB_URL",
            "PEAKWATCH_HUBS_FILE",
        )
    }
    second: Service = factory(
        scenario.hubs_jsonl,
        name=f"replicas-b-{tag}",
        overrides={
            **bytecode,
            **EVENT_TIME,
            "PEAKWATCH_ALERTING": _alerting(receivers["replicas"]),
            **shared,
        },
    )
    runs["replicas"] = Run("replicas", [first, second], receivers["replicas"])
    return runs


def _assert_identical(
    histories: dict[str, list[AlertHistory]],
    cancelled: dict[str, list[CancelledPending]],
    runs: dict[str, Run],
) -> None:
    reference = "live"
    problems = []
    for name in RUNS[1:]:
        structure = first_difference(
            reference,
            [h.structure() for h in histories[reference]],
            name,
            [h.structure() for h in histories[name]],
        )
        if structure is not None:
            problems.append(f"--- {reference} vs {name} (levels and times):\n{structure}")
            problems.append(f"    logs: {runs[reference].logs()}; {runs[name].logs()}")
            problems.append(f"    {reference}: {runs[reference].notes}")
            problems.append(f"    {name}: {runs[name].notes}")
    assert not problems, "alert histories differ:\n" + "\n".join(problems)
    for name in RUNS[1:]:
        numbers = first_difference(reference, histories[reference], name, histories[name])
        assert numbers is None, f"the numbers behind the alerts differ:\n{numbers}"
        assert cancelled[name] == cancelled[reference], (
            f"cancelled pending alerts differ, {reference} vs {name}:\n"
            f"{sorted(set(cancelled[reference]) ^ set(cancelled[name]))[:5]}"
        )


def _assert_not_trivial(histories: list[AlertHistory], scenario: Scenario) -> None:
    assert len(histories) >= 3, histories
    levels = {(h.rule, h.subject): {t[1] for t in h.transitions} for h in histories}
    overflow = scenario.labels["overflows"][0]["hub_id"]
    assert levels.get(("hub_overflow", overflow), set()) & {"orange", "red"}, (
        f"the overflowing hub {overflow} never reached orange/red: {levels}"
    )
    silent = scenario.labels["silences"][0]["hub_id"]
    assert ("hub_silent", silent) in levels, f"the failed hub {silent} never went silent: {levels}"
    assert any(h.fired_at for h in histories)


def _assert_pages(runs: dict[str, Run], histories: dict[str, list[AlertHistory]]) -> None:
    """Each run's receiver got exactly the pages its history calls for, none twice."""
    received: dict[str, list[NotificationKey]] = {}
    for name, run in runs.items():
        expected = expected_notifications(histories[name])

        def arrived(run: Run = run, expected: list[NotificationKey] = expected) -> bool:
            items, _ = notification_items(run.receiver)
            return len(items) >= len(expected)

        wait_for(arrived, timeout_s=60, what=f"run {name}'s pages")
        time.sleep(1.0)  # anything extra still in flight
        items, retries = notification_items(run.receiver)
        run.notes["pages"] = len(items)
        run.notes["retried_messages"] = retries
        extra = Counter(items) - Counter(expected)
        missing = Counter(expected) - Counter(items)
        assert not extra, (
            f"run {name}: paged twice or unexpectedly: {dict(extra)}; "
            f"repeated: {repeated(items)}; logs: {run.logs()}"
        )
        assert not missing, f"run {name}: pages missing: {dict(missing)}; logs: {run.logs()}"
        received[name] = items
    for name in RUNS[1:]:
        assert received[name] == received["live"], f"pages of {name} differ from live"


# -- 2. an idle partition ----------------------------------------------------------------------

T0_MS = 1_794_326_400_000  # 2026-11-11T00:00:00+08:00
IDLE_HUBS = [f"ZTO-Q{i:02d}" for i in range(24)]
IDLE_REGISTRY = "\n".join(hub_line(h, "ZTO") for h in IDLE_HUBS)
IDLE_RISK = json.dumps({"allowed_lateness_s": 60, "evaluation_step_s": 60})
STOP_HUBS = [f"ZTO-S{i:02d}" for i in range(8)]
STOP_REGISTRY = "\n".join(hub_line(h, "ZTO", key_node=i < 3) for i, h in enumerate(STOP_HUBS))
STOP_IDLE_S = 2.0
STOP_STEP_S = 10
SILENT_YELLOW_S = 20
SILENT_ORANGE_S = 40
STOP_SLACK_S = 15.0  # a loaded 2-core machine: polls, a delivery pass, the API


def _minute(minute: int, hubs: list[str]) -> list[Record]:
    return [
        (
            hub.encode(),
            json.dumps(
                {
                    "event_id": f"{hub}-{minute}",
                    "carrier": "ZTO",
                    "hub_id": hub,
                    "ts": T0_MS + minute * 60_000 + 30_000,
                    "kind": "arrival",
                    "parcels": 10,
                }
            ).encode(),
        )
        for hub in hubs
    ]


def _at(minutes: int) -> datetime:
    return datetime.fromtimestamp(T0_MS / 1000, tz=UTC) + timedelta(minutes=minutes)


def _watermark(service: Service) -> datetime | None:
    value = network_watermark(service)
    return None if value is None else _parse(value)


@dataclass(frozen=True)
class QuietServices:
    """The services of the idleness tests, started together (a start costs 10-40 s here)."""

    moving: Service  # an idle partition stops holding the watermark after 2 s
    held: Service  # idleness far off: a quiet partition holds it
    stop: Service  # for the total feed stop


@pytest.fixture(scope="module")
def quiet_services(
    tmp_path_factory: pytest.TempPathFactory, kafka_bootstrap: str, bytecode: dict[str, str]
) -> Iterator[QuietServices]:
    directory = tmp_path_factory.mktemp("idleness")
    tag = uuid.uuid4().hex[:6]
    stop_risk = {
        "allowed_lateness_s": 0,
        "evaluation_step_s": STOP_STEP_S,
        "silent_yellow_s": SILENT_YELLOW_S,
        "silent_orange_s": SILENT_ORANGE_S,
    }
    services = QuietServices(
        moving=make_service(
            directory,
            kafka_bootstrap,
            IDLE_REGISTRY,
            name=f"idle-2s-{tag}",
            overrides={**bytecode, "PEAKWATCH_RISK": IDLE_RISK, "PEAKWATCH_IDLE_TIMEOUT_S": "2"},
        ),
        held=make_service(
            directory,
            kafka_bootstrap,
            IDLE_REGISTRY,
            name=f"idle-600s-{tag}",
            overrides={**bytecode, "PEAKWATCH_RISK": IDLE_RISK, "PEAKWATCH_IDLE_TIMEOUT_S": "600"},
        ),
        stop=make_service(
            directory,
            kafka_bootstrap,
            STOP_REGISTRY,
            name=f"stop-{tag}",
            overrides={
                **bytecode,
                "PEAKWATCH_RISK": json.dumps(stop_risk),
                "PEAKWATCH_IDLE_TIMEOUT_S": str(STOP_IDLE_S),
            },
        ),
    )
    every = [services.moving, services.held, services.stop]
    try:
        _start_all(every)
        for service in every:
            wait_for(lambda s=service: readiness(s).get("ready"), timeout_s=START_TIMEOUT_S)
        yield services
    finally:
        for service in every:
            service.kill()


def test_an_idle_partition_holds_the_watermark_only_without_idleness(
    quiet_services: QuietServices,
) -> None:
    began = time.monotonic()
    moving, held = quiet_services.moving, quiet_services.held
    services = (moving, held)
    phases = {"started": round(time.monotonic() - began, 1)}
    bootstrap = moving.env["PEAKWATCH_KAFKA_BOOTSTRAP"]
    topics = [s.env["PEAKWATCH_EVENTS_TOPIC"] for s in services]
    # Minutes 0-2 for every hub, on all four partitions.
    opening = [r for m in range(3) for r in _minute(m, IDLE_HUBS)]
    partitions = produce_schedule(bootstrap, [(0.0, topic, opening) for topic in topics])
    assert partitions[0] == partitions[1]  # same keys, same partitions
    of_hub = dict(zip([k.decode() for k, _ in opening], partitions[0], strict=True))
    assert set(of_hub.values()) == {0, 1, 2, 3}, of_hub
    quiet_partition = of_hub[IDLE_HUBS[0]]
    talking = [h for h in IDLE_HUBS if of_hub[h] != quiet_partition]
    # Both see every partition at minute 2: watermark 2:30 - 1:00 lateness, last step 1:00
    # (the short-idleness one may go further: with the whole feed quiet for 2 s, its event time
    # goes on with the wall clock).
    wait_for(lambda: _watermark(held) == _at(1), what="the first step, 00:01")
    wait_for(lambda: (_watermark(moving) or _at(0)) >= _at(1), what="the first step, 00:01")
    phases["first step"] = round(time.monotonic() - began, 1)
    # Then one partition falls quiet; the others go on, one event minute every 0.4 s.
    last_minute = 26
    plan: list[tuple[float, str, Batch]] = [
        (0.4 * (minute - 3), topic, _minute(minute, talking))
        for minute in range(3, last_minute + 1)
        for topic in topics
    ]
    produce_schedule(bootstrap, plan)
    produced = len(opening) + len(talking) * (last_minute - 2)
    phases["fed"] = round(time.monotonic() - began, 1)
    # The newest event is at 26:30; less the lateness, the last step is 25:00.
    wait_for(
        lambda: (_watermark(moving) or _at(0)) >= _at(last_minute - 1),
        timeout_s=30,
        what="the watermark to move on without the quiet partition",
        describe=lambda: (_watermark(moving), readiness(moving)),
    )
    for service in services:
        wait_for(lambda s=service: applied_records(s) == produced, what="every record applied")
    time.sleep(3.0)  # longer than the short idle timeout: the held one still must not move
    assert _watermark(held) == _at(1), readiness(held)
    assert readiness(held).get("lag_records") == 0  # consumed everything: held by event time
    _note(f"idle-partition test done in {time.monotonic() - began:.1f} s; phases {phases}")


# -- 3. the whole feed stops -------------------------------------------------------------------


def _live_round(index: int) -> list[Record]:
    now_ms = int(time.time() * 1000)
    return [
        (
            hub.encode(),
            json.dumps(
                {
                    "event_id": f"{hub}-live-{index}",
                    "carrier": "ZTO",
                    "hub_id": hub,
                    "ts": now_ms,
                    "kind": "arrival",
                    "parcels": 5,
                }
            ).encode(),
        )
        for hub in STOP_HUBS
    ]


def _firing(service: Service, rule: str) -> dict[str, dict[str, Any]]:
    return {a["subject"]: a for a in all_alerts(service, rule=rule) if a["state"] == "firing"}


def test_a_stopped_feed_alerts_silent_key_hubs_and_a_data_outage(
    quiet_services: QuietServices,
) -> None:
    began = time.monotonic()
    service = quiet_services.stop
    bootstrap, topic = (
        service.env["PEAKWATCH_KAFKA_BOOTSTRAP"],
        service.env["PEAKWATCH_EVENTS_TOPIC"],
    )
    # A live feed at the wall clock's pace for 8 s: every hub reports every second.
    rounds = 8
    plan: list[tuple[float, str, Batch]] = [
        (float(index), topic, partial(_live_round, index)) for index in range(rounds)
    ]
    produce_schedule(bootstrap, plan)
    stopped = time.monotonic()
    wait_for(lambda: applied_records(service) == rounds * len(STOP_HUBS), what="the feed applied")
    assert not _firing(service, "hub_silent"), "silent while the feed still ran"
    key_hub, other_hub = STOP_HUBS[0], STOP_HUBS[-1]
    seen: dict[str, float] = {}

    def observe() -> bool:
        silent = _firing(service, "hub_silent")
        outage = _firing(service, "network_data_outage")
        elapsed = time.monotonic() - stopped
        if key_hub in silent:
            seen.setdefault(f"key:{silent[key_hub]['level']}", elapsed)
        if other_hub in silent:
            seen.setdefault(f"other:{silent[other_hub]['level']}", elapsed)
        if outage:
            seen.setdefault("outage", elapsed)
        return "key:red" in seen and "outage" in seen

    bound = SILENT_ORANGE_S + STOP_STEP_S + STOP_IDLE_S + STOP_SLACK_S
    wait_for(
        observe,
        timeout_s=bound + 10,
        what="hub_silent red on a key node and network_data_outage after the feed stopped",
        describe=lambda: (seen, _watermark(service), service.log_path),
    )
    _note(f"feed stop: first seen (s after the last record) {seen}")
    # Key nodes are one level higher: orange from silent_yellow_s, red from silent_orange_s.
    yellow_bound = SILENT_YELLOW_S + STOP_STEP_S + STOP_IDLE_S + STOP_SLACK_S
    assert SILENT_YELLOW_S - 3 <= seen["key:orange"] <= yellow_bound, seen
    assert SILENT_ORANGE_S - 3 <= seen["key:red"] <= bound, seen
    assert SILENT_YELLOW_S - 3 <= seen["other:yellow"] <= yellow_bound, seen
    assert SILENT_YELLOW_S - 3 <= seen["outage"] <= yellow_bound, seen
    outage = _firing(service, "network_data_outage")["CN"]
    assert outage["level"] == "red", outage  # every reporting hub is silent
    _note(f"feed-stop test done in {time.monotonic() - began:.1f} s")
