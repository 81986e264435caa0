"""Incidents (突发事件信息报告): which alert transitions open one, and which reports fall due.

    decisions = decide(changes, open_by_alert, roster=shifts, config=IncidentConfig())

Pure and on event time: the changes of one step come in (``at`` is the step), decisions come out.

- **Opening**: an alert that fires at, or changes to, red — or ``network_paralysis`` /
  ``province_congestion`` at orange — opens one incident (``opened_at`` = that step) with a draft
  first report (首报) due ``first_report_due_s`` later. One incident per alert (its id is the
  alert's id), so a replayed step or a restart never opens a second.
- **Deadlines** count from when the transition became known: the later of its step and ``now``
  (the wall time of the decision). Live they are the same; for a catch-up the regulator still
  gets the full time, as a deadline is a promise kept on the wall clock.
- **Follow-up** (续报): each later level change of the alert adds one, due ``follow_up_due_s``
  after the change.
- **Final report** (终报): when the alert resolves, the incident is ``resolved`` and a final report
  falls due ``final_report_due_s`` after the resolution.

Report keys are (alert id, kind, step), so a decision taken twice is stored once. The drafts
(``draft``) hold what the plan asks for, for the regulator on duty to complete.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from alerts.duty import BEIJING, Shift, on_duty
from alerts.model import AlertChange, rfc3339
from core.levels import LEVEL_RANK, WarningLevel
from core.vocabulary import Lang, format_values, level_name, rule_name

ReportKind = Literal["first", "follow_up", "final"]
IncidentState = Literal["open", "resolved", "closed"]
WIDE_RULES = ("network_paralysis", "province_congestion")


class IncidentConfig(BaseModel):
    """When incidents open and when their reports are due. The defaults are assumptions of
    ours (docs/regulator.md gives the reasons), not figures from a regulation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    opening_level: WarningLevel = "red"
    wide_rules: tuple[str, ...] = WIDE_RULES
    wide_opening_level: WarningLevel = "orange"
    first_report_due_s: float = Field(default=3600.0, gt=0)  # 首报: within the hour
    follow_up_due_s: float = Field(default=7200.0, gt=0)  # 续报: two hours after a change
    final_report_due_s: float = Field(default=86_400.0, gt=0)  # 终报: the next day

    def opens(self, rule: str, level: str) -> bool:
        """Does an alert of ``rule`` at ``level`` open an incident?"""
        floor = self.wide_opening_level if rule in self.wide_rules else self.opening_level
        return LEVEL_RANK.get(level, -1) >= LEVEL_RANK[floor]

    def due_s(self, kind: ReportKind) -> float:
        """Seconds from the transition to a report's deadline."""
        return {
            "first": self.first_report_due_s,
            "follow_up": self.follow_up_due_s,
            "final": self.final_report_due_s,
        }[kind]


@dataclass(frozen=True, slots=True)
class OpenIncident:
    """What ``decide`` needs to know of an incident already stored."""

    id: str
    level: str
    state: IncidentState


@dataclass(frozen=True, slots=True)
class ReportDue:
    """A report to draft: ``kind`` of incident ``incident_id``, due at ``due_at``."""

    incident_id: str
    kind: ReportKind
    at: datetime
    due_at: datetime
    text: str
    text_en: str
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class IncidentDecision:
    """Open (``opened``), change (level/state) or resolve an incident, with the report due."""

    incident_id: str
    alert_id: str
    opened: bool
    scope: str
    subject: str
    rule: str
    level: str
    state: IncidentState
    carrier: str | None
    province: str | None
    hub_id: str | None
    at: datetime
    report: ReportDue


