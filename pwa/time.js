// Local dates and ISO weeks in the deployment's time zone (not the phone's), as SPEC §4 counts
// them; mirrors sync/weeks.py. Dates are 'YYYY-MM-DD' strings, weeks '2026-W47'.

export const DEFAULT_TZ = 'Asia/Shanghai';
const DAY_MS = 86400000;
const formatters = new Map();

function partsFormatter(tz) {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** {year, month, day, hour, minute, second} of instant `ms` on the wall clocks of `tz`. */
export function localParts(ms, tz = DEFAULT_TZ) {
  const out = {};
  for (const p of partsFormatter(tz).formatToParts(new Date(ms))) {
    if (p.type !== 'literal') out[p.type] = Number(p.value);
  }
  if (out.hour === 24) out.hour = 0; // older engines write midnight as 24
  return out;
}

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** Minutes east of UTC in `tz` at instant `ms`. */
export function offsetMinutes(ms, tz = DEFAULT_TZ) {
  const p = localParts(ms, tz);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60000);
}

/** RFC 3339 with the zone's offset, e.g. '2026-11-22T08:00:00+08:00'. */
export function rfc3339(ms, tz = DEFAULT_TZ) {
  const p = localParts(ms, tz);
  const off = offsetMinutes(ms, tz);
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** The instant of local wall time 'YYYY-MM-DDTHH:MM' in `tz` (for time inputs). */
export function fromLocalInput(value, tz = DEFAULT_TZ) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || '');
  if (!m) return NaN;
  const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
  let ms = guess - offsetMinutes(guess, tz) * 60000;
  ms = guess - offsetMinutes(ms, tz) * 60000; // second pass settles a daylight-saving edge
  return ms;
}

/** 'YYYY-MM-DDTHH:MM' of instant `ms` in `tz` (for datetime-local inputs). */
export function toLocalInput(ms, tz = DEFAULT_TZ) {
  const p = localParts(ms, tz);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}`;
}

/** The local date ('YYYY-MM-DD') in `tz` of an instant (ms or an RFC 3339 string). */
export function localDate(instant, tz = DEFAULT_TZ) {
  const ms = typeof instant === 'number' ? instant : Date.parse(instant);
  const p = localParts(ms, tz);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

/** Local hour (0..23) in `tz` of an instant; `am` is hour < 12 (SPEC §4). */
export function localHour(instant, tz = DEFAULT_TZ) {
  const ms = typeof instant === 'number' ? instant : Date.parse(instant);
  return localParts(ms, tz).hour;
}

// Calendar arithmetic on plain dates is done in UTC, where every day has 24 hours.
const dateMs = (d) => Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10));
const msDate = (ms) => new Date(ms).toISOString().slice(0, 10);

export function addDays(d, n) { return msDate(dateMs(d) + n * DAY_MS); }

/** ISO weekday of a date, Monday = 1 … Sunday = 7. */
export function weekday(d) { return ((new Date(dateMs(d)).getUTCDay() + 6) % 7) + 1; }

/** The ISO week containing date `d`, e.g. '2026-W47'. */
export function weekOfDate(d) {
  const thursday = addDays(d, 4 - weekday(d)); // the ISO year is the year of the week's Thursday
  const year = +thursday.slice(0, 4);
  const jan1 = dateMs(`${year}-01-01`);
  const number = Math.floor((dateMs(thursday) - jan1) / DAY_MS / 7) + 1;
  return `${year}-W${pad(number)}`;
}

/** The ISO week of an instant's local date in `tz`. */
export function weekOf(instant, tz = DEFAULT_TZ) { return weekOfDate(localDate(instant, tz)); }

/** The Monday ('YYYY-MM-DD') that starts `week`. */
export function weekMonday(week) {
  const m = /^(\d{4})-W(\d{2})$/.exec(week);
  if (!m) throw new Error(`not an ISO week: ${week}`);
  const jan4 = `${m[1]}-01-04`; // 4 January is always in week 1
  return addDays(addDays(jan4, 1 - weekday(jan4)), (+m[2] - 1) * 7);
}

/** The seven local dates of `week`, Monday first. */
export function weekDates(week) {
  const monday = weekMonday(week);
  return [0, 1, 2, 3, 4, 5, 6].map((n) => addDays(monday, n));
}

export function previousWeek(week) { return weekOfDate(addDays(weekMonday(week), -7)); }
