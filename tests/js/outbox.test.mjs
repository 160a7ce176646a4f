import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDBFactory } from 'fake-indexeddb';
import { openDatabase, DB_VERSION } from '../../pwa/idb.js';
import * as outbox from '../../pwa/outbox.js';

const VILLAGE = '450225100201'; // 融水苗族自治县 某村
let n = 0;
const freshStore = () => openDatabase({ name: `outbox-test-${++n}`, factory: new IDBFactory() });
const visitData = (patch = {}) => ({
  village: VILLAGE, kind: 'duty', started_at: '2026-11-16T08:00:00+08:00', ended_at: null,
  patients_seen: 0, services: [], notes: '', location: null, ...patch,
});
const edit = (patch = {}) => ({
  type: 'visit', id: 'a1b2c3d4-0000-4000-8000-000000000001', owner: 'doc-wei', change_id: crypto.randomUUID(),
  base_rev: 0, hlc: '001763769600000-00000-dev', deleted: false, data: visitData(), ...patch,
});

test('an enqueued edit is listed and counted', async () => {
  const store = freshStore();

  await outbox.enqueue(edit(), store);

  assert.equal(await outbox.count(store), 1);
  const [entry] = await outbox.list(store);
  assert.equal(entry.state, 'pending');
  assert.equal(entry.data.village, VILLAGE);
});

test('the outbox survives closing and reopening the database (a reload)', async () => {
  const factory = new IDBFactory();
  const first = openDatabase({ name: 'reload', factory });
  await outbox.enqueue(edit(), first);
  await first.close();

  const second = openDatabase({ name: 'reload', factory });

  assert.equal(await outbox.count(second), 1);
});

test('edits of one record coalesce: latest data and hlc, earliest base_rev, latest change_id', async () => {
  const store = freshStore();
  await outbox.enqueue(edit({ base_rev: 3, hlc: '001763769600000-00000-dev' }), store);

  const later = edit({ base_rev: 4, hlc: '001763769700000-00000-dev', data: visitData({ patients_seen: 12, notes: '血压随访' }) });
  await outbox.enqueue(later, store);

  const entries = await outbox.list(store);
  assert.equal(entries.length, 1);
  assert.equal(entries[0].base_rev, 3);
  assert.equal(entries[0].change_id, later.change_id);
  assert.equal(entries[0].hlc, later.hlc);
  assert.equal(entries[0].data.notes, '血压随访');
});

test('acknowledging the current change removes the entry', async () => {
  const store = freshStore();
  const e = edit();
  await outbox.enqueue(e, store);

  assert.equal(await outbox.acknowledge(e.id, e.change_id, 1, store), 'removed');

  assert.equal(await outbox.count(store), 0);
});

test('acknowledging an older change keeps the newer edit, rebased on the new revision', async () => {
  const store = freshStore();
  const first = edit();
  await outbox.enqueue(first, store);
  const second = edit({ data: visitData({ patients_seen: 5 }) });
  await outbox.enqueue(second, store);

  const outcome = await outbox.acknowledge(first.id, first.change_id, 1, store);

  assert.equal(outcome, 'rebased');
  const entry = await outbox.get(first.id, store);
  assert.equal(entry.base_rev, 1);
  assert.equal(entry.change_id, second.change_id);
});

test('a rejected entry stays with its errors until edited', async () => {
  const store = freshStore();
  const e = edit();
  await outbox.enqueue(e, store);

  await outbox.reject(e.id, e.change_id, [{ field: 'notes', code: 'too_long', message: '备注过长' }], store);
  const rejected = await outbox.get(e.id, store);
  await outbox.enqueue(edit({ data: visitData({ notes: '短' }) }), store);
  const fixed = await outbox.get(e.id, store);

  assert.equal(rejected.state, 'rejected');
  assert.equal(rejected.errors[0].message, '备注过长');
  assert.equal(fixed.state, 'pending');
  assert.deepEqual(fixed.errors, []);
});

test('a rejection of an older change does not mark a newer edit', async () => {
  const store = freshStore();
  const first = edit();
  await outbox.enqueue(first, store);
  await outbox.enqueue(edit(), store);

  await outbox.reject(first.id, first.change_id, [{ field: 'x', code: 'bad', message: 'bad' }], store);

  assert.equal((await outbox.get(first.id, store)).state, 'pending');
});

test('deleting a record that never left the phone drops it', async () => {
  const store = freshStore();
  await outbox.enqueue(edit(), store);

  const result = await outbox.enqueue(edit({ deleted: true }), store);

  assert.equal(result, null);
  assert.equal(await outbox.count(store), 0);
});

test('deleting a record already sent keeps a tombstone to push', async () => {
  const store = freshStore();
  const e = edit();
  await outbox.enqueue(e, store);
  await outbox.markSent([e.id], store);

  await outbox.enqueue(edit({ deleted: true }), store);

  const entry = await outbox.get(e.id, store);
  assert.equal(entry.deleted, true);
});

test('discard removes an entry', async () => {
  const store = freshStore();
  const e = edit();
  await outbox.enqueue(e, store);

  await outbox.discard(e.id, store);

  assert.equal(await outbox.count(store), 0);
});

test('the schema version only grows', () => {
  assert.ok(DB_VERSION >= 1);
});
