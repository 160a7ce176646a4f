// Web Push reminders (SPEC §11), client side: subscribe after the doctor asks (a button, never a
// prompt on first load), re-subscribe on start when allowed — browsers drop subscriptions silently.

export function pushSupported(win = globalThis) {
  return 'serviceWorker' in (win.navigator || {}) && 'PushManager' in win && 'Notification' in win;
}

export function permission(win = globalThis) {
  return pushSupported(win) ? win.Notification.permission : 'unsupported';
}

function keyBytes(base64url) {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '=');
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

const sameKey = (buffer, bytes) => {
  if (!buffer) return false;
  const a = new Uint8Array(buffer);
  return a.length === bytes.length && a.every((x, i) => x === bytes[i]);
};

async function subscribe(api, reg) {
  const { public_key: key } = await api.get('/push/key');
  const bytes = keyBytes(key);
  let sub = await reg.pushManager.getSubscription();
  if (sub && !sameKey(sub.options?.applicationServerKey, bytes)) { await sub.unsubscribe(); sub = null; }
  sub ||= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes });
  await api.post('/push/subscribe', { subscription: sub.toJSON() });
  return sub;
}

/** The button: ask permission, then subscribe. Resolves the permission state. */
export async function enableReminders(api, win = globalThis) {
  if (!pushSupported(win)) return 'unsupported';
  const state = await win.Notification.requestPermission();
  if (state === 'granted') await subscribe(api, await win.navigator.serviceWorker.ready);
  return state;
}

/** On start: renew the subscription if the doctor allowed reminders before. */
export async function renewReminders(api, win = globalThis) {
  if (permission(win) !== 'granted') return false;
  try { await subscribe(api, await win.navigator.serviceWorker.ready); return true; } catch { return false; }
}

export async function disableReminders(api, win = globalThis) {
  if (!pushSupported(win)) return;
  const sub = await (await win.navigator.serviceWorker.ready).pushManager.getSubscription();
  if (!sub) return;
  await api.post('/push/unsubscribe', { endpoint: sub.endpoint }).catch(() => {});
  await sub.unsubscribe();
}

export async function isSubscribed(win = globalThis) {
  if (!pushSupported(win)) return false;
  const reg = await win.navigator.serviceWorker.getRegistration();
  return !!(await reg?.pushManager.getSubscription());
}
