// Levels and number/time formats shared by the map and the panels.

import { lang, levelName, t } from "./i18n.js";

export const LEVELS = ["unknown", "none", "blue", "yellow", "orange", "red"];
export const LEVEL_COLOURS = {
  unknown: "#8c8c8c",
  none: "#52c41a",
  blue: "#1677ff",
  yellow: "#fadb14",
  orange: "#fa8c16",
  red: "#f5222d",
};
export const RANK = { unknown: -1, none: 0, blue: 1, yellow: 2, orange: 3, red: 4 };

export function levelOf(value) {
  return Object.hasOwn(RANK, value) ? value : "unknown";
}

export function rank(level) {
  return RANK[levelOf(level)];
}

export const isNum = (value) => typeof value === "number" && Number.isFinite(value);

export function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function locale() {
  return lang() === "zh" ? "zh-CN" : "en-US";
}

/** A count for a distant reader: 52.3万 / 523.4k above 100 000, grouped digits below. */
export function fmtCount(value) {
  if (!isNum(value)) return "—";
  const abs = Math.abs(value);
  if (abs >= 1e8 && lang() === "zh") return `${(value / 1e8).toFixed(2)}亿`;
  if (abs >= 1e5 && lang() === "zh") return `${(value / 1e4).toFixed(1)}万`;
  if (abs >= 1e6 && lang() === "en") return `${(value / 1e6).toFixed(2)}M`;
  if (abs >= 1e5 && lang() === "en") return `${(value / 1e3).toFixed(1)}k`;
  return Math.round(value).toLocaleString(locale());
}

export function fmtPercent(ratio) {
  return isNum(ratio) ? `${Math.round(ratio * 100)}%` : "—";
}

export function fmtEta(seconds, utilization) {
  if ((isNum(utilization) && utilization >= 1) || (isNum(seconds) && seconds <= 0)) {
    return t("overflowing");
  }
  if (!isNum(seconds)) return "—";
  if (seconds < 60) return t("under_minute");
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return t("minutes", { m: minutes });
  return t("hours_minutes", { h: Math.floor(minutes / 60), m: minutes % 60 });
}

/** An RFC 3339 instant as Beijing time, "11-11 14:05:09" (or with no date: "14:05:09"). */
export function fmtTime(value, { date = true } = {}) {
  if (!value) return "—";
  const when = new Date(value);
  if (Number.isNaN(when.getTime())) return String(value);
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: "Asia/Shanghai",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(when);
  const part = (type) => parts.find((p) => p.type === type)?.value ?? "";
  const time = `${part("hour")}:${part("minute")}:${part("second")}`;
  return date ? `${part("month")}-${part("day")} ${time}` : time;
}

export function chip(level, text = levelName(level)) {
  return `<span class="chip" data-level="${levelOf(level)}">${esc(text)}</span>`;
}

export function countHubs(hubs) {
  const counts = Object.fromEntries(LEVELS.map((level) => [level, 0]));
  for (const hub of hubs) counts[levelOf(hub.level)] += 1;
  return counts;
}
