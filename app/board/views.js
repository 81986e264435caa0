// The panels: national banner, hubs nearest to overflow, provinces, alert feed. Data from the
// API is rendered defensively: a field that is missing or of another type is skipped, never
// allowed to break the rest of the screen.

import {
  carrierName, fieldName, lang, levelName, levelShort, provinceName, ruleName, t,
} from "./i18n.js";
import {
  LEVELS, RANK, chip, countHubs, esc, fmtCount, fmtEta, fmtPercent, fmtTime, isNum, levelOf, rank,
} from "./format.js";

/** Counts per level out of an object like {red: 2, orange: 5} (or null if it is not one). */
function levelCountsOf(value) {
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  const keys = Object.keys(value).filter((k) => Object.hasOwn(RANK, k) && isNum(value[k]));
  if (keys.length === 0) return null;
  return Object.fromEntries(LEVELS.map((level) => [level, isNum(value[level]) ? value[level] : 0]));
}

/** Hubs per level from the national roll-up: a nested object, or flat fields like hubs_red. */
function networkLevelCounts(network) {
  for (const [key, value] of Object.entries(network ?? {})) {
    if (/level|hubs/.test(key)) {
      const counts = levelCountsOf(value);
      if (counts) return { counts, fields: [key] };
    }
  }
  const counts = {};
  const fields = [];
  for (const level of LEVELS) {
    for (const name of [`hubs_${level}`, `${level}_hubs`, `hubs_level_${level}`]) {
      if (isNum(network?.[name])) {
        counts[level] = network[name];
        fields.push(name);
      }
    }
  }
  if (fields.length === 0) return null;
  return { counts: Object.fromEntries(LEVELS.map((l) => [l, counts[l] ?? 0])), fields };
}

function pickNumber(source, names, pattern) {
  for (const name of names) if (isNum(source?.[name])) return [name, source[name]];
  for (const [key, value] of Object.entries(source ?? {})) {
    if (isNum(value) && pattern.test(key)) return [key, value];
  }
  return [null, null];
}

const SKIP_EXTRA = /^(watermark|level|view)$|per_min|rate/;

function fmtField(key, value) {
  if (/ratio|share|fraction|utili[sz]ation/.test(key) && Math.abs(value) <= 2) {
    return fmtPercent(value);
  }
  return fmtCount(value);
}

/** The banner: network level, national flows, watermark, hubs per level. */
export function renderBanner(network, hubs) {
  const level = levelOf(network?.level);
  const box = document.getElementById("network-level");
  box.dataset.level = level;
  document.getElementById("network-level-name").textContent = levelName(level);
  document.body.dataset.networkLevel = level;

  const [arrivalsKey, arrivals] = pickNumber(
    network,
    ["arrivals_per_min", "arrival_rate_per_min", "national_arrivals_per_min"],
    /arriv.*(per_min|rate)/,
  );
  const [departuresKey, departures] = pickNumber(
    network,
    ["departures_per_min", "departure_rate_per_min", "national_departures_per_min"],
    /depart.*(per_min|rate)/,
  );
  document.getElementById("kpi-arrivals").textContent = fmtCount(arrivals);
  document.getElementById("kpi-departures").textContent = fmtCount(departures);
  document.getElementById("kpi-ratio").textContent =
    isNum(arrivals) && isNum(departures) && arrivals > 0
      ? `${t("departure_ratio")} ${(departures / arrivals).toFixed(2)}`
      : "";
  document.getElementById("kpi-watermark").textContent = network?.watermark
    ? fmtTime(network.watermark)
    : t("watermark_none");

  const fromNetwork = networkLevelCounts(network);
  const counts = fromNetwork ? fromNetwork.counts : countHubs(hubs);
  document.getElementById("level-counts").innerHTML = [...LEVELS]
    .reverse()
    .map(
      (lvl) => `<span class="level-count" data-level="${lvl}">
        <span class="n">${esc(fmtCount(counts[lvl] ?? 0))}</span>
        <span class="name">${esc(levelShort(lvl))}</span></span>`,
    )
    .join("");

  const used = new Set([arrivalsKey, departuresKey, ...(fromNetwork?.fields ?? [])]);
  const extras = Object.entries(network ?? {})
    .filter(([key, value]) => isNum(value) && !used.has(key) && !SKIP_EXTRA.test(key))
    .slice(0, 3)
    .map(([key, value]) => `${fieldName(key)} ${fmtField(key, value)}`);
  document.getElementById("kpi-extra").textContent = extras.join(" · ");
}

