// Strings and local date formats: t(key, params) over pwa/i18n/<lang>.json; Chinese first.
import { addDays, weekMonday } from './time.js';

export const LANGUAGES = ['zh-CN', 'en'];
const KEY = 'cunyi.lang';
let lang = 'zh-CN';
let catalog = {};

export function savedLanguage() {
  try { return LANGUAGES.includes(localStorage.getItem(KEY)) ? localStorage.getItem(KEY) : 'zh-CN'; } catch { return 'zh-CN'; }
}

/** Load the catalog of `next` (served from the precache offline) and make it current. */
export async function loadLanguage(next, fetchFn = (...a) => fetch(...a)) {
  const chosen = LANGUAGES.includes(next) ? next : 'zh-CN';
  const res = await fetchFn(new URL(`./i18n/${chosen}.json`, import.meta.url));
  catalog = await res.json();
  lang = chosen;
  try { localStorage.setItem(KEY, chosen); } catch { /* private mode */ }
  if (globalThis.document) document.documentElement.lang = chosen;
}

export function language() { return lang; }

/** The string for `key` with `{name}` placeholders filled from `params`; the key itself if missing. */
export function t(key, params = {}) {
  const s = catalog[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (params[k] ?? ''));
}

const cache = new Map();
function fmt(tz, options) {
  const k = `${lang}|${tz}|${JSON.stringify(options)}`;
  if (!cache.has(k)) cache.set(k, new Intl.DateTimeFormat(lang, { timeZone: tz, ...options }));
  return cache.get(k);
}
const toDate = (x) => (x instanceof Date ? x : new Date(typeof x === 'string' && x.length === 10 ? `${x}T12:00:00Z` : x));

/** 11月18日 周三 / Wed, Nov 18 — for a plain date 'YYYY-MM-DD' pass tz 'UTC'. */
export const formatDate = (x, tz) => fmt(tz, { month: 'short', day: 'numeric', weekday: 'short' }).format(toDate(x));
export const formatTime = (x, tz) => fmt(tz, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(toDate(x));
/** 11月30日–12月6日 / Nov 30 – Dec 6: a week as doctors say it (they don't count ISO weeks). */
export function formatWeek(week) {
  const monday = weekMonday(week);
  const f = fmt('UTC', { month: 'short', day: 'numeric' });
  return `${f.format(toDate(monday))}${lang === 'en' ? ' – ' : '–'}${f.format(toDate(addDays(monday, 6)))}`;
}
export const formatDateTime = (x, tz) => fmt(tz, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(toDate(x));
