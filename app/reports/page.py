"""The daily report as a printable Chinese page (A4, no scripts, charts inline), and its hub
table as CSV. Every time on the page is Beijing time; numbers carry thousands separators."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from html import escape

from alerts.notify.texts import rule_name
from app.api.models.incidents import ReportOut as IncidentReportOut
from app.reports.charts import hourly_curve, level_bars
from app.reports.model import DailyReport, HubOfDay
from core.levels import LEVEL_NAMES_ZH
from core.reports import BEIJING

STYLE = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",sans-serif;
 margin:24px auto;max-width:860px;color:#1f1f1f;font-size:14px;line-height:1.6}
h1{text-align:center;font-size:24px;margin:0 0 4px}
.sub{text-align:center;color:#595959;margin:0 0 16px}
h3{font-size:15px;margin:12px 0 6px}
h2{font-size:17px;border-left:4px solid #c00;padding-left:8px;margin:22px 0 8px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #bfbfbf;padding:3px 6px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f5f5f5}
.kpi{display:flex;gap:12px;flex-wrap:wrap}
.kpi div{flex:1;min-width:150px;border:1px solid #d9d9d9;padding:8px 12px}
.kpi b{display:block;font-size:22px}
.chart{width:100%;height:auto}
.chart text{font-size:12px;fill:#434343}
.chart .grid{stroke:#f0f0f0}
.none{color:#8c8c8c}
@media print{body{margin:0}h2{break-after:avoid}table{break-inside:auto}}
"""


def title(report: DailyReport) -> str:
    """全国邮政快递业务量监测日报, or the province's, or a carrier's own."""
    area = "全国" if report.province is None else report.province
    if report.carrier is not None:
        return f"{area}邮政快递业务量监测日报（{report.carrier}）"
    return f"{area}邮政快递业务量监测日报"


def _n(value: int) -> str:
    return f"{value:,}"


