// Rendering: each function takes the data the board holds and redraws one part of the page.
// Data from the API is rendered defensively: a field that is missing or of another type is
// skipped, never allowed to break the rest of the screen.

import {
  carrierName, fieldName, lang, levelName, levelShort, provinceName, ruleName, t,
} from "./i18n.js";

export const LEVELS = ["unknown", "none", "blue", "yellow", "orange", "red"];
export const LEVEL_COLOURS = {
  unknown: "#8c8c8c",
  none: "#52c41a",
  blue: "#1677ff",
  yellow: "#fadb14",
  orange: "#fa8c16",
  red: "#f5222d",
};
const RANK = { unknown: -1, none: 0, blue: 1, yellow: 2, orange: 3, red: 4 };

// Projection: equirectangular over lon 73–135°E, lat 18–54°N, 10 SVG units per degree.
const LON_MIN = 73;
const LON_MAX = 135;
const LAT_MIN = 18;
const LAT_MAX = 54;
const UNITS_PER_DEG = 10;
const RADIUS_BY_TIER = { national: 5, regional: 3.8, city: 2.8, terminal: 2 };

export function levelOf(value) {
  return Object.hasOwn(RANK, value) ? value : "unknown";
}

export function rank(level) {
  return RANK[levelOf(level)];
}

const isNum = (value) => typeof value === "number" && Number.isFinite(value);

