// The live board: reads the API every few seconds, follows the alert stream, and redraws.

import {
  AuthError, adoptKeyFromUrl, alertOf, followStream, forgetKey, getAllHubs, getFiringAlerts, getJSON,
  loadKey, saveKey,
} from "./api.js";
import { applyStatic, initLang, lang, setLang, t } from "./i18n.js";
import { fmtTime } from "./format.js";
import { renderMap } from "./map.js";
import {
  nearestToOverflow, provinceRows, renderAlerts, renderBanner, renderNearest, renderProvinces,
} from "./views.js";

const REFRESH_MS = 5000;
const RESOLVED_KEEP_MS = 120000; // a resolved alert stays on the feed, dimmed, this long
const FEED_MAX = 100;

const state = {
  key: "",
  network: null,
  provinces: [],
  hubs: [],
  hubsById: new Map(),
  alerts: new Map(), // id → {alert, seenAt, fresh}
  streamState: "connecting",
  pollOk: null,
  updatedAt: null,
  stream: null, // AbortController of the running stream
  timer: null,
  loadedOnce: false, // alerts found by the first poll are not "new"
};

function render() {
  const nearest = nearestToOverflow(state.hubs);
  renderBanner(state.network, state.hubs);
  renderMap(state.hubs, nearest);
  renderNearest(nearest);
  renderProvinces(provinceRows(state.provinces, state.hubs));
  renderFeed();
  renderLinkStatus();
}

function renderFeed() {
  const now = Date.now();
  for (const [id, entry] of state.alerts) {
    if (entry.alert.state === "resolved" && now - entry.seenAt > RESOLVED_KEEP_MS) {
      state.alerts.delete(id);
    }
  }
  const entries = [...state.alerts.values()]
    .sort((a, b) => b.seenAt - a.seenAt || changedAt(b.alert) - changedAt(a.alert))
    .slice(0, FEED_MAX);
  renderAlerts(entries, state.hubsById, now);
}

function changedAt(alert) {
  const when = Date.parse(alert.resolved_at || alert.acked_at || alert.started_at || "");
  return Number.isNaN(when) ? 0 : when;
}

function renderLinkStatus() {
  const box = document.getElementById("link-status");
  // a failed poll outranks the stream's view: the screen may be showing stale numbers
  const status = state.pollOk === false ? "offline" : state.streamState;
  box.dataset.state = status;
  document.getElementById("link-status-text").textContent = t(`status_${status}`);
  document.getElementById("updated-at").textContent = state.updatedAt
    ? t("updated_at", { t: fmtTime(state.updatedAt.toISOString(), { date: false }) })
    : "";
}

/** Firing alerts from a poll: add new ones, keep what the stream told us, drop the vanished. */
function mergeFiring(list) {
  const now = Date.now();
  const ids = new Set();
  for (const alert of list) {
    if (!alert || alert.id === undefined || alert.id === null) continue;
    const id = String(alert.id);
    ids.add(id);
    const known = state.alerts.get(id);
    if (known) state.alerts.set(id, { ...known, alert });
    else state.alerts.set(id, { alert, seenAt: state.loadedOnce ? now : 0, fresh: state.loadedOnce });
  }
  for (const [id, entry] of state.alerts) {
    if (!ids.has(id) && entry.alert.state !== "resolved") state.alerts.delete(id);
  }
}

function onStreamAlert(message, eventName) {
  const alert = alertOf(message);
  if (!alert) return;
  const id = String(alert.id);
  const known = state.alerts.get(id);
  const kind = message.kind ?? eventName;
  // pending: not yet an alert for the duty room; cancelled: a pending one that never fired
  if (kind === "cancelled" || alert.state === "pending") {
    if (state.alerts.delete(id)) renderFeed();
    return;
  }
  const changed =
    !known ||
    ["state", "level", "acked_by", "resolved_at"].some((f) => known.alert[f] !== alert[f]);
  state.alerts.set(id, changed ? { alert, seenAt: Date.now(), fresh: true } : { ...known, alert });
  renderFeed();
}

async function refresh() {
  const key = state.key;
  const [network, provinces, hubs, alerts] = await Promise.allSettled([
    getJSON("v1/network", key),
    getJSON("v1/provinces", key),
    getAllHubs(key),
    getFiringAlerts(key, FEED_MAX),
  ]);
  if (key !== state.key) return; // the key changed while we waited: a newer refresh follows
  const results = [network, provinces, hubs, alerts];
  if (results.some((r) => r.status === "rejected" && r.reason instanceof AuthError)) {
    askForKey(true);
    return;
  }
  if (network.status === "fulfilled") state.network = network.value;
  if (provinces.status === "fulfilled") state.provinces = provinces.value;
  if (hubs.status === "fulfilled") {
    state.hubs = hubs.value.hubs.filter((hub) => hub && typeof hub === "object");
    state.hubsById = new Map(state.hubs.map((hub) => [hub.hub_id, hub]));
  }
  if (alerts.status === "fulfilled") {
    mergeFiring(alerts.value);
    state.loadedOnce = true;
  }
  state.pollOk = results.some((r) => r.status === "fulfilled");
  if (state.pollOk) state.updatedAt = new Date();
  for (const r of results) if (r.status === "rejected") console.warn("board:", r.reason);
  render();
}

function schedule() {
  clearTimeout(state.timer);
  state.timer = setTimeout(async () => {
    try {
      await refresh();
    } finally {
      if (state.key) schedule();
    }
  }, REFRESH_MS);
}

function startStream() {
  state.stream?.abort();
  const controller = new AbortController();
  state.stream = controller;
  followStream("v1/alerts/stream", state.key, {
    signal: controller.signal,
    onMessage: onStreamAlert,
    onState: (s) => {
      state.streamState = s;
      renderLinkStatus();
    },
    onAuthError: () => askForKey(true),
  });
}

async function start() {
  stop();
  state.key = loadKey();
  if (!state.key) {
    askForKey(false);
    return;
  }
  startStream();
  await refresh();
  if (state.key) schedule();
}

function stop() {
  state.stream?.abort();
  state.stream = null;
  clearTimeout(state.timer);
}

function askForKey(invalid) {
  if (invalid) {
    stop();
    forgetKey();
    state.key = "";
  }
  const dialog = document.getElementById("key-dialog");
  document.getElementById("key-error").hidden = !invalid;
  if (!dialog.open) dialog.showModal();
  document.getElementById("key-input").focus();
}

function wireControls() {
  document.getElementById("key-form").addEventListener("submit", (event) => {
    const input = document.getElementById("key-input");
    const key = input.value.trim();
    if (!key) {
      event.preventDefault();
      return;
    }
    saveKey(key);
    input.value = "";
    start();
  });
  document.getElementById("key-dialog").addEventListener("cancel", (event) => {
    if (!state.key) event.preventDefault(); // nothing to show without a key
  });
  document.getElementById("key-button").addEventListener("click", () => askForKey(false));
  document.getElementById("lang-toggle").addEventListener("click", () => {
    setLang(lang() === "zh" ? "en" : "zh");
    applyStatic();
    render();
  });
}

function tickClock() {
  document.getElementById("clock").textContent = fmtTime(new Date().toISOString());
}

function boot() {
  initLang();
  applyStatic();
  adoptKeyFromUrl();
  wireControls();
  tickClock();
  setInterval(tickClock, 1000);
  render();
  start();
}

boot();
