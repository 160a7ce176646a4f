import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDBFactory } from 'fake-indexeddb';
import { openDatabase } from '../../pwa/idb.js';
import * as outbox from '../../pwa/outbox.js';
import * as replica from '../../pwa/replica.js';
import { createApi } from '../../pwa/api.js';
import { createClock } from '../../pwa/hlc.js';
import { backoffDelay, batches, createSync, BACKOFF_CAP_MS } from '../../pwa/sync.js';

const DEVICE = 'dev-1';
const VILLAGE = '450225100201';
let n = 0;

/** A fake server: `handlers[path]` answers a request with {status, body, headers}. */
function fakeFetch(handlers) {
  const calls = [];
  const fetchFn = async (url, init) => {
    const path = url.replace(/^\/api/, '').split('?')[0];
    const body = init.body ? JSON.parse(init.body) : null;
    calls.push({ path, url, body, headers: init.headers });
    const h = handlers[path];
    if (!h) throw new TypeError('Failed to fetch');
    const out = await h(body, url, calls);
    if (out instanceof Error) throw out;
    return {
      ok: out.status >= 200 && out.status < 300, status: out.status, statusText: '',
      headers: { get: (k) => (out.headers || {})[k] ?? null },
      json: async () => out.body,
    };
  };
  return { fetchFn, calls };
}

const emptyPull = () => ({ status: 200, body: { changes: [], cursor: 'c1', more: false } });
const pushedRecords = (calls) => calls.filter((c) => c.path === '/sync/push').map((c) => c.body.records);

function setup(handlers, { token = 'tok' } = {}) {
  const store = openDatabase({ name: `sync-test-${++n}`, factory: new IDBFactory() });
  const { fetchFn, calls } = fakeFetch({ '/sync/pull': emptyPull, ...handlers });
  let t = Date.parse('2026-11-18T10:00:00+08:00');
  const state = { signedOut: 0 };
  const session = { token, device_id: DEVICE, user: { id: 'doc-wei' } };
  const api = createApi({ fetchFn, getToken: () => session.token });
  const clock = createClock(DEVICE, { now: () => t });
  const sync = createSync({
    api, store, clock, tz: 'Asia/Shanghai', appVersion: 'test',
    session: () => session, onSignedOut: () => { state.signedOut += 1; session.token = null; },
    now: () => t, random: () => 0.5,
  });
  return { store, sync, calls, clock, state, advance: (ms) => { t += ms; } };
}

async function queueVisit(store, patch = {}) {
  const e = {
    type: 'visit', id: crypto.randomUUID(), owner: 'doc-wei', change_id: crypto.randomUUID(), base_rev: 0,
    hlc: '001763431200000-00000-dev-1', deleted: false,
    data: { village: VILLAGE, kind: 'duty', started_at: '2026-11-18T08:00:00+08:00', ended_at: '2026-11-18T17:00:00+08:00', patients_seen: 7, services: ['bp_check'], notes: '韦医生', location: null },
    ...patch,
  };
  await outbox.enqueue(e, store);
  return e;
}

const result = (rec, status, extra = {}) => ({ id: rec.id, status, rev: 1, flags: [], errors: [], record: { type: 'visit', id: rec.id, rev: 1, deleted: false, data: { ...rec.data, flags: [] } }, ...extra });

test('applied and duplicate results leave the outbox and land in the replica', async () => {
  let a; let b;
  const { store, sync } = setup({
    '/sync/push': () => ({ status: 200, body: { server_time: 'x', results: [result(a, 'applied'), result(b, 'duplicate')] } }),
  });
  a = await queueVisit(store);
  b = await queueVisit(store);

  const status = await sync.run({ manual: true });

  assert.equal(status.last_error, null);
  assert.equal(await outbox.count(store), 0);
  assert.equal((await replica.getRecord('visit', a.id, store)).rev, 1);
  assert.equal((await replica.getRecord('visit', b.id, store)).rev, 1);
});

test('the push carries device id, device time with offset, device info and the change fields', async () => {
  let a;
  const { store, sync, calls } = setup({
    '/sync/push': () => ({ status: 200, body: { results: [result(a, 'applied')] } }),
  });
  a = await queueVisit(store);

  await sync.run({ manual: true });

  const body = calls.find((c) => c.path === '/sync/push').body;
  assert.equal(body.device_id, DEVICE);
  assert.match(body.device_time, /^2026-11-18T10:00:00\+08:00$/);
  assert.equal(body.device.outbox, 1);
  assert.deepEqual(Object.keys(body.records[0]).sort(), ['base_rev', 'change_id', 'data', 'deleted', 'hlc', 'id', 'type']);
  assert.equal(calls.find((c) => c.path === '/sync/push').headers.Authorization, 'Bearer tok');
});

