// Board texts, Chinese first. Elements with data-i18n="key" get their text from here; the
// language choice is kept in localStorage so a duty-room screen comes back in the same language.
// Rule names, level names and value labels come from vocabulary.js, generated from
// core/vocabulary.py (scripts/board_vocabulary.py): the same words as messages and Grafana.

import { VOCABULARY } from "./vocabulary.js";

const STRINGS = {
  zh: {
    page_title: "peakwatch 双11 寄递网络运行监测",
    title: "双11 寄递网络运行监测",
    subtitle: "全网不瘫痪 · 重要节点不爆仓",
    lang_toggle: "EN",
    lang_toggle_title: "Switch to English",
    key_button: "密钥",
    beijing_time: "北京时间",
    network_level: "全网瘫痪风险",
    watermark: "事件时间水位",
    watermark_none: "尚无数据",
    arrivals_per_min: "全网到件 / 分钟",
    departures_per_min: "全网发件 / 分钟",
    departure_ratio: "发到比",
    hubs_by_level: "各级别枢纽数",
    map_title: "枢纽分布",
    map_note: "按经纬度示点，不含边界",
    map_hubs: "枢纽",
    nearest_title: "临近爆仓枢纽",
    nearest_empty: "暂无持续积压的枢纽",
    alerts_title: "实时告警",
    alerts_empty: "暂无告警",
    provinces_title: "各省（区、市）态势",
    provinces_empty: "暂无省级数据",
    tile_hubs: "{n} 枢纽",
    tile_max_util: "最高 {p}",
    eta: "预计爆仓",
    utilization: "利用率",
    backlog: "积压",
    overflowing: "已爆仓",
    under_minute: "<1 分钟",
    minutes: "{m} 分钟",
    hours_minutes: "{h} 小时 {m} 分",
    status_live: "实时",
    status_connecting: "连接中",
    status_reconnecting: "重连中",
    status_offline: "连接中断",
    updated_at: "更新于 {t}",
    resolved: "已恢复",
    acked: "已确认",
    new_alert: "新",
    since: "始于 {t}",
    key_prompt_title: "请输入 API 密钥",
    key_prompt_hint: "密钥只保存在本机浏览器中，用于读取监测数据。",
    key_prompt_ok: "进入",
    key_invalid: "密钥无效或已吊销，请重新输入。",
    key_placeholder: "Bearer 密钥",
    national: "全国",
    key_node: "重点节点",
  },
  en: {
    page_title: "peakwatch Double-11 parcel network watch",
    title: "Double-11 Parcel Network Watch",
    subtitle: "No network paralysis · No key-hub overflow",
    lang_toggle: "中文",
    lang_toggle_title: "切换到中文",
    key_button: "Key",
    beijing_time: "Beijing time",
    network_level: "Network paralysis risk",
    watermark: "Event-time watermark",
    watermark_none: "no data yet",
    arrivals_per_min: "Arrivals / min",
    departures_per_min: "Departures / min",
    departure_ratio: "Departures / arrivals",
    hubs_by_level: "Hubs by level",
    map_title: "Hubs",
    map_note: "points by latitude/longitude, no borders",
    map_hubs: "hubs",
    nearest_title: "Hubs nearest to overflow",
    nearest_empty: "No hub is filling up",
    alerts_title: "Live alerts",
    alerts_empty: "No firing alerts",
    provinces_title: "Provinces",
    provinces_empty: "No province data yet",
    tile_hubs: "{n} hubs",
    tile_max_util: "max {p}",
    eta: "ETA to overflow",
    utilization: "Utilisation",
    backlog: "Backlog",
    overflowing: "Overflowing",
    under_minute: "<1 min",
    minutes: "{m} min",
    hours_minutes: "{h} h {m} min",
    status_live: "Live",
    status_connecting: "Connecting",
    status_reconnecting: "Reconnecting",
    status_offline: "Disconnected",
    updated_at: "Updated {t}",
    resolved: "Resolved",
    acked: "Acked",
    new_alert: "NEW",
    since: "since {t}",
    key_prompt_title: "Enter an API key",
    key_prompt_hint: "The key stays in this browser and is used to read the monitor's data.",
    key_prompt_ok: "Open board",
    key_invalid: "Key unknown or revoked; enter another.",
    key_placeholder: "Bearer key",
    national: "National",
    key_node: "key node",
  },
};

