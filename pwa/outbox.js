// The outbox: edits the server has not acknowledged yet, kept in IndexedDB (object store `outbox`).
//
// Coalescing. Several edits of one record made offline become ONE entry: the latest data,
// deleted flag and hlc, a fresh change_id per edit, and the EARLIEST base_rev — the revision the
// phone's chain of edits started from. That is what makes the server's rules right:
//   * pushing each edit separately would have the second edit, still based on the old rev,
//     "conflict" with the phone's own first edit;
//   * with the earliest base_rev the server sees a conflict exactly when someone else changed the
//     record after the phone last saw it, and then the newer hlc (ours is the latest edit's) wins;
//   * a fresh change_id per edit keeps retries safe: an earlier version that reached the server
//     but whose answer was lost comes back `duplicate` without swallowing the newer data.
// An entry leaves only when a push result acknowledges its current change_id. If the doctor edited
// while a push was in flight, an `applied` answer for the older change rebases the entry onto the
// revision it produced (so the newer edit is not taken for a conflict) and the entry stays.
// A record deleted before it ever left the phone is simply dropped.
import { defaultDatabase, promised, transact } from './idb.js';

const defaultStore = defaultDatabase;

const STORE = 'outbox';
const write = (store, fn) => transact(store, [STORE], 'readwrite', (tx) => fn(tx.objectStore(STORE)));
const read = (store, fn) => transact(store, [STORE], 'readonly', (tx) => fn(tx.objectStore(STORE)));

/**
 * Queue an edit `{type, id, owner, change_id, base_rev, hlc, deleted, data}`, coalescing with an
 * entry already waiting for the same record. Resolves with the entry, or null when it was dropped.
 */
export function enqueue(edit, store = defaultStore()) {
  return write(store, async (os) => {
    const old = await promised(os.get(edit.id));
    const now = Date.now();
    if (old && edit.deleted && old.base_rev === 0 && !old.sent) {
      await promised(os.delete(edit.id));
      return null;
    }
    const entry = {
      type: edit.type || 'visit',
      id: edit.id,
      owner: edit.owner ?? old?.owner ?? null,
      change_id: edit.change_id,
      base_rev: old ? old.base_rev : edit.base_rev,
      hlc: edit.hlc,
      deleted: !!edit.deleted,
      data: edit.data,
      state: 'pending',
      errors: [],
      sent: old?.sent || false,
      queued_at: old?.queued_at || now,
      updated_at: now,
    };
    await promised(os.put(entry));
    return entry;
  });
}

export function get(id, store = defaultStore()) {
  return read(store, (os) => promised(os.get(id)));
}

/** Every entry, oldest first. */
export async function list(store = defaultStore()) {
  const all = await read(store, (os) => promised(os.getAll()));
  return all.sort((a, b) => a.queued_at - b.queued_at);
}

export function count(store = defaultStore()) {
  return read(store, (os) => promised(os.count()));
}

/** Note that these entries went out in a push (a delete of them must now reach the server too). */
export function markSent(ids, store = defaultStore()) {
  return write(store, async (os) => {
    for (const id of ids) {
      const e = await promised(os.get(id));
      if (e && !e.sent) { e.sent = true; await promised(os.put(e)); }
    }
  });
}

/**
 * The server acknowledged `change_id` of record `id` (applied, duplicate or conflict).
 * Resolves 'removed', 'rebased' (edited meanwhile, kept on top of `rebaseTo`) or 'kept'/'missing'.
 */
export function acknowledge(id, changeId, rebaseTo = null, store = defaultStore()) {
  return write(store, async (os) => {
    const e = await promised(os.get(id));
    if (!e) return 'missing';
    if (e.change_id === changeId) { await promised(os.delete(id)); return 'removed'; }
    if (rebaseTo == null) return 'kept';
    e.base_rev = rebaseTo;
    await promised(os.put(e));
    return 'rebased';
  });
}

/** The server refused `change_id`: keep the entry, visible with its errors, until edited or discarded. */
export function reject(id, changeId, errors, store = defaultStore()) {
  return write(store, async (os) => {
    const e = await promised(os.get(id));
    if (!e || e.change_id !== changeId) return false; // edited since: the new version goes next
    e.state = 'rejected';
    e.errors = errors || [];
    await promised(os.put(e));
    return true;
  });
}

/** The doctor gives up an edit (a rejected one, usually): the server's copy stands. */
export function discard(id, store = defaultStore()) {
  return write(store, (os) => promised(os.delete(id)));
}
