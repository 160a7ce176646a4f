// Sync with the server (SPEC §6): push the outbox in batches, then pull changes from the saved
// cursor, with capped exponential backoff on failure. Nothing here ever drops an outbox entry
// that the server has not acknowledged.
import * as outbox from './outbox.js';
import * as replica from './replica.js';
import { rfc3339 } from './time.js';

export const MAX_RECORDS = 500;
// 1 MiB per push (SPEC §6), less room for the envelope around the records.
export const MAX_BYTES = 1024 * 1024 - 16 * 1024;
export const PULL_LIMIT = 500;
export const BACKOFF_BASE_MS = 10 * 1000;
export const BACKOFF_CAP_MS = 15 * 60 * 1000;
export const TIMER_MS = 5 * 60 * 1000;

const encoder = new TextEncoder();
const bytes = (value) => encoder.encode(JSON.stringify(value)).length;

/**
 * Delay before automatic try number `failures + 1`: exponential from 10 s, capped at 15 min,
 * with "equal jitter" (a random half on top of a fixed half) so a township's phones that lost the
 * network together do not all come back in the same second.
 */
export function backoffDelay(failures, random = Math.random) {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** The wire form of an outbox entry. */
export function toPushRecord(e) {
  return { type: e.type, id: e.id, change_id: e.change_id, base_rev: e.base_rev, hlc: e.hlc, deleted: e.deleted, data: e.data };
}

/** Split entries into pushes of at most MAX_RECORDS records and MAX_BYTES. */
export function batches(entries, maxRecords = MAX_RECORDS, maxBytes = MAX_BYTES) {
  const out = [];
  let batch = [];
  let size = 0;
  for (const e of entries) {
    const n = bytes(toPushRecord(e)) + 1;
    if (batch.length && (batch.length >= maxRecords || size + n > maxBytes)) { out.push(batch); batch = []; size = 0; }
    batch.push(e);
    size += n;
  }
  if (batch.length) out.push(batch);
  return out;
}

function hlcOf(record) {
  return record?.hlc || record?.data?.hlc || null;
}

/** Plain-words code for the status line (i18n key `sync_error.<code>`). */
export function errorCode(error) {
  if (error?.status === 401) return 'signed_out';
  if (error?.status === 0) return error.code === 'timeout' ? 'timeout' : 'offline';
  if (error?.status === 429) return 'rate_limited';
  if (error?.status >= 500) return 'server';
  return 'refused';
}

/**
 * A sync engine. `session()` returns {token, user, device_id} or null. `clock` is an hlc.js clock.
 * `onChange(status)` hears every status change; `onSignedOut()` hears a 401 (the outbox is kept).
 */
export function createSync({
  api, store = replica.defaultStore(), session, clock, tz, appVersion = '0',
  deviceInfo = async () => ({}), onChange = () => {}, onSignedOut = () => {},
  now = () => Date.now(), random = Math.random,
}) {
  let inflight = null;
  let again = false; // a run was asked for while one was in flight
  let status = null;

  async function loadStatus() {
    status ||= (await replica.getMeta('sync', store)) || { last_sync: null, last_error: null, last_error_message: '', failures: 0, next_attempt_at: 0 };
    return status;
  }

  async function saveStatus(patch) {
    status = { ...(await loadStatus()), ...patch };
    await replica.setMeta('sync', status, store);
    onChange(status);
    return status;
  }

  async function addNotice(notice) {
    const notices = (await replica.getMeta('notices', store)) || [];
    notices.push({ ...notice, at: now() });
    await replica.setMeta('notices', notices.slice(-20), store);
  }

  async function pushBody(batch) {
    const waiting = await outbox.count(store);
    return {
      device_id: session().device_id,
      device_time: rfc3339(now(), tz),
      device: { app_version: appVersion, outbox: waiting, ...(await deviceInfo()) },
      records: batch.map(toPushRecord),
    };
  }

  async function pushBatch(batch) {
    await outbox.markSent(batch.map((e) => e.id), store);
    let response;
    try {
      response = await api.post('/sync/push', await pushBody(batch));
    } catch (error) {
      if (error.status !== 413) throw error;
      if (batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await pushBatch(batch.slice(0, half));
        await pushBatch(batch.slice(half));
        return;
      }
      // One record alone is too big: only the doctor can fix it (shorter notes), so hold it.
      await outbox.reject(batch[0].id, batch[0].change_id,
        [{ field: '', code: 'too_large', message: error.message || 'too large' }], store);
      return;
    }
    const results = response?.results || [];
    for (let i = 0; i < batch.length; i += 1) {
      const entry = batch[i];
      const result = results[i]?.id === entry.id ? results[i] : results.find((r) => r.id === entry.id);
      if (result) await applyResult(entry, result); // no answer for it: it simply goes again
    }
  }

  async function applyResult(entry, result) {
    const record = result.record
      || { type: entry.type, id: entry.id, rev: result.rev, deleted: entry.deleted, data: { ...entry.data, flags: result.flags || [] } };
    if (hlcOf(record)) clock.receive(hlcOf(record));
    switch (result.status) {
      case 'applied':
        // `rev` is exactly this change's revision: a newer local edit may build on it.
        await outbox.acknowledge(entry.id, entry.change_id, result.rev, store);
        await replica.putRecord(record, store);
        break;
      case 'duplicate':
        await outbox.acknowledge(entry.id, entry.change_id, null, store);
        await replica.putRecord(record, store);
        break;
      case 'conflict': {
        await outbox.acknowledge(entry.id, entry.change_id, null, store);
        await replica.putRecord(result.record || record, store);
        const winner = hlcOf(result.record);
        if (!winner || winner !== entry.hlc) await addNotice({ kind: 'conflict', id: entry.id, village: entry.data?.village });
        break;
      }
      case 'rejected':
        await outbox.reject(entry.id, entry.change_id, result.errors || [], store);
        break;
      default:
        break; // unknown status: keep the entry; it goes again
    }
  }

  async function pushAll() {
    const me = session().user?.id;
    const entries = (await outbox.list(store)).filter((e) => e.state === 'pending' && (!e.owner || e.owner === me));
    for (const batch of batches(entries)) await pushBatch(batch);
  }

  async function pullAll() {
    let cursor = (await replica.getMeta('cursor', store)) || '';
    for (;;) {
      const page = await api.get(`/sync/pull?cursor=${encodeURIComponent(cursor)}&limit=${PULL_LIMIT}`);
      for (const c of page.changes || []) if (hlcOf(c)) clock.receive(hlcOf(c));
      await replica.applyPull(page.changes || [], page.cursor ?? cursor, store);
      cursor = page.cursor ?? cursor;
      if (!page.more || !(page.changes || []).length) break;
    }
  }

  async function attempt() {
    const s = session();
    if (!s?.token) return saveStatus({ last_error: 'signed_out' });
    try {
      await saveStatus({ running: true });
      await pushAll();
      await pullAll();
      await replica.setMeta('hlc', clock.state, store);
      return await saveStatus({ running: false, last_sync: now(), last_error: null, last_error_message: '', failures: 0, next_attempt_at: 0 });
    } catch (error) {
      await replica.setMeta('hlc', clock.state, store).catch(() => {});
      const code = errorCode(error);
      if (code === 'signed_out') {
        await saveStatus({ running: false, last_error: code, last_error_message: error.message || '' });
        onSignedOut(error);
        return status;
      }
      const failures = (status.failures || 0) + 1;
      let delay = backoffDelay(failures, random);
      if (error.retryAfter != null) delay = Math.max(delay, error.retryAfter * 1000);
      return saveStatus({ running: false, last_error: code, last_error_message: error.message || '', failures, next_attempt_at: now() + delay });
    }
  }

  return {
    status: loadStatus,
    /**
     * Push then pull. Automatic runs wait out the backoff; `manual` ones (the button) do not;
     * `reconnect` ones (the network is back, a Background Sync) skip it only when the last failure
     * was the network's: a server answering 5xx or 429 is not helped by a reconnect, and Chrome
     * fires Background Sync right after every edit while online.
     * A run asked for while one is in flight (the doctor checked out while the check-in was being
     * pushed) gets one more pass once it ends, so that edit does not wait for the next timer.
     */
    async run({ manual = false, reconnect = false } = {}) {
      if (inflight) { again = true; return inflight; }
      const s = await loadStatus();
      const networkBack = reconnect && (s.last_error === 'offline' || s.last_error === 'timeout');
      if (!manual && !networkBack && s.next_attempt_at && now() < s.next_attempt_at) return s;
      inflight = (async () => {
        let result;
        do {
          again = false;
          result = await attempt();
        } while (again && !result?.last_error);
        return result;
      })().finally(() => { inflight = null; again = false; });
      return inflight;
    },
  };
}

/**
 * Run `sync` on start, on reconnect, when the page comes back to the front, every TIMER_MS while
 * open, when the service worker relays a Background Sync, and once a backoff delay is over.
 * Returns a function that stops it all.
 */
export function scheduleSync(sync, { win = globalThis, intervalMs = TIMER_MS } = {}) {
  let retryTimer = null;
  const go = async (options = {}) => {
    const s = await sync.run(options);
    clearTimeout(retryTimer);
    if (s?.next_attempt_at) retryTimer = setTimeout(() => go(), Math.max(1000, s.next_attempt_at - Date.now()));
  };
  const now = () => go({ reconnect: true }); // the network is back, or a Background Sync woke us
  const onVisible = () => { if (win.document?.visibilityState === 'visible') go(); };
  const onMessage = (e) => { if (e.data?.type === 'cunyi-sync') now(); };
  win.addEventListener?.('online', now);
  win.document?.addEventListener?.('visibilitychange', onVisible);
  win.navigator?.serviceWorker?.addEventListener?.('message', onMessage);
  const timer = setInterval(() => go(), intervalMs);
  go();
  return () => {
    clearInterval(timer); clearTimeout(retryTimer);
    win.removeEventListener?.('online', now);
    win.document?.removeEventListener?.('visibilitychange', onVisible);
    win.navigator?.serviceWorker?.removeEventListener?.('message', onMessage);
  };
}

/** Ask the browser to wake the service worker for a sync when the network is back. */
export async function requestBackgroundSync(nav = globalThis.navigator) {
  try {
    const reg = await nav?.serviceWorker?.ready;
    await reg?.sync?.register('cunyi-sync');
  } catch { /* not supported (iOS) or not allowed: the timer and `online` still sync */ }
}
