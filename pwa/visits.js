// The doctor's visits as the phone shows them: what the server has (replica) with the outbox laid
// on top, and the edits a doctor makes (check in, check out, edit, delete), each a new outbox entry.
import * as outbox from './outbox.js';
import * as replica from './replica.js';
import { rfc3339 } from './time.js';

export const SERVICES = ['consultation', 'bp_check', 'glucose_check', 'chronic_followup', 'health_education', 'vaccination', 'maternal_child', 'other'];
export const MAX_NOTES = 2000;
export const MAX_PATIENTS = 500;

const DATA_FIELDS = ['village', 'kind', 'started_at', 'ended_at', 'patients_seen', 'services', 'notes', 'location'];

function fromRecord(r, doctor) {
  return { ...r.data, id: r.id, rev: r.rev, doctor: r.data.doctor || doctor, flags: r.data.flags || [], deleted: !!r.deleted, state: 'synced', errors: [] };
}

/**
 * {synced, local}: the visits as the server has them, and with the outbox applied (each marked
 * `state` synced | pending | rejected). Deleted ones stay in `local` (flag `deleted`) for week.js.
 */
export async function loadVisits(doctor, store = replica.defaultStore()) {
  const synced = (await replica.recordsOfType('visit', store)).map((r) => fromRecord(r, doctor));
  const byId = new Map(synced.map((v) => [v.id, v]));
  for (const e of await outbox.list(store)) {
    if (e.type !== 'visit' || (e.owner && e.owner !== doctor)) continue;
    const base = byId.get(e.id);
    byId.set(e.id, {
      ...(base || {}), ...e.data, id: e.id, rev: base?.rev ?? 0, doctor, flags: base?.flags || [],
      deleted: e.deleted, state: e.state, errors: e.errors || [],
    });
  }
  return { synced, local: [...byId.values()] };
}

/** `ctx`: {store, clock, user, tz, now()}; the edit is durable when this resolves. */
async function save(ctx, id, data, { deleted = false } = {}) {
  const waiting = await outbox.get(id, ctx.store);
  const record = waiting ? null : await replica.getRecord('visit', id, ctx.store);
  const edit = {
    type: 'visit', id, owner: ctx.user.id, change_id: crypto.randomUUID(),
    base_rev: waiting ? waiting.base_rev : (record?.rev ?? 0), hlc: ctx.clock.tick(), deleted,
    data: Object.fromEntries(DATA_FIELDS.map((k) => [k, data[k] ?? null])),
  };
  edit.data.services = data.services || [];
  edit.data.notes = data.notes || '';
  edit.data.patients_seen = data.patients_seen ?? 0;
  await replica.setMeta('hlc', ctx.clock.state, ctx.store);
  await outbox.enqueue(edit, ctx.store);
  return edit;
}

async function current(ctx, id) {
  const { local } = await loadVisits(ctx.user.id, ctx.store);
  const v = local.find((x) => x.id === id);
  if (!v) throw new Error(`no visit ${id}`);
  return v;
}

/** One tap: a duty check-in or the start of a patrol, now. Location may follow (`setLocation`). */
export async function checkIn(ctx, { village, kind, location = null }) {
  const id = crypto.randomUUID();
  await save(ctx, id, { village, kind, started_at: rfc3339(ctx.now(), ctx.tz), ended_at: null, patients_seen: 0, services: [], notes: '', location });
  return id;
}

export async function checkOut(ctx, id) {
  const v = await current(ctx, id);
  return save(ctx, id, { ...v, ended_at: rfc3339(Math.max(ctx.now(), Date.parse(v.started_at) + 60000), ctx.tz) });
}

export async function updateVisit(ctx, id, patch) {
  const v = await current(ctx, id);
  return save(ctx, id, { ...v, ...patch }, { deleted: v.deleted });
}

export async function deleteVisit(ctx, id) {
  const v = await current(ctx, id);
  return save(ctx, id, v, { deleted: true });
}

/** Give up a waiting (usually rejected) edit: the server's copy, if any, stands. */
export function discardEdit(ctx, id) {
  return outbox.discard(id, ctx.store);
}

/** The visit in progress (checked in, not out), latest first. */
export function openVisit(visits) {
  return visits.filter((v) => !v.ended_at && !v.deleted).sort((a, b) => b.started_at.localeCompare(a.started_at))[0] || null;
}

/** Errors of a visit's fields before they go out (the server checks again: SPEC §5). */
export function checkVisit(v) {
  const errors = [];
  if (v.ended_at && Date.parse(v.ended_at) <= Date.parse(v.started_at)) errors.push('ended_before_started');
  if (v.ended_at && Date.parse(v.ended_at) - Date.parse(v.started_at) > 16 * 3600000) errors.push('too_long');
  if (!Number.isInteger(v.patients_seen) || v.patients_seen < 0 || v.patients_seen > MAX_PATIENTS) errors.push('patients');
  if ((v.notes || '').length > MAX_NOTES) errors.push('notes');
  return errors;
}