test('a conflict replaces the local copy with the winner and tells the doctor', async () => {
  let a;
  const winnerHlc = '001763431300000-00000-other-phone';
  const { store, sync, clock } = setup({
    '/sync/push': () => ({ status: 200, body: { results: [result(a, 'conflict', {
      rev: 4, record: { type: 'visit', id: a.id, rev: 4, deleted: false, hlc: winnerHlc, data: { ...a.data, patients_seen: 20, flags: [] } },
    })] } }),
  });
  a = await queueVisit(store, { base_rev: 2 });

  await sync.run({ manual: true });

  assert.equal(await outbox.count(store), 0);
  assert.equal((await replica.getRecord('visit', a.id, store)).data.patients_seen, 20);
  const notices = await replica.getMeta('notices', store);
  assert.equal(notices[0].kind, 'conflict');
  assert.ok(clock.tick() > winnerHlc);
});

test('a rejected record stays in the outbox with the server message and is not pushed again', async () => {
  let a;
  const { store, sync, calls } = setup({
    '/sync/push': () => ({ status: 200, body: { results: [{ id: a.id, status: 'rejected', rev: 0, flags: [], errors: [{ field: 'data.notes', code: 'too_long', message: '备注超过2000字' }], record: null }] } }),
  });
  a = await queueVisit(store);

  await sync.run({ manual: true });
  await sync.run({ manual: true });

  const entry = await outbox.get(a.id, store);
  assert.equal(entry.state, 'rejected');
  assert.equal(entry.errors[0].message, '备注超过2000字');
  assert.equal(pushedRecords(calls).length, 1);
});

test('a 401 keeps the outbox and asks to sign in again', async () => {
  const { store, sync, state } = setup({
    '/sync/push': () => ({ status: 401, body: { error: { code: 'token_revoked', message: 'revoked', details: [] } } }),
  });
  await queueVisit(store);

  const status = await sync.run({ manual: true });

  assert.equal(status.last_error, 'signed_out');
  assert.equal(state.signedOut, 1);
  assert.equal(await outbox.count(store), 1);
});

test('a 413 splits the batch until each half fits', async () => {
  const queued = [];
  const { store, sync, calls } = setup({
    '/sync/push': (body) => (body.records.length > 2
      ? { status: 413, body: { error: { code: 'too_large', message: 'too large', details: [] } } }
      : { status: 200, body: { results: body.records.map((r) => result(r, 'applied')) } }),
  });
  for (let i = 0; i < 5; i += 1) queued.push(await queueVisit(store));

  await sync.run({ manual: true });

  assert.equal(await outbox.count(store), 0);
  const sizes = pushedRecords(calls).map((r) => r.length);
  assert.deepEqual(sizes, [5, 3, 2, 1, 2]);
});

test('a 5xx keeps the outbox and backs off; the automatic retry waits, the button does not', async () => {
  let fail = true;
  let a;
  const { store, sync, calls, advance } = setup({
    '/sync/push': () => (fail ? { status: 503, body: { error: { code: 'unavailable', message: 'busy', details: [] } } }
      : { status: 200, body: { results: [result(a, 'applied')] } }),
  });
  a = await queueVisit(store);

  const first = await sync.run();
  const skipped = await sync.run();
  advance(60 * 1000);
  const second = await sync.run();
  fail = false;
  const third = await sync.run({ manual: true });

  assert.equal(first.last_error, 'server');
  assert.equal(first.failures, 1);
  assert.equal(skipped.failures, 1);
  assert.equal(pushedRecords(calls).length, 3);
  assert.equal(second.failures, 2);
  assert.ok(second.next_attempt_at - first.next_attempt_at > 0);
  assert.equal(third.last_error, null);
  assert.equal(await outbox.count(store), 0);
});

test('a reconnect skips the backoff after a network failure but not after a server error', async () => {
  let answer = () => new TypeError('Failed to fetch');
  let a;
  const { store, sync, calls } = setup({
    '/sync/push': () => answer(),
  });
  a = await queueVisit(store);

  const offline = await sync.run();
  answer = () => ({ status: 500, body: { error: { code: 'internal', message: 'boom', details: [] } } });
  const back = await sync.run({ reconnect: true });
  answer = () => ({ status: 200, body: { results: [result(a, 'applied')] } });
  const held = await sync.run({ reconnect: true });

  assert.equal(offline.last_error, 'offline');
  assert.equal(back.last_error, 'server');
  assert.equal(held.last_error, 'server'); // the server's backoff stands: no push was made
  assert.equal(pushedRecords(calls).length, 2);
  assert.equal(await outbox.count(store), 1);
});

