"""Which alert transitions open, follow and close an incident, when reports fall due, and what
the draft first report says (``alerts.evaluation.incidents``: pure, times passed in)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from alerts.duty import Shift
from alerts.evaluation.incidents import IncidentConfig, OpenIncident, decide, effect, overdue
from alerts.model import AlertChange, ChangeKind
from tests.alerts.factories import T0, alert

HUB_VALUES = {
    "backlog": 120_000,
    "storage_capacity": 100_000,
    "departure_rate_per_min": 500.0,
    "utilization": 1.2,
}
DUTY = Shift(
    person="王伟",
    role="duty",
    province="浙江",
    starts_at=T0 - timedelta(hours=4),
    ends_at=T0 + timedelta(hours=8),
    phone="13800000000",
)


def change(
    kind: ChangeKind,
    level: str,
    *,
    rule: str = "hub_overflow",
    scope: str = "hub",
    subject: str = "ZTO-HZ-01",
    at: datetime = T0,
    previous: str | None = None,
) -> AlertChange:
    state = "resolved" if kind == "resolved" else "firing"
    if kind == "pending":
        state = "pending"
    values = json.dumps(HUB_VALUES if scope == "hub" else {"share_red_ratio": 0.3})
    made = alert(subject, level, rule=rule, scope=scope, state=state, values_json=values)
    return AlertChange(kind=kind, alert=made, at=at, previous_level=previous)


OPEN = OpenIncident(id="id-ZTO-HZ-01", level="red", state="open")
RESOLVED = OpenIncident(id="id-ZTO-HZ-01", level="red", state="resolved")


@pytest.mark.parametrize(
    ("the_change", "known", "expected"),
    [
        pytest.param(change("firing", "red"), None, ("first", True), id="fires red: opens"),
        pytest.param(change("firing", "orange"), None, None, id="hub orange: no incident"),
        pytest.param(change("pending", "red"), None, None, id="pending red: not yet"),
        pytest.param(
            change("level_changed", "red", previous="orange"),
            None,
            ("first", True),
            id="orange to red: opens",
        ),
        pytest.param(
            change("firing", "orange", rule="network_paralysis", scope="network", subject="CN"),
            None,
            ("first", True),
            id="network orange: opens",
        ),
        pytest.param(
            change(
                "firing", "orange", rule="province_congestion", scope="province", subject="浙江"
            ),
            None,
            ("first", True),
            id="province orange: opens",
        ),
        pytest.param(
            change("firing", "yellow", rule="network_paralysis", scope="network", subject="CN"),
            None,
            None,
            id="network yellow: no incident",
        ),
        pytest.param(
            change("level_changed", "orange", previous="red"),
            OPEN,
            ("follow_up", False),
            id="red to orange: follow-up",
        ),
        pytest.param(change("firing", "red"), OPEN, None, id="already open: nothing new"),
        pytest.param(change("resolved", "orange"), OPEN, ("final", False), id="resolves: final"),
        pytest.param(change("resolved", "orange"), RESOLVED, None, id="final already due"),
        pytest.param(change("acked", "red"), OPEN, None, id="ack: no report"),
    ],
)
def test_which_transitions_make_reports(
    the_change: AlertChange, known: OpenIncident | None, expected: tuple[str, bool] | None
) -> None:
    incidents = {} if known is None else {the_change.alert.id: known}
    decisions = decide([the_change], incidents, roster=[], config=IncidentConfig(), now=T0)
    got = [(d.report.kind, d.opened) for d in decisions]
    assert got == ([] if expected is None else [expected])


@pytest.mark.parametrize(
    ("kind", "level", "known", "due_s"),
    [("firing", "red", None, 3600), ("level_changed", "orange", OPEN, 7200)],
)
def test_reports_fall_due_after_the_configured_time(
    kind: ChangeKind, level: str, known: OpenIncident | None, due_s: float
) -> None:
    the_change = change(kind, level, previous="red" if known else None)
    incidents = {} if known is None else {the_change.alert.id: known}
    (default,) = decide([the_change], incidents, roster=[], config=IncidentConfig(), now=T0)
    assert default.report.due_at == T0 + timedelta(seconds=due_s)
    config = IncidentConfig(first_report_due_s=1800, follow_up_due_s=900)
    (tight,) = decide([the_change], incidents, roster=[], config=config, now=T0)
    assert tight.report.due_at == T0 + timedelta(seconds=1800 if known is None else 900)


def test_a_catch_up_still_gives_the_full_time_from_when_it_became_known() -> None:
    late = T0 + timedelta(hours=3)
    (decision,) = decide(
        [change("firing", "red")], {}, roster=[], config=IncidentConfig(), now=late
    )
    assert decision.at == T0  # opened at the step: replay gives the same incident
    assert decision.report.due_at == late + timedelta(hours=1)


def test_a_run_of_changes_opens_once_and_follows_up_on_the_same_alert() -> None:
    run = [
        change("firing", "red"),
        change("level_changed", "orange", at=T0 + timedelta(minutes=5), previous="red"),
        change("resolved", "orange", at=T0 + timedelta(minutes=30)),
    ]
    decisions = decide(run, {}, roster=[], config=IncidentConfig(), now=T0)
    assert [d.report.kind for d in decisions] == ["first", "follow_up", "final"]
    assert [d.state for d in decisions] == ["open", "open", "resolved"]


def test_the_first_report_reads_as_a_report_with_numbers_effect_and_handler() -> None:
    (decision,) = decide(
        [change("firing", "red")], {}, roster=[DUTY], config=IncidentConfig(), now=T0
    )
    text, fields = decision.report.text, decision.report.fields
    assert text.startswith(
        "【突发事件信息首报】2025年11月11日20时00分（北京时间），浙江 ZTO ZTO-HZ-01"
    )
    assert "积压 120,000 件，超出库容 20,000 件，按当前发件速率约需 4.0 小时消化" in text
    assert "处置负责人：王伟（值班人员，电话 13800000000）" in text
    assert "特此报告" in text
    assert "First report: 2025-11-11 20:00 (Beijing time)" in decision.report.text_en
    assert fields["effect"] == {
        "backlog_parcels": 120_000,
        "parcels_over_capacity": 20_000,
        "hours_to_clear": 4.0,
    }
    assert fields["measures"] == []
    assert fields["handler"]["person"] == "王伟"
    assert (fields["carrier"], fields["hub_id"], fields["province"]) == ("ZTO", "ZTO-HZ-01", "浙江")


def test_nobody_on_the_roster_is_said_plainly() -> None:
    (decision,) = decide([change("firing", "red")], {}, roster=[], config=IncidentConfig(), now=T0)
    assert "处置负责人：暂无排班（待补充）" in decision.report.text
    assert decision.report.fields["handler"] is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"backlog": 6000, "storage_capacity": 10000, "departure_rate_per_min": 100}, (0, 1.0)),
        ({"backlog": 6000, "storage_capacity": 10000, "departure_rate_per_min": 0}, (0, None)),
        ({"utilization": 0.9}, (None, None)),
    ],
)
def test_effect_from_the_alert_values(
    values: dict[str, float], expected: tuple[int | None, float | None]
) -> None:
    got = effect(values)
    assert (got["parcels_over_capacity"], got["hours_to_clear"]) == expected


@pytest.mark.parametrize(
    ("submitted", "escalated", "minutes", "expected"),
    [
        (False, False, 61, True),
        (False, False, 59, False),
        (True, False, 61, False),
        (False, True, 61, False),
    ],
)
def test_overdue_once(submitted: bool, escalated: bool, minutes: int, expected: bool) -> None:
    due = T0 + timedelta(hours=1)
    now = T0 + timedelta(minutes=minutes)
    assert overdue(due, now if submitted else None, now if escalated else None, now=now) is expected


def test_deadlines_must_be_positive() -> None:
    with pytest.raises(ValueError, match="first_report_due_s"):
        IncidentConfig(first_report_due_s=0)


@pytest.mark.parametrize(
    ("the_change", "known", "headline"),
    [
        pytest.param(
            change("level_changed", "orange", previous="red"),
            OPEN,
            "【突发事件信息续报】2025年11月11日20时00分（北京时间），浙江 ZTO ZTO-HZ-01 转运中心"
            "爆仓风险预警等级由红色(I级)调整为橙色(II级)。",
            id="follow-up",
        ),
        pytest.param(
            change("resolved", "orange"),
            OPEN,
            "【突发事件信息终报】2025年11月11日20时00分（北京时间），浙江 ZTO ZTO-HZ-01 转运中心"
            "爆仓风险预警已解除。",
            id="final",
        ),
        pytest.param(
            change(
                "firing", "orange", rule="province_congestion", scope="province", subject="浙江"
            ),
            None,
            "【突发事件信息首报】2025年11月11日20时00分（北京时间），浙江寄递网络出现",
            id="province",
        ),
    ],
)
def test_each_report_says_what_changed(
    the_change: AlertChange, known: OpenIncident | None, headline: str
) -> None:
    incidents = {} if known is None else {the_change.alert.id: known}
    (decision,) = decide([the_change], incidents, roster=[], config=IncidentConfig(), now=T0)
    assert decision.report.text.startswith(headline)
