"""Words for courier mitigations and external warnings in messages, Chinese and English.

    effect_sentence(effect, "zh")          净流入 900→200 件/分，已改善；爆仓时间 60→无，已改善
    message_lines(mitigations, warnings, "zh")
                                           one line per measure and warning of an alert

Times are Beijing time (UTC+8), as in every human text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Literal

from alerts.measures import (
    MITIGATION_KINDS,
    WARNING_COLOURS,
    WARNING_KINDS,
    ExternalWarning,
    Mitigation,
    MitigationEffect,
)

Language = Literal["zh", "en"]
_BEIJING = timezone(timedelta(hours=8), "UTC+8")
_VERDICT = {
    "zh": {True: "已改善", False: "未改善", None: "无法判断"},
    "en": {True: "improved", False: "not improved", None: "unknown"},
}


def _time(moment: datetime) -> str:
    return moment.astimezone(_BEIJING).strftime("%m-%d %H:%M")


def _inflow(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f}"


def _eta(value: float | None, lang: Language) -> str:
    if value is None:
        return "无" if lang == "zh" else "none"
    return f"{value / 60:.0f}"


def effect_sentence(effect: MitigationEffect, lang: Language) -> str:
    """Did net inflow and time to overflow improve, with the numbers before → after."""
    verdict = _VERDICT[lang]
    inflow = (
        f"{_inflow(effect.net_inflow_before_per_min)}→{_inflow(effect.net_inflow_after_per_min)}"
    )
    known = effect.time_to_overflow_improved is not None
    eta = (
        f"{_eta(effect.time_to_overflow_before_s, lang)}→"
        f"{_eta(effect.time_to_overflow_after_s, lang)}"
        if known
        else "—"
    )
    if lang == "zh":
        return (
            f"净流入 {inflow} 件/分，{verdict[effect.net_inflow_improved]}；"
            f"爆仓时间 {eta} 分钟，{verdict[effect.time_to_overflow_improved]}"
        )
    return (
        f"net inflow {inflow} parcels/min, {verdict[effect.net_inflow_improved]}; "
        f"time to overflow {eta} min, {verdict[effect.time_to_overflow_improved]}"
    )


def mitigation_line(mitigation: Mitigation, lang: Language) -> str:
    """``限流（中通）11-11 20:00 起，计划至 11-12 02:00：进港量减少三成`` and, once ended, its
    effect."""
    zh, en = MITIGATION_KINDS[mitigation.kind]
    start, planned = _time(mitigation.starts_at), _time(mitigation.planned_end_at)
    expected = (
        f"：{mitigation.expected_effect}" if lang == "zh" else f": {mitigation.expected_effect}"
    )
    expected = expected if mitigation.expected_effect else ""
    if lang == "zh":
        line = f"{zh}（{mitigation.carrier}）{start} 起，计划至 {planned}{expected}"
        if mitigation.ended_at is not None:
            line += f"；{_time(mitigation.ended_at)} 已结束"
    else:
        line = f"{en} ({mitigation.carrier}) from {start}, planned until {planned}{expected}"
        if mitigation.ended_at is not None:
            line += f"; ended {_time(mitigation.ended_at)}"
    if mitigation.effect is not None:
        line += ("；" if lang == "zh" else "; ") + effect_sentence(mitigation.effect, lang)
    return line


def warning_line(warning: ExternalWarning, lang: Language) -> str:
    """``浙江 宁波 台风橙色预警 11-11 18:00 至 11-12 06:00（浙江省气象台）``."""
    kind_zh, kind_en = WARNING_KINDS[warning.kind]
    colour_zh, colour_en = WARNING_COLOURS[warning.colour]
    area = warning.province + (f" {warning.city}" if warning.city else "")
    span = f"{_time(warning.valid_from)}–{_time(warning.valid_to)}"
    if lang == "zh":
        return f"{area} {kind_zh}{colour_zh}预警 {span}（{warning.source}）"
    return f"{area} {kind_en} warning, {colour_en}, {span} ({warning.source})"


def message_lines(
    mitigations: Sequence[Mitigation], warnings: Sequence[ExternalWarning], lang: Language
) -> list[str]:
    """Markdown list lines of an alert's measures and warnings (none when it has neither)."""
    measure_label = "处置措施" if lang == "zh" else "Measure"
    warning_label = "预警信息" if lang == "zh" else "Warning"
    return [f"- **{measure_label}**: {mitigation_line(m, lang)}" for m in mitigations] + [
        f"- **{warning_label}**: {warning_line(w, lang)}" for w in warnings
    ]


def digest_suffix(
    mitigations: Sequence[Mitigation], warnings: Sequence[ExternalWarning], lang: Language
) -> str:
    """The short form for a digest line: `` · 处置措施: 限流 · 预警: 台风橙色``."""
    parts = []
    if mitigations:
        words = "、".join(MITIGATION_KINDS[m.kind][0 if lang == "zh" else 1] for m in mitigations)
        parts.append(f"{'处置措施' if lang == 'zh' else 'measures'}: {words}")
    if warnings:
        if lang == "zh":
            words = "、".join(
                f"{WARNING_KINDS[w.kind][0]}{WARNING_COLOURS[w.colour][0]}" for w in warnings
            )
        else:
            words = ", ".join(f"{WARNING_KINDS[w.kind][1]} {w.colour}" for w in warnings)
        parts.append(f"{'预警' if lang == 'zh' else 'warnings'}: {words}")
    return "".join(f" · {part}" for part in parts)