def _time(moment: datetime | None) -> str:
    return "—" if moment is None else moment.astimezone(BEIJING).strftime("%m-%d %H:%M")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "未解除"
    minutes = int(seconds // 60)
    return f"{minutes // 60}小时{minutes % 60}分" if minutes >= 60 else f"{minutes}分钟"


def _summary(report: DailyReport) -> str:
    peak = report.peak_hour
    peak_text = "无进港" if peak is None else f"{peak}–{int(peak[:2]) + 1:02d}:00"
    text = (
        f"当日进港 {_n(report.arrivals_total)} 件，出港 {_n(report.departures_total)} 件；"
        f"24时积压 {_n(report.backlog_at_end)} 件，日内整点最高积压 {_n(report.backlog_max)} 件；"
        f"进港峰值时段 {peak_text}。"
    )
    change = report.previous_day
    if change is not None and change.arrivals_change_pct is not None:
        text += f"进港量较前一日{'增长' if change.arrivals_change_pct >= 0 else '下降'}"
        text += f" {abs(change.arrivals_change_pct):,.1f}%。"
    red = report.levels_worst.get("red", 0)
    orange = report.levels_worst.get("orange", 0)
    text += f"日内达到红色预警的节点 {red} 个、橙色 {orange} 个，预警 {len(report.alerts)} 条。"
    return text


def _table(head: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    if not rows:
        return '<p class="none">（无）</p>'
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{escape(c)}</td>' if i in numeric else f"<td>{escape(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _hub_rows(hubs: list[HubOfDay]) -> list[list[str]]:
    return [
        [
            hub.hub_id,
            hub.carrier,
            hub.province,
            _n(hub.arrivals),
            _n(hub.departures),
            _n(hub.backlog_end),
            _n(hub.backlog_max),
            f"{hub.utilization_max:.1%}",
            LEVEL_NAMES_ZH.get(hub.level_worst, hub.level_worst),
        ]
        for hub in hubs
    ]


HUB_HEAD = [
    "节点",
    "企业",
    "省份",
    "进港(件)",
    "出港(件)",
    "24时积压",
    "最高积压",
    "最高利用率",
    "最高等级",
]


REPORT_KINDS_ZH = {"first": "首报", "follow_up": "续报", "final": "终报"}
INCIDENT_STATES_ZH = {"open": "处置中", "resolved": "已解除（待终报）", "closed": "已结案"}


def _reports_line(reports: list[IncidentReportOut]) -> str:
    parts = []
    for r in reports:
        done = f"{_time(r.submitted_at)}报送" if r.submitted_at else f"限{_time(r.due_at)}前报送"
        late = "，已超时" if r.overdue else ""
        parts.append(f"{REPORT_KINDS_ZH.get(r.kind, r.kind)}（{done}{late}）")
    return "；".join(parts) or "—"


def _context_sections(report: DailyReport) -> list[str]:
    """(一) incidents with their reports, (二) couriers' measures, (三) warnings in force."""
    incidents = [
        [
            _time(i.opened_at),
            rule_name(i.rule, "zh"),
            i.subject,
            LEVEL_NAMES_ZH.get(i.level, i.level),
            INCIDENT_STATES_ZH.get(i.state, i.state),
            _reports_line(i.reports),
        ]
        for i in report.incidents
    ]
    measures = [
        [
            m.hub_id,
            m.carrier,
            m.kind_zh,
            f"{_time(m.starts_at)}–{_time(m.ended_at or m.planned_end_at)}",
            m.expected_effect or "—",
            m.effect.summary if m.effect is not None else "实施中",
        ]
        for m in report.mitigations
    ]
    warnings = [
        [
            w.province + (f"{w.city}" if w.city else ""),
            f"{w.kind_zh}{w.colour_zh}预警",
            f"{_time(w.valid_from)}–{_time(w.valid_to)}",
            w.source,
        ]
        for w in report.warnings
    ]
    return [
        "<h3>（一）突发事件信息报告</h3>",
        _table(["发生时间", "事件", "对象", "等级", "状态", "报告"], incidents, set()),
        "<h3>（二）企业应对措施</h3>",
        _table(["节点", "企业", "措施", "起止", "预期效果", "实施效果"], measures, set()),
        "<h3>（三）预警天气及外部预警</h3>",
        _table(["地区", "预警", "有效期", "发布单位"], warnings, set()),
    ]


def render_html(report: DailyReport) -> str:
    """The whole page."""
    day = report.date
    alerts = [
        [
            rule_name(a.rule, "zh"),
            a.subject,
            LEVEL_NAMES_ZH.get(a.level_max, a.level_max),
            _time(a.started_at),
            _time(a.resolved_at),
            _duration(a.duration_s),
            a.acked_by or "未确认",
        ]
        for a in report.alerts
    ]
    silent = [[s.hub_id, _duration(s.silent_s)] for s in report.silent_hubs]
    sections = [
        f"<h1>{escape(title(report))}</h1>",
        f'<p class="sub">{day.year}年{day.month}月{day.day}日（00:00–24:00，北京时间）</p>',
        "<h2>一、总体情况</h2>",
        '<div class="kpi">'
        f"<div>进港量<b>{_n(report.arrivals_total)}</b>件</div>"
        f"<div>出港量<b>{_n(report.departures_total)}</b>件</div>"
        f"<div>24时积压<b>{_n(report.backlog_at_end)}</b>件</div>"
        f"<div>峰值时段<b>{report.peak_hour or '—'}</b>北京时间</div>"
        "</div>",
        f"<p>{escape(_summary(report))}</p>",
        "<h2>二、分时进出港量</h2>",
        hourly_curve(report.hourly),
        "<h2>三、节点最高预警等级</h2>",
        level_bars(report.levels_worst),
        "<h2>四、预警信息</h2>",
        _table(["预警", "对象", "最高等级", "开始", "解除", "持续", "确认人"], alerts, set()),
        "<h2>五、临近爆仓节点</h2>",
        _table(HUB_HEAD, _hub_rows(report.closest_to_overflow), {3, 4, 5, 6, 7}),
        "<h2>六、数据中断节点</h2>",
        _table(["节点", "最长中断"], silent, set()),
        "<h2>七、突发事件、企业应对措施与预警天气</h2>",
        *_context_sections(report),
        "<h2>八、分节点明细</h2>",
        _table(HUB_HEAD, _hub_rows(report.hubs), {3, 4, 5, 6, 7}),
    ]
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(title(report))} {day.isoformat()}</title><style>{STYLE}</style>"
        f"</head><body>{''.join(sections)}</body></html>"
    )


CSV_HEAD = [
    "hub_id", "carrier", "province", "arrivals", "departures", "backlog_end", "backlog_max",
    "storage_capacity", "utilization_max", "level_worst", "silent_s",
]  # fmt: skip


def render_csv(report: DailyReport) -> str:
    """The hub table, one line per hub (UTF-8 with a BOM so spreadsheet programs read 浙江)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEAD)
    for hub in report.hubs:
        row = hub.model_dump()
        row["utilization_max"] = f"{hub.utilization_max:.4f}"
        writer.writerow([row[name] for name in CSV_HEAD])
    return out.getvalue()
