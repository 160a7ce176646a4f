// Signing in and out (SPEC §6): the token and user live in IndexedDB `meta`, beside the outbox.
// Losing the token (sign-out, 401) never touches the outbox.
import * as replica from './replica.js';

export async function deviceId(store = replica.defaultStore()) {
  let id = await replica.getMeta('device_id', store);
  if (!id) {
    id = crypto.randomUUID();
    await replica.setMeta('device_id', id, store);
  }
  return id;
}

export function deviceName(nav = globalThis.navigator) {
  const ua = nav?.userAgent || '';
  const model = /Android [\d.]+; ([^;)]+)/.exec(ua)?.[1] || (/iPhone/.test(ua) ? 'iPhone' : /iPad/.test(ua) ? 'iPad' : 'Browser');
  return `${model}`.trim().slice(0, 60);
}

/** {token, user} or null; `token` is null after a 401 or sign-out while `user` is kept. */
export async function loadSession(store = replica.defaultStore()) {
  return (await replica.getMeta('session', store)) || null;
}

export async function signIn(api, { phone, password }, { device_id, store = replica.defaultStore() }) {
  const body = await api.post('/auth/login', { phone, password, device_id, device_name: deviceName() });
  const previous = await loadSession(store);
  if (previous?.user && previous.user.id !== body.user.id) {
    // Another doctor on this phone: pulled data is theirs to fetch; the outbox stays (it carries owners).
    await replica.clearRecords(store);
  }
  const session = { token: body.token, user: body.user };
  await replica.setMeta('session', session, store);
  return session;
}

/** Forget the token, keep who was signed in (to prefill the form and own the outbox). */
export async function dropToken(store = replica.defaultStore()) {
  const s = await loadSession(store);
  if (s) await replica.setMeta('session', { ...s, token: null }, store);
}

export async function signOut(api, store = replica.defaultStore()) {
  try { await api.post('/auth/logout', {}); } catch { /* offline: the token is dropped here anyway */ }
  await dropToken(store);
}
