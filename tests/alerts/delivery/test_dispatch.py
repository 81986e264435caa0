"""Delivery planning: silences, acknowledged escalations, group interval, grouping, the network
digest and per-robot rate limits. Nothing is ever dropped: every row is sent, deferred or
suppressed with a reason."""

from __future__ import annotations

from datetime import timedelta

from alerts.delivery.dispatch import DeliveryState, Plan, plan
from alerts.delivery.silence import Matcher, Silence
from alerts.notify.base import NotificationItem
from tests.alerts.factories import WALL0, alert, item

NOW = WALL0 + timedelta(seconds=30)


def accounted(items: list[NotificationItem], result: Plan) -> list[int]:
    """Every row id the plan mentions, each once."""
    sent = [i.outbox_id for m in result.messages for i in m.items]
    return sorted([*sent, *result.suppressed, *result.deferred])


def hubs(count: int, *, receiver: str = "ding") -> list[NotificationItem]:
    return [item(n, alert(f"HUB-{n:03d}"), receiver=receiver) for n in range(1, count + 1)]


def test_one_message_per_group() -> None:
    items = [
        item(1, alert("A"), group_key="g1"),
        item(2, alert("B"), group_key="g1"),
        item(3, alert("C"), group_key="g2"),
    ]
    result = plan(items, DeliveryState(), now=NOW)
    assert [[i.outbox_id for i in m.items] for m in result.messages] == [[1, 2], [3]]
    assert [m.digest for m in result.messages] == ["group", None]


def test_silenced_rows_are_suppressed_with_the_silence_id() -> None:
    silence = Silence(
        id="s1",
        matchers=(Matcher("subject", "A"),),
        starts_at=WALL0,
        ends_at=WALL0 + timedelta(hours=1),
        created_by="oncall:1",
        created_at=WALL0,
    )
    items = [item(1, alert("A")), item(2, alert("B"))]
    result = plan(items, DeliveryState(silences=[silence]), now=NOW)
    assert result.suppressed == {1: "silenced:s1"}
    assert [i.outbox_id for m in result.messages for i in m.items] == [2]


def test_escalation_of_an_acknowledged_alert_is_suppressed() -> None:
    items = [item(1, alert("A"), kind="escalation"), item(2, alert("A"), kind="level_changed")]
    result = plan(items, DeliveryState(acked_alert_ids={"id-A"}), now=NOW)
    assert result.suppressed == {1: "acknowledged"}
    assert [i.outbox_id for m in result.messages for i in m.items] == [2]


def test_reminders_of_acknowledged_or_resolved_alerts_are_suppressed() -> None:
    items = [
        item(1, alert("A"), kind="reminder"),
        item(2, alert("B"), kind="reminder"),
        item(3, alert("C"), kind="reminder"),
        item(4, alert("B"), kind="escalation"),
    ]
    state = DeliveryState(acked_alert_ids={"id-A"}, not_firing_alert_ids={"id-B"})
    result = plan(items, state, now=NOW)
    assert result.suppressed == {1: "acknowledged", 2: "resolved"}
    assert [i.outbox_id for m in result.messages for i in m.items] == [3, 4]


def test_reminders_count_against_a_robots_rate_limit() -> None:
    reminders = [item(n, alert(f"HUB-{n:03d}"), kind="reminder") for n in range(1, 31)]
    recent = [NOW - timedelta(seconds=10)] * 15
    state = DeliveryState(recent_sends={"ding": recent}, rate_limits_per_min={"ding": 20})
    result = plan(reminders, state, now=NOW)
    assert len(result.messages) == 5  # 4 alone, the other 26 in one digest
    assert result.messages[-1].digest == "rate_limit"
    assert accounted(reminders, result) == list(range(1, 31))


def test_group_interval_defers_until_it_has_passed() -> None:
    last = NOW - timedelta(seconds=20)
    row = item(1, alert("A"), group_interval_s=60)
    state = DeliveryState(last_sent={(row.receiver, row.group_key): last})
    result = plan([row], state, now=NOW)
    assert result.messages == []
    assert result.deferred == {1: last + timedelta(seconds=60)}
    assert plan([row], state, now=last + timedelta(seconds=60)).messages != []


def test_network_alert_turns_hub_rows_into_one_digest() -> None:
    network = alert("CN", rule="network_paralysis", scope="network")
    items = [item(100, network), *hubs(12)]
    result = plan(items, DeliveryState(network_firing=True), now=NOW)
    assert [(len(m.items), m.digest) for m in result.messages] == [(1, None), (12, "network")]


def test_without_the_network_alert_hubs_go_one_by_one() -> None:
    result = plan(hubs(5), DeliveryState(rate_limits_per_min={"ding": 20}), now=NOW)
    assert [len(m.items) for m in result.messages] == [1, 1, 1, 1, 1]


def test_rate_limit_merges_the_surplus_into_one_digest() -> None:
    items = hubs(50)
    recent = [NOW - timedelta(seconds=s) for s in range(5)]  # 5 already sent this minute
    state = DeliveryState(rate_limits_per_min={"ding": 20}, recent_sends={"ding": recent})
    result = plan(items, state, now=NOW)
    assert len(result.messages) == 15  # the 15 left of the 20 a minute
    assert result.messages[-1].digest == "rate_limit"
    assert len(result.messages[-1].items) == 36
    assert accounted(items, result) == list(range(1, 51))


def test_no_budget_left_waits_for_the_window_not_drops() -> None:
    items = hubs(3)
    recent = [NOW - timedelta(seconds=50 - s) for s in range(20)]
    state = DeliveryState(rate_limits_per_min={"ding": 20}, recent_sends={"ding": recent})
    result = plan(items, state, now=NOW)
    assert result.messages == []
    assert set(result.deferred.values()) == {min(recent) + timedelta(minutes=1)}
    assert accounted(items, result) == [1, 2, 3]


def test_limits_apply_per_receiver() -> None:
    items = [
        *hubs(30, receiver="ding"),
        *[item(n + 100, alert(f"W{n}"), receiver="hook") for n in range(30)],
    ]
    state = DeliveryState(rate_limits_per_min={"ding": 20, "hook": None})
    result = plan(items, state, now=NOW)
    per_receiver = {r: sum(1 for m in result.messages if m.receiver == r) for r in ("ding", "hook")}
    assert per_receiver == {"ding": 20, "hook": 30}


def test_several_rows_of_one_alert_show_once_at_its_latest_level() -> None:
    the_alert = alert("A", level="red")
    rows = [
        item(1, alert("A", level="orange")),
        item(2, the_alert, kind="level_changed", previous_level="orange"),
    ]
    [message] = plan(rows, DeliveryState(), now=NOW).messages
    assert message.is_single
    [shown] = message.shown_items()
    assert (shown.kind, shown.alert.level) == ("firing", "red")
