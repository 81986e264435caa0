// The incidents panel (突发事件): open incidents and the reports waiting on them, overdue first.
// Reads GET /v1/incidents?state=active every few seconds with the board's key; a carrier key
// sees its own hubs' incidents only, as the API decides.

import { AuthError, getJSON, loadKey } from "./api.js";
import { lang, levelName, ruleName } from "./i18n.js";
import { chip, esc, fmtTime, levelOf } from "./format.js";

const REFRESH_MS = 10000;
const SHOWN_MAX = 20;

const STRINGS = {
  zh: {
    title: "突发事件信息报告",
    empty: "暂无未结事件",
    open: "未结 {n}",
    overdue_count: "逾期 {n}",
    opened: "立案 {t}",
    state_open: "处置中",
    state_resolved: "待终报",
    waiting: "{kind}待报，截止 {t}",
    overdue: "已逾期 {d}",
    escalated: "已上报带班领导 {who}",
    all_in: "报告已齐",
    first: "首报",
    follow_up: "续报",
    final: "终报",
    nobody: "（无人值守）",
  },
  en: {
    title: "Incident reports",
    empty: "No open incidents",
    open: "open {n}",
    overdue_count: "overdue {n}",
    opened: "opened {t}",
    state_open: "in hand",
    state_resolved: "final report due",
    waiting: "{kind} due {t}",
    overdue: "overdue by {d}",
    escalated: "escalated to leader {who}",
    all_in: "all reports in",
    first: "first report",
    follow_up: "follow-up",
    final: "final report",
    nobody: "(nobody on call)",
  },
};

function tr(key, vars = {}) {
  const text = STRINGS[lang()]?.[key] ?? STRINGS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

function minutes(ms) {
  const total = Math.max(1, Math.round(ms / 60000));
  const h = Math.floor(total / 60);
  const m = total % 60;
  if (lang() === "zh") return h ? `${h} 小时 ${m} 分钟` : `${m} 分钟`;
  return h ? `${h} h ${m} min` : `${m} min`;
}

/** The reports still to submit, overdue ones first, then by deadline. */
export function waitingReports(incident, now = Date.now()) {
  return (incident.reports ?? [])
    .filter((r) => !r.submitted_at)
    .map((r) => ({ ...r, late: now >= Date.parse(r.due_at) }))
    .sort((a, b) => Number(b.late) - Number(a.late) || Date.parse(a.due_at) - Date.parse(b.due_at));
}

function reportLine(report, now) {
  const kind = tr(report.kind);
  const parts = [`<span>${esc(tr("waiting", { kind, t: fmtTime(report.due_at) }))}</span>`];
  if (report.late) {
    const late = minutes(now - Date.parse(report.due_at));
    parts.push(`<span class="badge late">${esc(tr("overdue", { d: late }))}</span>`);
  }
  if (report.escalated_at) {
    const who = report.escalated_to?.person ?? tr("nobody");
    parts.push(`<span class="badge">${esc(tr("escalated", { who }))}</span>`);
  }
  return `<div class="report${report.late ? " overdue" : ""}" data-kind="${esc(report.kind)}">${parts.join("")}</div>`;
}

function incidentItem(incident, now) {
  const waiting = waitingReports(incident, now);
  const late = waiting.some((r) => r.late);
  const state = incident.state === "resolved" ? tr("state_resolved") : tr("state_open");
  const reports = waiting.length
    ? waiting.map((r) => reportLine(r, now)).join("")
    : `<div class="report done">${esc(tr("all_in"))}</div>`;
  return `<li class="alert incident${late ? " overdue" : ""}" data-level="${levelOf(incident.level)}"
      data-incident-id="${esc(incident.id)}" data-state="${esc(incident.state)}">
    <div class="alert-head">${chip(incident.level, levelName(incident.level))}
      <span class="rule">${esc(ruleName(incident.rule))}</span>
      <span class="subject">${esc(incident.subject)}</span><span class="badge">${esc(state)}</span></div>
    <div class="when">${esc(tr("opened", { t: fmtTime(incident.opened_at) }))}</div>
    ${reports}
  </li>`;
}

/** Draw the panel for `incidents` (as GET /v1/incidents answers them). */
export function renderIncidents(incidents, now = Date.now()) {
  const panel = document.getElementById("incidents-panel");
  if (!panel) return;
  const overdue = incidents.filter((i) => waitingReports(i, now).some((r) => r.late));
  const ordered = [...overdue, ...incidents.filter((i) => !overdue.includes(i))].slice(0, SHOWN_MAX);
  document.getElementById("incidents-title").textContent = tr("title");
  document.getElementById("incidents-empty").textContent = tr("empty");
  document.getElementById("incidents-empty").hidden = incidents.length > 0;
  document.getElementById("incident-counts").innerHTML = [
    `<span class="badge">${esc(tr("open", { n: incidents.length }))}</span>`,
    overdue.length ? `<span class="badge late">${esc(tr("overdue_count", { n: overdue.length }))}</span>` : "",
  ].join("");
  document.getElementById("incident-list").innerHTML = ordered.map((i) => incidentItem(i, now)).join("");
}

let last = [];

async function refresh() {
  const key = loadKey();
  if (!key) return;
  try {
    const body = await getJSON("v1/incidents?state=active&limit=200", key);
    last = Array.isArray(body?.incidents) ? body.incidents : [];
    renderIncidents(last);
  } catch (error) {
    if (!(error instanceof AuthError)) console.warn("incidents:", error);
  }
}

function start() {
  renderIncidents(last);
  refresh();
  setInterval(refresh, REFRESH_MS);
  // the language button is the board's; redraw in the new language after it switched
  document.getElementById("lang-toggle")?.addEventListener("click", () => {
    setTimeout(() => renderIncidents(last), 0);
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
