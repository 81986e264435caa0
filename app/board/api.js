// Talking to the peakwatch API: the bearer key, JSON reads, and the alert stream.
// The stream is read with fetch() because EventSource cannot send an Authorization header.

const KEY_STORAGE_KEY = "peakwatch.board.key";

export class AuthError extends Error {
  constructor(status) {
    super(`API answered ${status}`);
    this.status = status;
  }
}

/** Take `?key=` from the address bar once, keep it, and remove it from the URL and history. */
export function adoptKeyFromUrl() {
  const url = new URL(window.location.href);
  const key = url.searchParams.get("key");
  if (key === null) return;
  if (key.trim()) saveKey(key.trim());
  url.searchParams.delete("key");
  window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
}

export function loadKey() {
  try {
    return localStorage.getItem(KEY_STORAGE_KEY) || "";
  } catch {
    return memoryKey;
  }
}

let memoryKey = "";

export function saveKey(key) {
  memoryKey = key;
  try {
    localStorage.setItem(KEY_STORAGE_KEY, key);
  } catch {
    // private mode: the key lasts for this page only
  }
}

export function forgetKey() {
  memoryKey = "";
  try {
    localStorage.removeItem(KEY_STORAGE_KEY);
  } catch {
    // nothing stored
  }
}

/** GET a JSON document relative to the page; AuthError on 401/403, Error on anything else. */
export async function getJSON(path, key, { timeoutMs = 8000 } = {}) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const response = await fetch(path, {
      headers: { Authorization: `Bearer ${key}`, Accept: "application/json" },
      cache: "no-store",
      signal: abort.signal,
    });
    if (response.status === 401 || response.status === 403) throw new AuthError(response.status);
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return await response.json();
  } finally {
    clearTimeout(timer);
  }
}

/** Every hub (HubPage pages: {total, limit, offset, hubs}), following the pages. */
export async function getAllHubs(key, pageSize = 5000, maxPages = 10) {
  const hubs = [];
  let total = 0;
  for (let page = 0; page < maxPages; page += 1) {
    const body = await getJSON(`v1/hubs?limit=${pageSize}&offset=${hubs.length}`, key);
    total = body.total;
    hubs.push(...body.hubs);
    if (body.hubs.length === 0 || hubs.length >= total) break;
  }
  return { total, hubs };
}

/** The firing alerts, newest first (one AlertPageOut page of at most `limit`). */
export async function getFiringAlerts(key, limit) {
  const page = await getJSON(`v1/alerts?state=firing&limit=${limit}`, key);
  return page.alerts;
}

/** The alert of one stream message (AlertChangeOut: {event_id, kind, at, ..., alert}). */
export function alertOf(message) {
  const alert = message?.alert;
  return alert && typeof alert === "object" && typeof alert.id === "string" ? alert : null;
}

/**
 * Split text/event-stream bytes into events. Feed it decoded text with push(); it calls
 * onEvent({event, data, id}) for each complete event. Handles \n, \r\n and \r line ends,
 * multi-line data, comments and chunks that end mid-line.
 */
export class EventStreamParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.data = [];
    this.event = "";
    this.id = null;
  }

  push(text) {
    this.buffer += text;
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf("\r", start);
      const lf = this.buffer.indexOf("\n", start);
      if (cr === -1 && lf === -1) break;
      let end;
      let next;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        // a lone \r at the end of a chunk may be the first half of \r\n: wait for more
        if (cr === this.buffer.length - 1) break;
        end = cr;
        next = this.buffer[cr + 1] === "\n" ? cr + 2 : cr + 1;
      } else {
        end = lf;
        next = lf + 1;
      }
      this.line(this.buffer.slice(start, end));
      start = next;
    }
    this.buffer = this.buffer.slice(start);
  }

  line(text) {
    if (text === "") {
      if (this.data.length > 0) {
        this.onEvent({ event: this.event || "message", data: this.data.join("\n"), id: this.id });
      }
      this.reset();
      return;
    }
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id") this.id = value;
  }
}

/**
 * Follow `path` as a server-sent event stream until `signal` aborts, reconnecting with
 * exponential back-off (1 s doubling to 30 s, with jitter; back to 1 s once a connection has
 * stayed up for a while, so a service that accepts and drops at once is not hammered). Calls onMessage(parsedJSON) per
 * event, onState("connecting"|"live"|"reconnecting") as the link changes, onAuthError() and
 * stops on 401/403.
 */
const STABLE_MS = 15000;
// A link that has said nothing (not even a keep-alive comment) this long is presumed dead: a
// proxy or NAT may have dropped it without closing it.
const IDLE_MS = 75000;

export async function followStream(path, key, { onMessage, onState, onAuthError, signal }) {
  let backoffMs = 1000;
  let lastEventId = null;
  const deliver = (event) => {
    if (event.id) lastEventId = event.id;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      return; // not JSON (a heartbeat or a plain-text note): nothing to show
    }
    onMessage(message, event.event);
  };
  while (!signal.aborted) {
    onState("connecting");
    const link = new AbortController();
    const dropLink = () => link.abort();
    signal.addEventListener("abort", dropLink, { once: true });
    let idle = setTimeout(dropLink, IDLE_MS);
    try {
      const headers = { Authorization: `Bearer ${key}`, Accept: "text/event-stream" };
      if (lastEventId) headers["Last-Event-ID"] = lastEventId;
      const response = await fetch(path, { headers, cache: "no-store", signal: link.signal });
      if (response.status === 401 || response.status === 403) {
        onAuthError(response.status);
        return;
      }
      if (!response.ok || !response.body) throw new Error(`stream: HTTP ${response.status}`);
      onState("live");
      const connectedAt = Date.now();
      const parser = new EventStreamParser(deliver);
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        clearTimeout(idle);
        idle = setTimeout(dropLink, IDLE_MS);
        parser.push(decoder.decode(value, { stream: true }));
        if (Date.now() - connectedAt > STABLE_MS) backoffMs = 1000;
      }
    } catch (error) {
      if (!signal.aborted) console.warn("board: alert stream:", error);
    } finally {
      clearTimeout(idle);
      signal.removeEventListener("abort", dropLink);
    }
    if (signal.aborted) return;
    onState("reconnecting");
    const waitMs = backoffMs * (0.8 + Math.random() * 0.4);
    backoffMs = Math.min(backoffMs * 2, 30000);
    await sleep(waitMs, signal);
  }
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener("abort", stop, { once: true });
  });
}
