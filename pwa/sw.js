/* 村医 service worker: the offline app shell, Background Sync and Web Push reminders.
   A classic script on purpose: module service workers are missing from some browsers our
   doctors use. It never touches IndexedDB's schema, so a new version cannot strand the outbox. */

const VERSION = '0.1.0';
const CACHE = `cunyi-shell-${VERSION}`;
// The app shell, relative to this file's scope (/app/). bench/app_shell_size.py reads this list.
const PRECACHE = [
  './index.html',
  './app.css',
  './app.js',
  './api.js',
  './geo.js',
  './hlc.js',
  './i18n.js',
  './idb.js',
  './outbox.js',
  './push.js',
  './replica.js',
  './session.js',
  './sync.js',
  './time.js',
  './visits.js',
  './week.js',
  './ui/dom.js',
  './ui/history.js',
  './ui/inbox.js',
  './ui/login.js',
  './ui/me.js',
  './ui/progress.js',
  './ui/schedule.js',
  './ui/services.js',
  './ui/status.js',
  './ui/today.js',
  './ui/visit.js',
  './i18n/zh-CN.json',
  './i18n/en.json',
  './manifest.webmanifest',
  './icons/icon.svg',
  './icons/icon-192.png',
  './icons/icon-512.png',
];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // `reload` skips the HTTP cache, so a new version never precaches an old file.
    await cache.addAll(PRECACHE.map((url) => new Request(url, { cache: 'reload' })));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith('cunyi-shell-') && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  // The API is network-only: sync decides what to do when it fails, and nothing stale is served.
  if (url.pathname.startsWith('/api/')) return;
  const scope = new URL(self.registration.scope).pathname;
  if (!url.pathname.startsWith(scope)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    // Any page inside the app (a navigation, /app/ or a deep link) is the one shell page.
    const key = request.mode === 'navigate' ? './index.html' : request;
    const hit = await cache.match(key, { ignoreSearch: request.mode === 'navigate' });
    if (hit) return hit;
    try {
      return await fetch(request);
    } catch (error) {
      return (await cache.match('./index.html')) || Response.error();
    }
  })());
});

// Background Sync: the pages do the syncing (sync.js); wake them. With no page open, fail so the
// browser tries again later (Chrome backs off and retries); the app also syncs on its next start.
self.addEventListener('sync', (event) => {
  if (event.tag !== 'cunyi-sync') return;
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    pages.forEach((page) => page.postMessage({ type: 'cunyi-sync' }));
    if (!pages.length) throw new Error('no open page to sync; retry later');
  })());
});

// Web Push: always show a notification (browsers punish silent pushes), with the payload's
// title, body and url, or a general one when the payload is missing or not JSON.
self.addEventListener('push', (event) => {
  let payload = {};
  try { payload = event.data ? event.data.json() : {}; } catch (error) {
    payload = { body: event.data ? event.data.text() : '' };
  }
  const title = payload.title || '村医提醒';
  event.waitUntil(self.registration.showNotification(title, {
    body: payload.body || '您有一条新提醒，请打开村医查看。',
    icon: './icons/icon-192.png',
    badge: './icons/icon-192.png',
    tag: payload.tag || (payload.kind && payload.week ? `${payload.kind}-${payload.week}` : 'cunyi-reminder'),
    data: { url: payload.url || './#/inbox' },
  }));
});

// A tap opens the screen the reminder is about (the inbox unless it says otherwise), reusing an
// open window when there is one.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || './#/inbox', self.registration.scope).href;
  event.waitUntil((async () => {
    const pages = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const page = pages.find((p) => p.url.startsWith(self.registration.scope));
    if (page) {
      await page.focus();
      return page.navigate ? page.navigate(target) : page.postMessage({ type: 'cunyi-open', url: target });
    }
    return self.clients.openWindow(target);
  })());
});
