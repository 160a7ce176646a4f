import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { progress, villageWeek } from '../../pwa/week.js';
import { localDate, weekDates, weekOf, weekOfDate, rfc3339, fromLocalInput, weekMonday } from '../../pwa/time.js';

// The cases shared with the Python engine (tests/sync), so the phone and the server agree.
const CASES = new URL('../cases/coverage_examples.json', import.meta.url);
const cases = existsSync(CASES) ? JSON.parse(readFileSync(CASES, 'utf8')) : [];

test('the shared coverage cases are there', () => {
  assert.ok(cases.length >= 10, 'tests/cases/coverage_examples.json is missing or short');
});

for (const c of cases) {
  test(`shared case: ${c.name}`, () => {
    const row = villageWeek({
      village: c.village, week: c.week, exempt: c.exempt, assignments: c.assignments, visits: c.visits, tz: c.tz,
    });

    const got = Object.fromEntries(Object.keys(c.expected).map((k) => [k, row[k]]));
    assert.deepEqual(got, c.expected);
  });
}

const WEI = '韦医生';
const GUDING = { code: '450225100201', name: '古鼎村', needs_coverage: true };
const roster = { id: 'a1', doctor: WEI, village: GUDING.code, kind: 'roster', start: '2026-09-01', end: null, slots: [] };
const duty = (day, from, to, patch = {}) => ({
  id: `${day}-${from}`, doctor: WEI, village: GUDING.code, kind: 'duty',
  started_at: `${day}T${from}:00+08:00`, ended_at: to ? `${day}T${to}:00+08:00` : null, flags: [], deleted: false, dismissed: false, ...patch,
});
const week47 = ['2026-11-16', '2026-11-17', '2026-11-18', '2026-11-19', '2026-11-20'];

test('ISO weeks and local dates use the deployment zone, not the phone', () => {
  assert.equal(weekOfDate('2026-11-16'), '2026-W47');
  assert.equal(weekOfDate('2027-01-01'), '2026-W53');
  assert.equal(weekMonday('2026-W01'), '2025-12-29');
  assert.equal(weekDates('2026-W47')[6], '2026-11-22');
  assert.equal(localDate('2026-11-22T16:30:00Z', 'Asia/Shanghai'), '2026-11-23');
  assert.equal(weekOf('2026-11-22T16:30:00Z', 'Asia/Shanghai'), '2026-W48');
});

test('timestamps are written with the zone offset and read back from input form', () => {
  const ms = Date.parse('2026-11-22T00:00:00Z');

  assert.equal(rfc3339(ms, 'Asia/Shanghai'), '2026-11-22T08:00:00+08:00');
  assert.equal(fromLocalInput('2026-11-22T08:00', 'Asia/Shanghai'), ms);
});

test('progress without a server row is computed from the phone alone', () => {
  const visits = week47.slice(0, 3).map((d) => duty(d, '08:00', '17:00'));

  const row = progress({ village: GUDING, week: '2026-W47', server: null, assignments: [roster], syncedVisits: [], localVisits: visits });

  assert.equal(row.status, 'partial');
  assert.equal(row.duty_days, 3);
  assert.equal(row.duty_required, 5);
  assert.equal(row.pending, true);
});

test('progress adds the days the outbox brings to the server summary', () => {
  const synced = week47.slice(0, 4).map((d) => duty(d, '08:00', '17:00'));
  const local = [...synced, duty('2026-11-20', '08:00', '17:00')];
  const server = { village: GUDING.code, week: '2026-W47', mode: 'roster', status: 'partial', provisional: true, duty_days: 4, duty_required: 5, patrol_days: 0, patrol_required: 0, flags: {} };

  const row = progress({ village: GUDING, week: '2026-W47', server, assignments: [roster], syncedVisits: synced, localVisits: local });

  assert.equal(row.duty_days, 5);
  assert.equal(row.status, 'covered');
  assert.equal(row.pending, true);
});

test('progress keeps the server count for days another doctor covered', () => {
  const server = { mode: 'roster', status: 'partial', provisional: true, duty_days: 2, duty_required: 5, patrol_days: 0, patrol_required: 0 };

  const row = progress({ village: GUDING, week: '2026-W47', server, assignments: [roster], syncedVisits: [], localVisits: [] });

  assert.equal(row.duty_days, 2);
  assert.equal(row.status, 'partial');
  assert.equal(row.pending, false);
});

test('deleting a synced visit in the outbox takes its day away', () => {
  const synced = [duty('2026-11-16', '08:00', '17:00')];
  const local = [duty('2026-11-16', '08:00', '17:00', { deleted: true })];
  const server = { mode: 'roster', status: 'partial', provisional: true, duty_days: 1, duty_required: 5, patrol_days: 0, patrol_required: 0 };

  const row = progress({ village: GUDING, week: '2026-W47', server, assignments: [roster], syncedVisits: synced, localVisits: local });

  assert.equal(row.duty_days, 0);
  assert.equal(row.status, 'uncovered');
});

test('an exempt server row stays exempt', () => {
  const server = { mode: 'roster', status: 'exempt', provisional: false, duty_days: 0, duty_required: 5, patrol_days: 0, patrol_required: 0 };

  const row = progress({ village: GUDING, week: '2026-W47', server, assignments: [roster], syncedVisits: [], localVisits: [duty('2026-11-16', '08:00', '17:00')] });

  assert.equal(row.status, 'exempt');
});