/** Hubs that will overflow soonest: already full first, then by time to overflow. */
export function nearestToOverflow(hubs, limit = 8) {
  const full = (hub) => isNum(hub.utilization) && hub.utilization >= 1;
  return hubs
    .filter((hub) => full(hub) || isNum(hub.time_to_overflow_s))
    .sort((a, b) => {
      if (full(a) !== full(b)) return full(a) ? -1 : 1;
      if (full(a)) return b.utilization - a.utilization;
      return a.time_to_overflow_s - b.time_to_overflow_s;
    })
    .slice(0, limit);
}

export function renderNearest(nearest) {
  document.getElementById("nearest-empty").hidden = nearest.length > 0;
  document.getElementById("nearest-list").innerHTML = nearest
    .map((hub) => {
      const level = levelOf(hub.level);
      const util = isNum(hub.utilization) ? hub.utilization : 0;
      const where = [provinceName(hub.province), hub.city, carrierName(hub.carrier)]
        .filter(Boolean)
        .join(" · ");
      return `<li class="hub-row" data-level="${level}" data-hub-id="${esc(hub.hub_id)}">
        <div class="who">
          <span class="name">${esc(hub.name || hub.hub_id)}${hub.key_node ? ` <span class="star" title="${esc(t("key_node"))}">★</span>` : ""}</span>
          <span class="where">${esc(where)}</span>
        </div>
        <div class="eta" data-level="${level}">${esc(fmtEta(hub.time_to_overflow_s, hub.utilization))}</div>
        <div class="util">
          <div class="bar"><i data-level="${level}" style="width:${Math.min(util, 1) * 100}%"></i></div>
          <span>${esc(fmtPercent(hub.utilization))}</span>
        </div>
      </li>`;
    })
    .join("");
}

/** Province rows from the API merged with what the hub list says about each province. */
export function provinceRows(apiRows, hubs) {
  const rows = new Map();
  const rowFor = (name) => {
    if (!rows.has(name)) {
      rows.set(name, {
        province: name, level: null, hubs: 0, counts: countHubs([]), maxUtil: null, minEta: null,
      });
    }
    return rows.get(name);
  };
  for (const hub of hubs) {
    if (!hub.province) continue;
    const row = rowFor(hub.province);
    row.hubs += 1;
    row.counts[levelOf(hub.level)] += 1;
    if (isNum(hub.utilization)) row.maxUtil = Math.max(row.maxUtil ?? 0, hub.utilization);
    if (isNum(hub.time_to_overflow_s)) {
      row.minEta = Math.min(row.minEta ?? Infinity, hub.time_to_overflow_s);
    }
  }
  for (const item of apiRows) {
    if (!item || typeof item.province !== "string") continue;
    const row = rowFor(item.province);
    if (Object.hasOwn(RANK, item.level)) row.level = item.level;
    const counts = levelCountsOf(item.hubs) ?? levelCountsOf(item.hubs_by_level);
    if (counts && row.hubs === 0) row.counts = counts;
    const [, total] = pickNumber(item, ["hubs", "hubs_total", "hub_count"], /^hubs?_?(count|total)$/);
    if (isNum(total)) row.hubs = total;
    else if (counts && row.hubs === 0) row.hubs = Object.values(counts).reduce((a, b) => a + b, 0);
    const [, util] = pickNumber(item, ["max_utilization", "utilization_max"], /utili[sz]ation/);
    if (isNum(util)) row.maxUtil = util;
  }
  for (const row of rows.values()) {
    if (row.level === null) {
      row.level = LEVELS.reduce((worst, l) => (row.counts[l] > 0 && rank(l) > rank(worst) ? l : worst), "unknown");
    }
  }
  return [...rows.values()].sort(
    (a, b) =>
      rank(b.level) - rank(a.level) ||
      b.counts.red - a.counts.red ||
      b.counts.orange - a.counts.orange ||
      b.counts.yellow - a.counts.yellow ||
      (b.maxUtil ?? -1) - (a.maxUtil ?? -1) ||
      a.province.localeCompare(b.province, "zh-CN"),
  );
}

function stackedBar(counts) {
  const total = LEVELS.reduce((sum, l) => sum + (counts[l] ?? 0), 0);
  if (total === 0) return `<div class="stack"></div>`;
  const parts = [...LEVELS]
    .reverse()
    .filter((l) => counts[l] > 0)
    .map((l) => `<i data-level="${l}" style="flex-grow:${counts[l]}" title="${esc(levelShort(l))} ${counts[l]}"></i>`);
  return `<div class="stack">${parts.join("")}</div>`;
}

