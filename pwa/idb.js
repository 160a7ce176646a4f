// The phone's one IndexedDB database: its schema and a promise-shaped transaction.
// Schema upgrades only ever add (cumulative `if (oldVersion < n)` steps), so a new app version
// can never strand what an older one left in the outbox.

export const DB_NAME = 'cunyi';
export const DB_VERSION = 1;

function upgrade(db, oldVersion) {
  if (oldVersion < 1) {
    // Edits waiting for the server, one entry per record (see outbox.js for coalescing).
    db.createObjectStore('outbox', { keyPath: 'id' });
    // What the phone has pulled or been acknowledged: {type, id, rev, deleted, data}.
    db.createObjectStore('records', { keyPath: ['type', 'id'] }).createIndex('type', 'type');
    // Small named values: session, device id, pull cursor, clock, sync status.
    db.createObjectStore('meta');
  }
}

export function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * A handle on the database `name` from `factory` (pass fake-indexeddb's IDBFactory in tests).
 * The connection is opened lazily and reopened after the browser closes it: Safari drops idle
 * connections ("Connection to Indexed Database server lost"), and a newer app version in another
 * tab asks us to close for its upgrade (`versionchange`).
 */
export function openDatabase({ name = DB_NAME, factory = globalThis.indexedDB } = {}) {
  let opening = null;
  const handle = {
    name,
    db() {
      if (!opening) {
        opening = new Promise((resolve, reject) => {
          const req = factory.open(name, DB_VERSION);
          req.onupgradeneeded = (e) => upgrade(req.result, e.oldVersion);
          req.onsuccess = () => {
            const db = req.result;
            db.onversionchange = () => { db.close(); opening = null; };
            db.onclose = () => { opening = null; };
            resolve(db);
          };
          req.onerror = () => { opening = null; reject(req.error); };
          req.onblocked = () => {}; // waits for the old version's tab to close its connection
        });
      }
      return opening;
    },
    async close() {
      if (opening) { const db = await opening.catch(() => null); opening = null; db?.close(); }
    },
  };
  return handle;
}

/**
 * Run `fn(tx)` in one transaction and resolve with its result only once the transaction has
 * completed, so every write is durable before the caller moves on. `fn` may await requests
 * (wrapped by `promised`) but nothing else, or the transaction commits early.
 */
export async function transact(handle, storeNames, mode, fn) {
  const db = await handle.db();
  const tx = db.transaction(storeNames, mode);
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
  let result;
  try {
    result = await fn(tx);
  } catch (error) {
    try { tx.abort(); } catch { /* already finished */ }
    await done.catch(() => {});
    throw error;
  }
  await done;
  return result;
}

let shared = null;
/** The app's one connection, shared by outbox.js and replica.js. */
export const defaultDatabase = () => (shared ||= openDatabase());