function esc(value) {
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

function chip(level, text = levelName(level)) {
  return `<span class="chip" data-level="${levelOf(level)}">${esc(text)}</span>`;
}

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

function countHubs(hubs) {
  const counts = Object.fromEntries(LEVELS.map((level) => [level, 0]));
  for (const hub of hubs) counts[levelOf(hub.level)] += 1;
  return counts;
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

function graticule() {
  const w = (LON_MAX - LON_MIN) * UNITS_PER_DEG;
  const h = (LAT_MAX - LAT_MIN) * UNITS_PER_DEG;
  const lines = [];
  for (let lon = 75; lon <= LON_MAX; lon += 5) {
    const x = (lon - LON_MIN) * UNITS_PER_DEG;
    lines.push(`<line x1="${x}" y1="0" x2="${x}" y2="${h}" class="${lon % 10 ? "minor" : "major"}"/>`);
    if (lon % 10 === 0) lines.push(`<text x="${x}" y="${h + 13}" class="axis">${lon}°E</text>`);
  }
  for (let lat = 20; lat <= LAT_MAX; lat += 5) {
    const y = (LAT_MAX - lat) * UNITS_PER_DEG;
    lines.push(`<line x1="0" y1="${y}" x2="${w}" y2="${y}" class="${lat % 10 ? "minor" : "major"}"/>`);
    if (lat % 10 === 0) {
      lines.push(`<text x="-4" y="${y + 3}" class="axis" text-anchor="end">${lat}°N</text>`);
    }
  }
  lines.push(`<rect x="0" y="0" width="${w}" height="${h}" class="frame"/>`);
  return lines.join("");
}

function project(hub) {
  const lon = Math.min(Math.max(hub.lon, LON_MIN), LON_MAX);
  const lat = Math.min(Math.max(hub.lat, LAT_MIN), LAT_MAX);
  return [(lon - LON_MIN) * UNITS_PER_DEG, (LAT_MAX - lat) * UNITS_PER_DEG];
}

function hubTitle(hub) {
  const bits = [
    hub.name || hub.hub_id,
    `${provinceName(hub.province)} ${hub.city ?? ""}`.trim(),
    carrierName(hub.carrier),
    levelName(levelOf(hub.level)),
    `${t("utilization")} ${fmtPercent(hub.utilization)}`,
  ];
  if (isNum(hub.time_to_overflow_s)) bits.push(`${t("eta")} ${fmtEta(hub.time_to_overflow_s)}`);
  return bits.filter(Boolean).join(" · ");
}

const SVG_NS = "http://www.w3.org/2000/svg";
const circles = new Map(); // hub_id → its <circle>, kept between refreshes

function setAttr(el, name, value) {
  const text = String(value);
  if (el.getAttribute(name) !== text) el.setAttribute(name, text);
}

/** One circle per hub, updated in place; worst drawn last so it stays on top. */
export function renderMap(hubs, nearest) {
  const grid = document.getElementById("graticule");
  if (!grid.hasChildNodes()) grid.innerHTML = graticule();
  const layer = document.getElementById("hub-points");
  const placed = hubs.filter((hub) => isNum(hub.lat) && isNum(hub.lon));
  const seen = new Set();
  let reorder = false;
  for (const hub of placed) {
    const id = String(hub.hub_id);
    seen.add(id);
    let circle = circles.get(id);
    if (!circle) {
      circle = document.createElementNS(SVG_NS, "circle");
      circle.dataset.hubId = id;
      circle.appendChild(document.createElementNS(SVG_NS, "title"));
      circles.set(id, circle);
      reorder = true;
    }
    const level = levelOf(hub.level);
    if (circle.dataset.level !== level) reorder = true;
    const [x, y] = project(hub);
    circle.dataset.level = level;
    setAttr(circle, "class", `hub${hub.key_node ? " key" : ""}${rank(level) >= 3 ? " alarm" : ""}`);
    setAttr(circle, "cx", x.toFixed(1));
    setAttr(circle, "cy", y.toFixed(1));
    setAttr(circle, "r", RADIUS_BY_TIER[hub.tier] ?? 2.8);
    setAttr(circle, "fill", LEVEL_COLOURS[level]);
    const title = hubTitle(hub);
    if (circle.firstChild.textContent !== title) circle.firstChild.textContent = title;
  }
  for (const [id, circle] of circles) {
    if (!seen.has(id)) {
      circle.remove();
      circles.delete(id);
    }
  }
  if (reorder) {
    const ordered = [...circles.values()].sort(
      (a, b) => rank(a.dataset.level) - rank(b.dataset.level),
    );
    layer.replaceChildren(...ordered);
  }
  document.getElementById("hub-labels").innerHTML = placeLabels(
    nearest.filter((hub) => rank(hub.level) >= 3 && isNum(hub.lat) && isNum(hub.lon)).slice(0, 6),
  );
  document.getElementById("map-count").textContent = `${fmtCount(placed.length)} ${t("map_hubs")}`;
  document.getElementById("map-legend").innerHTML = [...LEVELS]
    .reverse()
    .map((lvl) => `<span class="legend-item"><i data-level="${lvl}"></i>${esc(levelName(lvl))}</span>`)
    .join("");
}

// Label offsets tried in turn (SVG units) until a label overlaps no label placed before it.
const LABEL_SLOTS = [
  [7, -5], [7, 11], [-7, -5], [-7, 11], [9, -19], [9, 25], [-9, -19], [-9, 25], [12, -33], [12, 39],
];
const LABEL_FONT = 11;

/** Names beside the hubs in most danger, nudged apart so none covers another. */
function placeLabels(hubs) {
  const taken = [];
  const parts = [];
  for (const hub of hubs) {
    const [x, y] = project(hub);
    const text = hub.name || hub.hub_id;
    const width = [...text].reduce((w, c) => w + (c.charCodeAt(0) > 255 ? 1 : 0.6), 0) * LABEL_FONT;
    for (const [dx, dy] of LABEL_SLOTS) {
      const left = dx > 0 ? x + dx : x + dx - width;
      const box = { left, right: left + width, top: y + dy - LABEL_FONT, bottom: y + dy + 2 };
      const clear = taken.every(
        (b) => box.right < b.left || box.left > b.right || box.bottom < b.top || box.top > b.bottom,
      );
      if (!clear) continue;
      taken.push(box);
      const level = levelOf(hub.level);
      if (Math.abs(dy) > 12) {
        parts.push(`<line class="leader" data-level="${level}" x1="${x.toFixed(1)}" y1="${y.toFixed(1)}"
          x2="${(dx > 0 ? left : left + width).toFixed(1)}" y2="${(y + dy - 4).toFixed(1)}"/>`);
      }
      parts.push(`<text class="hub-label" data-level="${level}" x="${left.toFixed(1)}"
        y="${(y + dy).toFixed(1)}">${esc(text)}</text>`);
      break;
    }
  }
  return parts.join("");
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
        <div class="summary">${esc(summary ?? "")}</div>
        <div class="when">${esc(t("since", { t: fmtTime(alert.started_at) }))}</div>
      </li>`;
    })
    .join("");
}