export function renderProvinces(rows) {
  document.getElementById("provinces-empty").hidden = rows.length > 0;
  document.getElementById("province-tiles").innerHTML = rows
    .map((row) => {
      const stats = [t("tile_hubs", { n: fmtCount(row.hubs) })];
      if (isNum(row.maxUtil)) stats.push(t("tile_max_util", { p: fmtPercent(row.maxUtil) }));
      return `<div class="ptile" data-level="${row.level}" data-province="${esc(row.province)}">
        <div class="ptop"><span class="pname">${esc(provinceName(row.province))}</span>
          ${rank(row.level) >= 1 ? chip(row.level, levelShort(row.level)) : ""}</div>
        ${stackedBar(row.counts)}
        <div class="pstats">${esc(stats.join(" · "))}</div>
      </div>`;
    })
    .join("");
}

function subjectOf(alert, hubsById) {
  const labels = alert.labels ?? {};
  if (alert.scope === "network") return t("national");
  if (alert.scope === "province") return provinceName(labels.province ?? alert.subject);
  if (alert.scope === "carrier") return carrierName(labels.carrier ?? alert.subject);
  const hub = hubsById.get(labels.hub_id ?? alert.subject);
  const name = hub?.name || labels.hub_id || alert.subject || "";
  const province = provinceName(hub?.province ?? labels.province);
  return province ? `${name}（${province}）` : name;
}

/** A courier's measures (处置措施) and the area's warnings (预警) an alert carries, on one line. */
function measuresLine(alert) {
  const en = lang() === "en";
  const ended = en ? " (ended)" : "（已结束）";
  const measures = (alert.mitigations ?? [])
    .map((m) => (en ? m.kind_en : m.kind_zh) + (m.ended_at ? ended : ""));
  const warnings = (alert.warnings ?? [])
    .map((w) => (en ? `${w.kind_en} ${w.colour}` : `${w.kind_zh}${w.colour_zh}预警`));
  const parts = [
    measures.length ? `${en ? "Measures" : "处置措施"}: ${measures.join(en ? ", " : "、")}` : "",
    warnings.length ? `${en ? "Warnings" : "预警"}: ${warnings.join(en ? ", " : "、")}` : "",
  ].filter(Boolean);
  return parts.length ? `<div class="measures">${esc(parts.join(" · "))}</div>` : "";
}

/** The alert feed, most recent change first; a resolved alert stays a while, dimmed. */
export function renderAlerts(entries, hubsById, now) {
  const firing = entries.filter((e) => e.alert.state !== "resolved");
  document.getElementById("alerts-empty").hidden = entries.length > 0;
  const counts = countHubs(firing.map((e) => e.alert));
  document.getElementById("alert-counts").innerHTML = ["red", "orange", "yellow", "blue"]
    .filter((l) => counts[l] > 0)
    .map((l) => chip(l, `${levelShort(l)} ${counts[l]}`))
    .join("");
  document.getElementById("alert-feed").innerHTML = entries
    .map(({ alert, seenAt, fresh }) => {
      const level = levelOf(alert.level);
      const resolved = alert.state === "resolved";
      const summary = lang() === "en" ? alert.summary_en || alert.summary : alert.summary;
      const badges = [
        fresh && now - seenAt < 60000 ? `<span class="badge new">${esc(t("new_alert"))}</span>` : "",
        resolved ? `<span class="badge ok">${esc(t("resolved"))}</span>` : "",
        alert.acked_by ? `<span class="badge">${esc(t("acked"))} ${esc(alert.acked_by)}</span>` : "",
      ].join("");
      return `<li class="alert${resolved ? " resolved" : ""}${fresh && now - seenAt < 8000 ? " flash" : ""}"
          data-level="${level}" data-alert-id="${esc(alert.id)}" data-state="${esc(alert.state ?? "")}">
        <div class="alert-head">${chip(level)}<span class="rule">${esc(ruleName(alert.rule))}</span>
          <span class="subject">${esc(subjectOf(alert, hubsById))}</span>${badges}</div>
        <div class="summary">${esc(summary ?? "")}</div>${measuresLine(alert)}
        <div class="when">${esc(t("since", { t: fmtTime(alert.started_at) }))}</div>
      </li>`;
    })
    .join("");
}
