// A village's week on the phone: the coverage rule of SPEC §4, mirroring sync/coverage.py, and
// the merge of the server's `coverage` summary with visits still waiting in the outbox.
import { DEFAULT_TZ, localDate, weekDates } from './time.js';

export const POLICY = Object.freeze({
  duty_days_per_week: 5, duty_min_hours: 6, patrol_visits_per_week: 2, patrol_min_hours: 4,
});

const HOUR_MS = 3600000;
const KIND_OF_ASSIGNMENT = { duty: 'roster', patrol: 'patrol' };

/** Whether assignment `a` covers local date `d` (start and end inclusive; end null = open). */
export function assignmentActiveOn(a, d) {
  return a.start <= d && (a.end == null || d <= a.end);
}

/**
 * Whether a visit counts for coverage (SPEC §4): closed, not deleted, not dismissed, not flagged
 * `overlap` until resolved, and its doctor holds a matching assignment at that village that day.
 */
export function isCounting(visit, assignments, tz = DEFAULT_TZ) {
  if (!visit.ended_at || visit.deleted || visit.dismissed) return false;
  if ((visit.flags || []).includes('overlap') && !visit.overlap_resolved) return false;
  const d = localDate(visit.started_at, tz);
  const kind = KIND_OF_ASSIGNMENT[visit.kind];
  return assignments.some((a) => a.doctor === visit.doctor && a.village === visit.village
    && a.kind === kind && assignmentActiveOn(a, d));
}

/** Dates of `week` on which some doctor's counting total of `kind` at the village reaches `hours`. */
function qualifyingDates(visits, assignments, week, kind, hours, tz) {
  const days = new Set(weekDates(week));
  const totals = new Map(); // "doctor|date" → ms
  for (const v of visits) {
    if (v.kind !== kind || !isCounting(v, assignments, tz)) continue;
    const d = localDate(v.started_at, tz);
    if (!days.has(d)) continue;
    const key = `${v.doctor}|${d}`;
    totals.set(key, (totals.get(key) || 0) + Math.max(0, Date.parse(v.ended_at) - Date.parse(v.started_at)));
  }
  const dates = new Set();
  for (const [key, ms] of totals) if (ms >= hours * HOUR_MS) dates.add(key.split('|')[1]);
  return [...dates].sort();
}

function activeDays(assignments, week, kind) {
  return weekDates(week).filter((d) => assignments.some((a) => a.kind === kind && assignmentActiveOn(a, d))).length;
}

// ceil(per_week × active_days / 7) in integers: a week an assignment starts or ends in asks for less.
const prorated = (perWeek, active) => Math.floor((perWeek * active + 6) / 7);

/**
 * One village-week, as SPEC §4 computes it.
 * `assignments` and `visits` may be of any village: only those of `village.code` are used.
 * Returns {status, mode, duty_days, duty_required, patrol_days, patrol_required, duty_dates, patrol_dates}.
 */
export function villageWeek({ village, week, exempt = false, assignments = [], visits = [], tz = DEFAULT_TZ, policy = POLICY }) {
  const here = assignments.filter((a) => a.village === village.code);
  const mine = visits.filter((v) => v.village === village.code);
  const rosterActive = activeDays(here, week, 'roster');
  const patrolActive = activeDays(here, week, 'patrol');
  const dutyDates = qualifyingDates(mine, here, week, 'duty', policy.duty_min_hours, tz);
  const patrolDates = qualifyingDates(mine, here, week, 'patrol', policy.patrol_min_hours, tz);
  const row = {
    mode: modeOf(rosterActive, patrolActive),
    duty_days: dutyDates.length,
    duty_required: prorated(policy.duty_days_per_week, rosterActive),
    patrol_days: patrolDates.length,
    patrol_required: prorated(policy.patrol_visits_per_week, patrolActive),
    duty_dates: dutyDates,
    patrol_dates: patrolDates,
  };
  row.status = statusOf(row, { exempt, needsCoverage: village.needs_coverage !== false, rosterActive, patrolActive });
  return row;
}

function modeOf(rosterActive, patrolActive) {
  if (rosterActive && patrolActive) return 'both';
  if (rosterActive) return 'roster';
  if (patrolActive) return 'patrol';
  return 'none';
}

/** SPEC §4 status, first match wins. */
export function statusOf(row, { exempt, needsCoverage, rosterActive, patrolActive }) {
  if (exempt) return 'exempt';
  if (row.mode === 'none') return needsCoverage ? 'unassigned' : 'self_served';
  if ((rosterActive > 0 && row.duty_days >= row.duty_required)
    || (patrolActive > 0 && row.patrol_days >= row.patrol_required)) return 'covered';
  if (row.duty_days + row.patrol_days > 0) return 'partial';
  return 'uncovered';
}

/**
 * This week's progress for one village on the phone.
 *
 * The server's summary (`server`, a pulled `coverage` row, or null) knows every doctor's synced
 * visits and the supervisors' flags; the phone knows only its doctor's visits, some not yet
 * synced. So the phone computes its own visits twice, as the server has them (`synced`) and as
 * they are with the outbox applied (`local`), and moves the server's counts by the difference:
 * dates the outbox adds, minus dates it takes away. Without a server row (a new week while
 * offline) the local computation is the answer. Exemptions and requirements come from the
 * server row when there is one.
 */
export function progress({ village, week, server = null, exempt = false, assignments, syncedVisits, localVisits, tz = DEFAULT_TZ }) {
  const local = villageWeek({ village, week, exempt, assignments, visits: localVisits, tz });
  if (!server) return { ...local, provisional: true, pending: !sameVisits(syncedVisits, localVisits, village.code) };
  const synced = villageWeek({ village, week, exempt, assignments, visits: syncedVisits, tz });
  const shift = (mine, theirs, total) => Math.max(0, total + mine.filter((d) => !theirs.includes(d)).length
    - theirs.filter((d) => !mine.includes(d)).length);
  const row = {
    mode: server.mode,
    duty_required: server.duty_required,
    patrol_required: server.patrol_required,
    duty_days: Math.min(7, shift(local.duty_dates, synced.duty_dates, server.duty_days)),
    patrol_days: Math.min(7, shift(local.patrol_dates, synced.patrol_dates, server.patrol_days)),
    flags: server.flags || {},
  };
  const rosterActive = server.duty_required > 0 || server.mode === 'roster' || server.mode === 'both' ? 1 : 0;
  const patrolActive = server.patrol_required > 0 || server.mode === 'patrol' || server.mode === 'both' ? 1 : 0;
  row.status = server.status === 'exempt' || exempt ? 'exempt'
    : statusOf(row, { exempt: false, needsCoverage: village.needs_coverage !== false, rosterActive, patrolActive });
  row.provisional = server.provisional !== false || row.status !== server.status;
  row.pending = row.duty_days !== server.duty_days || row.patrol_days !== server.patrol_days
    || !sameVisits(syncedVisits, localVisits, village.code);
  return row;
}

function sameVisits(a, b, code) {
  const key = (list) => JSON.stringify(list.filter((v) => v.village === code)
    .map((v) => [v.id, v.started_at, v.ended_at, !!v.deleted]).sort());
  return key(a) === key(b);
}