def decide(
    changes: Sequence[AlertChange],
    incidents: Mapping[str, OpenIncident],
    *,
    roster: Sequence[Shift],
    config: IncidentConfig,
    now: datetime,
) -> list[IncidentDecision]:
    """The incident decisions of a run of alert changes (oldest first) decided at ``now``.

    ``incidents``: the stored incidents of these alerts, by alert id. ``roster`` names who is
    handling it (the province's person on duty at the change, else the national one).
    """
    known = dict(incidents)
    decisions: list[IncidentDecision] = []
    for change in changes:
        decision = _decide_one(change, known.get(change.alert.id), roster, config, now)
        if decision is not None:
            decisions.append(decision)
            known[change.alert.id] = OpenIncident(
                id=decision.incident_id, level=decision.level, state=decision.state
            )
    return decisions


def _decide_one(
    change: AlertChange,
    incident: OpenIncident | None,
    roster: Sequence[Shift],
    config: IncidentConfig,
    now: datetime,
) -> IncidentDecision | None:
    alert = change.alert
    kind: ReportKind
    if incident is None:
        if change.kind not in ("firing", "level_changed") or alert.state != "firing":
            return None
        if not config.opens(alert.rule, alert.level):
            return None
        kind = "first"
    elif incident.state != "open":
        return None
    elif change.kind == "resolved":
        kind = "final"
    elif change.kind == "level_changed" and alert.level != incident.level:
        kind = "follow_up"
    else:
        return None
    handler = on_duty(roster, alert.province, change.at)
    text, text_en, fields = draft(kind, change, handler=handler)
    report = ReportDue(
        incident_id=alert.id,
        kind=kind,
        at=change.at,
        due_at=max(change.at, now) + timedelta(seconds=config.due_s(kind)),
        text=text,
        text_en=text_en,
        fields=fields,
    )
    return IncidentDecision(
        incident_id=alert.id,
        alert_id=alert.id,
        opened=incident is None,
        scope=alert.scope,
        subject=alert.subject,
        rule=alert.rule,
        level=alert.level,
        state="resolved" if kind == "final" else "open",
        carrier=alert.carrier,
        province=alert.province,
        hub_id=alert.hub_id,
        at=change.at,
        report=report,
    )


def overdue(
    due_at: datetime, submitted_at: datetime | None, escalated_at: datetime | None, *, now: datetime
) -> bool:
    """Is a report overdue and not yet escalated at wall time ``now``? (Escalate it once.)"""
    return submitted_at is None and escalated_at is None and now >= due_at


_TITLES = {"first": "首报", "follow_up": "续报", "final": "终报"}


def effect(values: Mapping[str, Any]) -> dict[str, float | int | None]:
    """The effect of a hub alert from its numbers: the backlog, the parcels held beyond the
    storage capacity, and the hours the backlog takes to clear at the current departure rate
    (None when nothing departs)."""
    backlog = values.get("backlog")
    capacity = values.get("storage_capacity")
    rate = values.get("departure_rate_per_min")
    held = max(0, backlog - capacity) if isinstance(backlog, int | float) and capacity else None
    hours = None
    if isinstance(backlog, int | float) and isinstance(rate, int | float) and rate > 0:
        hours = round(backlog / rate / 60, 1)
    return {"backlog_parcels": backlog, "parcels_over_capacity": held, "hours_to_clear": hours}


def draft(
    kind: ReportKind, change: AlertChange, *, handler: Shift | None
) -> tuple[str, str, dict[str, Any]]:
    """(Chinese text, English text, fields) of a report draft on ``change``."""
    alert, values = change.alert, change.alert.values()
    fields: dict[str, Any] = {
        "occurred_at": rfc3339(change.at),
        "occurred_at_beijing": change.at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"),
        "province": alert.province,
        "city": None,
        "carrier": alert.carrier,
        "hub_id": alert.hub_id,
        "rule": alert.rule,
        "level": alert.level,
        "previous_level": change.previous_level,
        "values": values,
        "effect": effect(values),
        "measures": [],
        "handler": None if handler is None else _contact(handler),
    }
    return _text_zh(kind, change, fields), _text_en(kind, change, fields), fields


def _contact(shift: Shift) -> dict[str, str | None]:
    return {"person": shift.person, "role": shift.role, "phone": shift.phone, "email": shift.email}