test('a timeout or no network keeps every item', async () => {
  const { store, sync } = setup({ '/sync/push': () => new TypeError('Failed to fetch') });
  await queueVisit(store);

  const status = await sync.run({ manual: true });

  assert.equal(status.last_error, 'offline');
  assert.equal(await outbox.count(store), 1);
});

test('a 429 waits at least Retry-After', async () => {
  const { store, sync } = setup({
    '/sync/push': () => ({ status: 429, headers: { 'Retry-After': '600' }, body: { error: { code: 'rate_limited', message: 'slow down', details: [] } } }),
  });
  await queueVisit(store);

  const status = await sync.run({ manual: true });

  assert.ok(status.next_attempt_at - Date.parse('2026-11-18T10:00:00+08:00') >= 600 * 1000);
});

test('backoff doubles, is jittered and capped', () => {
  assert.equal(backoffDelay(1, () => 0), 5000);
  assert.equal(backoffDelay(1, () => 1), 10000);
  assert.equal(backoffDelay(3, () => 1), 40000);
  assert.equal(backoffDelay(30, () => 1), BACKOFF_CAP_MS);
});

test('an edit made while its push was in flight stays and is rebased', async () => {
  let a;
  let store;
  const { sync, calls, ...rest } = setup({
    '/sync/push': async (body) => {
      // the doctor edits the visit while the request is on its way
      await outbox.enqueue({ ...a, change_id: crypto.randomUUID(), data: { ...a.data, patients_seen: 9 } }, store);
      return { status: 200, body: { results: body.records.map((r) => result(r, 'applied', { rev: 1 })) } };
    },
  });
  store = rest.store;
  a = await queueVisit(store);

  await sync.run({ manual: true });

  const entry = await outbox.get(a.id, store);
  assert.equal(entry.base_rev, 1);
  assert.equal(entry.data.patients_seen, 9);
  assert.ok(calls.length >= 1);
});

test('an edit queued while a push is in flight goes out in a second pass, not at the next timer', async () => {
  let store;
  let sync;
  let second = null;
  const setupResult = setup({
    '/sync/push': async (body) => {
      if (!second) {
        // checked out while the check-in was on its way; the app asks for a sync, as it does after every edit
        const a = body.records[0];
        await outbox.enqueue({ ...a, owner: 'doc-wei', change_id: crypto.randomUUID(), data: { ...a.data, ended_at: '2026-11-18T17:00:00+08:00' } }, store);
        second = sync.run();
      }
      return { status: 200, body: { results: body.records.map((r) => result(r, 'applied', { rev: pushedRecords(setupResult.calls).length })) } };
    },
  });
  ({ store, sync } = setupResult);
  const a = await queueVisit(store, { data: { village: VILLAGE, kind: 'duty', started_at: '2026-11-18T08:00:00+08:00', ended_at: null, patients_seen: 0, services: [], notes: '', location: null } });

  await sync.run();
  await second;

  const pushes = pushedRecords(setupResult.calls);
  assert.equal(pushes.length, 2);
  assert.equal(pushes[1][0].data.ended_at, '2026-11-18T17:00:00+08:00');
  assert.equal(pushes[1][0].base_rev, 1);
  assert.equal(await outbox.get(a.id, store), undefined);
});

test('pull loops while more and saves the cursor', async () => {
  const pages = {
    '': { changes: [{ type: 'village', id: VILLAGE, rev: 1, deleted: false, data: { code: VILLAGE, name: '小东江村' } }], cursor: 'p1', more: true },
    p1: { changes: [{ type: 'reminder', id: 'r1', rev: 2, deleted: false, data: { title: '本周提醒' } }], cursor: 'p2', more: false },
  };
  const { store, sync, calls } = setup({
    '/sync/pull': (_b, url) => ({ status: 200, body: pages[new URL(url, 'http://x').searchParams.get('cursor')] }),
  });

  await sync.run({ manual: true });

  assert.equal(await replica.getMeta('cursor', store), 'p2');
  assert.equal((await replica.recordsOfType('village', store))[0].data.name, '小东江村');
  assert.equal(calls.filter((c) => c.path === '/sync/pull').length, 2);
});

test('batches hold at most 500 records', () => {
  const entries = Array.from({ length: 1201 }, (_, i) => ({ type: 'visit', id: String(i), change_id: 'c', base_rev: 0, hlc: 'h', deleted: false, data: {} }));

  assert.deepEqual(batches(entries).map((b) => b.length), [500, 500, 201]);
});

test('batches stay under the byte limit', () => {
  const big = 'x'.repeat(2000);
  const entries = Array.from({ length: 10 }, (_, i) => ({ type: 'visit', id: String(i), change_id: 'c', base_rev: 0, hlc: 'h', deleted: false, data: { notes: big } }));

  const out = batches(entries, 500, 5000);

  assert.ok(out.length >= 4);
  assert.equal(out.flat().length, 10);
});
