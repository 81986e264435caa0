// The panels: national banner, hubs nearest to overflow, provinces, alert feed. They read the
// fields the API declares (app/api/models: NetworkStatus, ProvinceStatus, HubState, AlertOut)
// by name and nothing else; tests/app/test_board.py checks every name read here against them.

import {
  carrierName, fieldName, lang, levelName, levelShort, provinceName, ruleName, t,
} from "./i18n.js";
import {
  LEVELS, chip, countHubs, esc, fmtCount, fmtPercent, fmtEta, fmtTime, isNum, levelOf, rank,
} from "./format.js";

/** Hubs per level out of a roll-up's hubs_<level> fields (NetworkStatus, ProvinceStatus). */
function levelCounts(rollup) {
  return Object.fromEntries(
    LEVELS.map((level) => [level, isNum(rollup?.[`hubs_${level}`]) ? rollup[`hubs_${level}`] : 0]),
  );
}

// The national shares shown under the flows, in this order (NetworkStatus fields, all ratios).
const BANNER_SHARES = ["utilization", "key_nodes_orange_capacity_ratio", "hubs_silent_ratio"];

/** The banner: network level, national flows, watermark, hubs per level. */
export function renderBanner(network, hubs) {
  const level = levelOf(network?.level);
  const box = document.getElementById("network-level");
  box.dataset.level = level;
  document.getElementById("network-level-name").textContent = levelName(level);
  document.body.dataset.networkLevel = level;

  document.getElementById("kpi-arrivals").textContent = fmtCount(network?.arrivals_per_min);
  document.getElementById("kpi-departures").textContent = fmtCount(network?.departures_per_min);
  const ratio = network?.departure_arrival_ratio;
  document.getElementById("kpi-ratio").textContent = isNum(ratio)
    ? `${t("departure_ratio")} ${ratio.toFixed(2)}`
    : "";
  document.getElementById("kpi-watermark").textContent = network?.watermark
    ? fmtTime(network.watermark)
    : t("watermark_none");

  const counts = network ? levelCounts(network) : countHubs(hubs);
  document.getElementById("level-counts").innerHTML = [...LEVELS]
    .reverse()
    .map(
      (lvl) => `<span class="level-count" data-level="${lvl}">
        <span class="n">${esc(fmtCount(counts[lvl] ?? 0))}</span>
        <span class="name">${esc(levelShort(lvl))}</span></span>`,
    )
    .join("");

  document.getElementById("kpi-extra").textContent = BANNER_SHARES.filter((key) =>
    isNum(network?.[key]),
  )
    .map((key) => `${fieldName(key)} ${fmtPercent(network[key])}`)
    .join(" · ");
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

/** Province tiles: the API's roll-up per province, with the fullest hub from the hub list. */
export function provinceRows(apiRows, hubs) {
  const maxUtil = new Map();
  for (const hub of hubs) {
    if (isNum(hub.utilization)) {
      maxUtil.set(hub.province, Math.max(maxUtil.get(hub.province) ?? 0, hub.utilization));
    }
  }
  const rows = apiRows.map((item) => ({
    province: item.province,
    level: levelOf(item.worst_hub_level),
    hubs: item.hubs,
    counts: levelCounts(item),
    maxUtil: maxUtil.get(item.province) ?? null,
  }));
  return rows.sort(
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
