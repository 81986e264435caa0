// The hub scatter: every hub as a point by latitude and longitude over a faint graticule.
// No borders and no map files: published maps of China must use approved boundaries.

import { carrierName, levelName, provinceName, t } from "./i18n.js";
import {
  LEVELS, LEVEL_COLOURS, esc, fmtCount, fmtEta, fmtPercent, isNum, levelOf, rank,
} from "./format.js";

// Projection: equirectangular over lon 73–135°E, lat 18–54°N, 10 SVG units per degree.
const LON_MIN = 73;
const LON_MAX = 135;
const LAT_MIN = 18;
const LAT_MAX = 54;
const UNITS_PER_DEG = 10;
const RADIUS_BY_TIER = { national: 5, regional: 3.8, city: 2.8, terminal: 2 };

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
