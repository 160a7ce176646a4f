// What the phone knows from the server: pulled records (store `records`) and small named
// values (store `meta`: session, device id, pull cursor, clock state, sync status).
import { defaultDatabase, promised, transact } from './idb.js';

const defaultStore = defaultDatabase;

/** Apply one pull page and its cursor in one transaction: a kill between them loses nothing. */
export function applyPull(changes, cursor, store = defaultStore()) {
  return transact(store, ['records', 'meta'], 'readwrite', async (tx) => {
    const records = tx.objectStore('records');
    for (const c of changes) {
      if (c.deleted) await promised(records.delete([c.type, c.id]));
      else await promised(records.put({ type: c.type, id: c.id, rev: c.rev, deleted: false, data: c.data || {} }));
    }
    await promised(tx.objectStore('meta').put(cursor, 'cursor'));
  });
}

/** Store one record as the server returned it (a push result's `record`). */
export function putRecord(record, store = defaultStore()) {
  return transact(store, ['records'], 'readwrite', (tx) => {
    const os = tx.objectStore('records');
    return promised(record.deleted ? os.delete([record.type, record.id])
      : os.put({ type: record.type, id: record.id, rev: record.rev, deleted: false, data: record.data || {} }));
  });
}

export function getRecord(type, id, store = defaultStore()) {
  return transact(store, ['records'], 'readonly', (tx) => promised(tx.objectStore('records').get([type, id])));
}

export function recordsOfType(type, store = defaultStore()) {
  return transact(store, ['records'], 'readonly',
    (tx) => promised(tx.objectStore('records').index('type').getAll(type)));
}

export function getMeta(key, store = defaultStore()) {
  return transact(store, ['meta'], 'readonly', (tx) => promised(tx.objectStore('meta').get(key)));
}

export function setMeta(key, value, store = defaultStore()) {
  return transact(store, ['meta'], 'readwrite', (tx) => promised(tx.objectStore('meta').put(value, key)));
}

/** Forget pulled records and the cursor (another user signed in); the outbox is not touched. */
export function clearRecords(store = defaultStore()) {
  return transact(store, ['records', 'meta'], 'readwrite', async (tx) => {
    await promised(tx.objectStore('records').clear());
    await promised(tx.objectStore('meta').delete('cursor'));
  });
}