def _numbers(values: Mapping[str, Any], lang: Lang) -> str:
    """Every known value of the alert with its label and unit: ``积压 3,000 件 · …``."""
    return " · ".join(format_values("", values, lang))  # no rule: every key the vocabulary knows


def _where(fields: Mapping[str, Any], subject: str, lang: str) -> str:
    if fields["hub_id"]:
        place = [fields["province"], fields["carrier"], fields["hub_id"]]
        return " ".join(p for p in place if p) + (" 转运中心" if lang == "zh" else " hub")
    if subject == "CN":
        return "全国寄递网络" if lang == "zh" else "the national network"
    return f"{subject}寄递网络" if lang == "zh" else f"the {subject} network"


def _text_zh(kind: ReportKind, change: AlertChange, fields: Mapping[str, Any]) -> str:
    alert, when = change.alert, change.at.astimezone(BEIJING).strftime("%Y年%m月%d日%H时%M分")
    where, level = _where(fields, alert.subject, "zh"), level_name(alert.level, "zh")
    head = f"【突发事件信息{_TITLES[kind]}】{when}（北京时间），{where}"
    if kind == "final":
        head += f"{rule_name(alert.rule, 'zh')}预警已解除。"
    elif kind == "follow_up" and change.previous_level:
        was = level_name(change.previous_level, "zh")
        head += f"{rule_name(alert.rule, 'zh')}预警等级由{was}调整为{level}。"
    else:
        head += f"出现{rule_name(alert.rule, 'zh')}，预警等级为{level}。"
    hit, handler = fields["effect"], fields["handler"]
    lines = [head, f"一、基本情况：{_numbers(fields['values'], 'zh') or '暂无数据'}。"]
    if hit["backlog_parcels"] is not None:
        held = hit["parcels_over_capacity"]
        hours = hit["hours_to_clear"]
        lines.append(
            f"二、影响：积压 {hit['backlog_parcels']:,} 件"
            + (f"，超出库容 {held:,} 件" if held else "")
            + (f"，按当前发件速率约需 {hours} 小时消化" if hours is not None else "，当前无发件")
            + "。"
        )
    else:
        lines.append("二、影响：详见基本情况。")
    lines.append("三、已采取措施：暂无（待补充）。")
    who = (
        "暂无排班（待补充）"
        if handler is None
        else f"{handler['person']}（值班人员"
        + (f"，电话 {handler['phone']}）" if handler["phone"] else "）")
    )
    lines.append(f"四、处置负责人：{who}。")
    lines.append("特此报告。")
    return "\n".join(lines)


def _text_en(kind: ReportKind, change: AlertChange, fields: Mapping[str, Any]) -> str:
    alert = change.alert
    when = change.at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M (Beijing time)")
    where, rule = _where(fields, alert.subject, "en"), rule_name(alert.rule, "en")
    level = level_name(alert.level, "en")
    if kind == "final":
        head = f"Final report: {when}, {rule} at {where} has ended."
    elif kind == "follow_up" and change.previous_level:
        was = level_name(change.previous_level, "en")
        head = f"Follow-up: {when}, {rule} at {where} changed from {was} to {level}."
    else:
        head = f"First report: {when}, {rule} at {where}, level {level}."
    hit, handler = fields["effect"], fields["handler"]
    lines = [head, f"Situation: {_numbers(fields['values'], 'en') or 'no numbers'}."]
    if hit["backlog_parcels"] is not None:
        hours = hit["hours_to_clear"]
        lines.append(
            f"Effect: {hit['backlog_parcels']:,} parcels backlogged"
            + (
                f", {hit['parcels_over_capacity']:,} over capacity"
                if hit["parcels_over_capacity"]
                else ""
            )
            + (
                f"; ~{hours} h to clear at the current departure rate."
                if hours is not None
                else "; nothing departs."
            )
        )
    lines.append("Measures taken: none yet (to be completed).")
    lines.append(
        f"Handled by: {handler['person'] if handler else 'nobody on the roster (to be completed)'}."
    )
    return "\n".join(lines)