const CARRIER_NAMES_ZH = {
  ZTO: "中通",
  YTO: "圆通",
  YUNDA: "韵达",
  YD: "韵达",
  STO: "申通",
  SF: "顺丰",
  JD: "京东",
  JT: "极兔",
  JTEX: "极兔",
  EMS: "邮政EMS",
  DBL: "德邦",
  DEPPON: "德邦",
  BEST: "百世",
};

// Province-level divisions, Chinese → English, for the English view. Looked up by prefix so
// "浙江" and "浙江省" both match.
const PROVINCE_EN = [
  ["北京", "Beijing"], ["天津", "Tianjin"], ["河北", "Hebei"], ["山西", "Shanxi"],
  ["内蒙古", "Inner Mongolia"], ["辽宁", "Liaoning"], ["吉林", "Jilin"], ["黑龙江", "Heilongjiang"],
  ["上海", "Shanghai"], ["江苏", "Jiangsu"], ["浙江", "Zhejiang"], ["安徽", "Anhui"],
  ["福建", "Fujian"], ["江西", "Jiangxi"], ["山东", "Shandong"], ["河南", "Henan"],
  ["湖北", "Hubei"], ["湖南", "Hunan"], ["广东", "Guangdong"], ["广西", "Guangxi"],
  ["海南", "Hainan"], ["重庆", "Chongqing"], ["四川", "Sichuan"], ["贵州", "Guizhou"],
  ["云南", "Yunnan"], ["西藏", "Xizang"], ["陕西", "Shaanxi"], ["甘肃", "Gansu"],
  ["青海", "Qinghai"], ["宁夏", "Ningxia"], ["新疆", "Xinjiang"], ["香港", "Hong Kong"],
  ["澳门", "Macao"], ["台湾", "Taiwan"],
];

// Board wording for national roll-up fields where it differs from the vocabulary's value label
// (the national total of a hub value); any other field takes the vocabulary's label.
const FIELD_NAMES = {
  zh: {
    hubs_reporting: "在报枢纽",
    key_nodes: "重点节点",
    backlog: "全网积压",
    storage_capacity: "总仓容",
    utilization: "全网利用率",
    arrivals_total: "累计到件",
    departures_total: "累计发件",
  },
  en: {
    hubs_reporting: "Hubs reporting",
    key_nodes: "Key nodes",
    backlog: "Backlog",
    storage_capacity: "Storage capacity",
    utilization: "Utilisation",
    arrivals_total: "Arrivals (total)",
    departures_total: "Departures (total)",
  },
};

const LANG_STORAGE_KEY = "peakwatch.board.lang";

let current = "zh";

export function initLang() {
  const saved = safeGet(LANG_STORAGE_KEY);
  current = saved === "en" ? "en" : "zh";
  return current;
}

export function lang() {
  return current;
}

export function setLang(next) {
  current = next === "en" ? "en" : "zh";
  try {
    localStorage.setItem(LANG_STORAGE_KEY, current);
  } catch {
    // private mode: the choice lasts for this page only
  }
}

/** The text for `key` in the current language, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = STRINGS[current][key] ?? STRINGS.zh[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

export function levelName(level) {
  return VOCABULARY[current].levels[level] ?? String(level ?? "");
}

export function levelShort(level) {
  return VOCABULARY[current].levels_short[level] ?? String(level ?? "");
}

export function ruleName(rule) {
  return VOCABULARY[current].rules[rule] ?? String(rule ?? "");
}

export function carrierName(code) {
  if (!code) return "";
  if (current === "zh") return CARRIER_NAMES_ZH[code] ?? code;
  return code;
}

export function provinceName(province) {
  if (!province) return "";
  if (current === "zh") return province;
  const hit = PROVINCE_EN.find(([zh]) => province.startsWith(zh));
  return hit ? hit[1] : province;
}

export function fieldName(field) {
  return FIELD_NAMES[current][field] ?? VOCABULARY[current].values[field] ?? field.replace(/_/g, " ");
}

/** Fill every [data-i18n] element (and [data-i18n-title], [data-i18n-placeholder]) under `root`. */
export function applyStatic(root = document) {
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
  document.title = t("page_title");
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
}

function safeGet(name) {
  try {
    return localStorage.getItem(name);
  } catch {
    return null;
  }
}
