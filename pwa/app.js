// The phone app's start and its one controller: loads state from IndexedDB, renders the current
// screen (pwa/ui/*), turns taps into outbox edits and keeps sync running.
import { createApi } from './api.js';
import { createClock } from './hlc.js';
import { formatDate, loadLanguage, savedLanguage, t } from './i18n.js';
import { defaultDatabase } from './idb.js';
import * as outbox from './outbox.js';
import * as pushClient from './push.js';
import * as replica from './replica.js';
import { deviceId, dropToken, loadSession, signIn, signOut } from './session.js';
import { createSync, requestBackgroundSync, scheduleSync } from './sync.js';
import { DEFAULT_TZ, localDate, weekDates, weekday, weekOfDate } from './time.js';
import { currentLocation } from './geo.js';
import * as visits from './visits.js';
import { assignmentActiveOn, progress } from './week.js';
import { clear, h } from './ui/dom.js';
import { historyScreen } from './ui/history.js';
import { inboxScreen } from './ui/inbox.js';
import { loginScreen } from './ui/login.js';
import { meScreen } from './ui/me.js';
import { scheduleScreen } from './ui/schedule.js';
import { noticeList, statusLine, tabBar } from './ui/status.js';
import { todayScreen } from './ui/today.js';
import { visitScreen } from './ui/visit.js';

// Keep equal to VERSION in sw.js (tests/js/shell.test.mjs checks).
export const APP_VERSION = '0.1.0';

const store = defaultDatabase();
const app = {
  session: null, deviceId: null, clock: null, tz: DEFAULT_TZ,
  data: { townships: new Map(), villages: new Map(), assignments: [], coverage: [], exemptions: [], reminders: [], synced: [], local: [] },
  waiting: 0, rejected: 0, status: {}, notices: [], readIds: new Set(),
  ui: { selected: 0, loginError: '', busy: false, locating: false, push: 'unsupported', subscribed: false, storage: null },
};
const api = createApi({ getToken: () => app.session?.token });
let sync = null;
let stopSync = null;

const $ = (id) => document.getElementById(id);
const now = () => Date.now();
const me = () => app.session?.user;
const villageName = (code) => app.data.villages.get(code)?.name || code;
const editCtx = () => ({ store, clock: app.clock, user: me(), tz: app.tz, now });

async function loadData() {
  const all = async (type) => (await replica.recordsOfType(type, store)).map((r) => ({ id: r.id, rev: r.rev, ...r.data }));
  const [townships, villages, assignments, coverage, exemptions, reminders] = await Promise.all(
    ['township', 'village', 'assignment', 'coverage', 'exemption', 'reminder'].map(all));
  app.data.townships = new Map(townships.map((x) => [x.code || x.id, x]));
  app.data.villages = new Map(villages.map((v) => [v.code || v.id, { ...v, code: v.code || v.id }]));
  app.data.assignments = assignments.map((a) => ({ ...a, id: a.id }));
  Object.assign(app.data, { coverage, exemptions, reminders });
  if (me()) Object.assign(app.data, await visits.loadVisits(me().id, store));
  const entries = await outbox.list(store);
  app.waiting = entries.length;
  app.rejected = entries.filter((e) => e.state === 'rejected').length;
  app.status = (await replica.getMeta('sync', store)) || {};
  app.notices = (await replica.getMeta('notices', store)) || [];
  app.readIds = new Set((await replica.getMeta('read_reminders', store)) || []);
}

/** Reload state and redraw. While the doctor is typing, only the status line is redrawn. */
async function refresh() {
  await loadData();
  const typing = document.activeElement?.matches?.('#main input, #main textarea');
  if (typing) renderStatus(); else render();
}

function route() {
  const [, tab = 'today', arg] = (location.hash || '#/today').split('/');
  return { tab, arg };
}

// ---- screens ------------------------------------------------------------------------------

function todayContext() {
  const today = localDate(now(), app.tz);
  const week = weekOfDate(today);
  const dates = weekDates(week);
  const mine = app.data.assignments.filter((a) => a.doctor === me().id);
  const thisWeek = mine.filter((a) => dates.some((d) => assignmentActiveOn(a, d)));
  const seen = new Set();
  const options = [...thisWeek].sort((a, b) => assignmentActiveOn(b, today) - assignmentActiveOn(a, today))
    .map((a) => ({ village: a.village, name: villageName(a.village), kind: a.kind === 'patrol' ? 'patrol' : 'duty' }))
    .filter((o) => !seen.has(`${o.village}|${o.kind}`) && seen.add(`${o.village}|${o.kind}`));
  const progressRows = [...new Set(thisWeek.map((a) => a.village))].map((code) => {
    const village = app.data.villages.get(code) || { code, name: code, needs_coverage: true };
    const server = app.data.coverage.find((c) => c.village === code && c.week === week) || null;
    const exempt = app.data.exemptions.some((e) => e.village === code && e.week === week);
    return { village, row: progress({ village, week, server, exempt, assignments: app.data.assignments, syncedVisits: app.data.synced, localVisits: app.data.local, tz: app.tz }) };
  });
  const live = app.data.local.filter((v) => !v.deleted);
  return {
    tz: app.tz, week, villageName, options, locating: app.ui.locating,
    selected: Math.min(app.ui.selected, Math.max(0, options.length - 1)),
    dateLabel: formatDate(today, 'UTC'),
    open: visits.openVisit(live),
    progress: progressRows,
    todayVisits: live.filter((v) => v.ended_at && localDate(v.started_at, app.tz) === today),
    onSelect: (i) => { app.ui.selected = i; render(); },
    onCheckIn, onCheckOut, onPatch,
  };
}

function screen() {
  const { tab, arg } = route();
  const common = { tz: app.tz, villageName, now };
  switch (tab) {
    case 'schedule':
      return scheduleScreen({ ...common, assignments: app.data.assignments.filter((a) => a.doctor === me().id), todayWeekday: weekday(localDate(now(), app.tz)) });
    case 'history':
      return historyScreen({ ...common, visits: app.data.local });
    case 'inbox':
      return inboxScreen({ ...common, reminders: app.data.reminders, readIds: app.readIds, onRead: markRead });
    case 'me':
      return meScreen({
        ...common, user: { ...me(), township_name: app.data.townships.get(me().township)?.name }, waiting: app.waiting, rejected: app.rejected, status: app.status, deviceId: app.deviceId,
        version: APP_VERSION, push: app.ui.push, subscribed: app.ui.subscribed, storage: app.ui.storage,
        ios: /iPhone|iPad/.test(navigator.userAgent),
        onLanguage: switchLanguage, onSync: syncNow, onSignOut, onEnableReminders, onDisableReminders,
      });
    case 'visit':
      return visitScreen({ ...common, visit: app.data.local.find((v) => v.id === arg), onSave: onSaveVisit, onDelete: onDeleteVisit, onDiscard: onDiscardEdit });
    default:
      return todayScreen(todayContext());
  }
}

function statusContext() {
  return {
    tz: app.tz, now, villageName, status: app.status, waiting: app.waiting, rejected: app.rejected, notices: app.notices,
    onSync: syncNow, onDismiss: dismissNotice,
  };
}

function renderStatus() {
  const header = $('status');
  if (!header || !app.session?.token) return;
  clear(header).append(statusLine(statusContext()));
  const n = noticeList(statusContext());
  if (n) header.append(n);
}

function render() {
  const main = $('main');
  const action = $('action');
  const nav = $('nav');
  clear(action); clear(nav); clear($('status'));
  if (!app.session?.token) {
    const view = loginScreen({
      phone: app.ui.phone || app.session?.user?.phone || '', error: app.ui.loginError, busy: app.ui.busy,
      expired: !!app.session?.user, waiting: app.waiting, onSubmit: onSignIn, onLanguage: switchLanguage,
    });
    clear(main).append(view.main);
    document.body.dataset.screen = 'login';
    view.focus?.focus();
    return;
  }
  const { tab } = route();
  const view = screen();
  clear(main).append(view.main);
  if (view.action) action.append(view.action);
  action.hidden = !view.action;
  const unread = app.data.reminders.filter((r) => !r.read && !app.readIds.has(r.id)).length;
  nav.append(tabBar({ tab: tab === 'visit' ? 'history' : tab, unread }));
  document.body.dataset.screen = tab;
  renderStatus();
}

// ---- actions --------------------------------------------------------------------------------

function showError(error) {
  app.notices.push({ kind: 'error', at: now() });
  console.error(error); // eslint-disable-line no-console
  render();
}

async function afterEdit() {
  await refresh();
  requestBackgroundSync();
  sync?.run();
}

async function onCheckIn(option) {
  try {
    const id = await visits.checkIn(editCtx(), { village: option.village, kind: option.kind });
    app.ui.locating = true;
    await afterEdit();
    // The check-in is already safe in the outbox; the location follows when (and if) it comes.
    const location = await currentLocation({ timeoutMs: 10000 });
    app.ui.locating = false;
    if (location) await visits.updateVisit(editCtx(), id, { location });
    await afterEdit();
  } catch (e) { app.ui.locating = false; showError(e); }
}

async function onCheckOut(v) {
  try { await visits.checkOut(editCtx(), v.id); await afterEdit(); } catch (e) { showError(e); }
}

async function onPatch(v, patch) {
  try { await visits.updateVisit(editCtx(), v.id, patch); await loadData(); renderStatus(); requestBackgroundSync(); } catch (e) { showError(e); }
}

// Load the saved state before leaving the screen: the history it lands on (drawn by hashchange)
// must already show the edit and the outbox count, never the values from before the save.
async function onSaveVisit(v, patch) {
  try { await visits.updateVisit(editCtx(), v.id, patch); await loadData(); location.hash = '#/history'; await afterEdit(); } catch (e) { showError(e); }
}

async function onDeleteVisit(v) {
  try { await visits.deleteVisit(editCtx(), v.id); await loadData(); location.hash = '#/history'; await afterEdit(); } catch (e) { showError(e); }
}

async function onDiscardEdit(v) {
  if (!globalThis.confirm(t('visit.confirm_discard'))) return;
  await visits.discardEdit(editCtx(), v.id);
  await loadData();
  location.hash = '#/history';
}

async function markRead(r) {
  app.readIds.add(r.id);
  await replica.setMeta('read_reminders', [...app.readIds].slice(-500), store);
  renderStatus();
  const badge = document.querySelector('[data-testid=unread]');
  const unread = app.data.reminders.filter((x) => !x.read && !app.readIds.has(x.id)).length;
  if (badge) { badge.textContent = String(unread); badge.hidden = !unread; }
}

async function dismissNotice(i) {
  app.notices.splice(i, 1);
  await replica.setMeta('notices', app.notices.filter((n) => n.kind !== 'error'), store);
  render();
}

async function syncNow() {
  if (!sync) return;
  await sync.run({ manual: true });
  await refresh();
}

async function switchLanguage(lang) {
  await loadLanguage(lang);
  render();
}

async function onSignIn(credentials) {
  app.ui.busy = true; app.ui.loginError = ''; app.ui.phone = credentials.phone; render();
  try {
    app.session = await signIn(api, credentials, { device_id: app.deviceId, store });
    app.session.user.phone ||= credentials.phone;
    await replica.setMeta('session', app.session, store);
    app.tz = app.session.user.tz || DEFAULT_TZ;
    app.ui.busy = false;
    location.hash = '#/today';
    startSignedIn();
  } catch (e) {
    app.ui.busy = false;
    app.ui.loginError = e.status === 401 ? t('login.wrong')
      : e.status === 429 ? t('login.throttled', { s: e.retryAfter ?? 60 })
        : e.status === 0 ? t('login.offline') : `${t('login.failed')} ${e.message || ''}`;
    render();
  }
}

async function onSignOut() {
  if (!globalThis.confirm(app.waiting ? t('me.signout_waiting', { n: app.waiting }) : t('me.signout_confirm'))) return;
  stopSync?.(); stopSync = null;
  await pushClient.disableReminders(api).catch(() => {});
  await signOut(api, store);
  app.session = await loadSession(store);
  render();
}

async function onEnableReminders() {
  try {
    app.ui.push = await pushClient.enableReminders(api);
    app.ui.subscribed = await pushClient.isSubscribed();
  } catch (e) { app.notices.push({ kind: 'push_failed', at: now() }); }
  render();
}

async function onDisableReminders() {
  await pushClient.disableReminders(api).catch(() => {});
  app.ui.subscribed = false;
  render();
}

async function signedOutBy401() {
  await dropToken(store);
  app.session = await loadSession(store);
  stopSync?.(); stopSync = null;
  await loadData();
  render();
}

// ---- start ----------------------------------------------------------------------------------

function startSignedIn() {
  stopSync?.();
  stopSync = scheduleSync(sync);
  refresh();
  app.ui.push = pushClient.permission();
  pushClient.renewReminders(api).then(async () => { app.ui.subscribed = await pushClient.isSubscribed(); });
}

async function storageEstimate() {
  try {
    const e = await navigator.storage.estimate();
    return { used: Math.round((e.usage || 0) / 1048576 * 10) / 10, quota: Math.round((e.quota || 0) / 1048576) };
  } catch { return null; }
}

async function registerWorker() {
  if (!('serviceWorker' in navigator)) return;
  try {
    await navigator.serviceWorker.register('./sw.js', { scope: './' });
  } catch (e) { console.warn('service worker not registered', e); } // eslint-disable-line no-console
}

async function start() {
  await loadLanguage(savedLanguage());
  registerWorker();
  // Ask the browser not to evict the outbox under storage pressure (answered silently on Chrome).
  navigator.storage?.persist?.().catch(() => {});
  app.deviceId = await deviceId(store);
  app.session = await loadSession(store);
  app.tz = app.session?.user?.tz || DEFAULT_TZ;
  app.clock = createClock(app.deviceId, { state: await replica.getMeta('hlc', store) });
  sync = createSync({
    api, store, clock: app.clock, tz: app.tz, appVersion: APP_VERSION,
    session: () => (app.session ? { ...app.session, device_id: app.deviceId } : null),
    deviceInfo: async () => {
      const s = await storageEstimate();
      app.ui.storage = s;
      return s ? { storage_used_mb: s.used, storage_quota_mb: s.quota } : {};
    },
    onChange: () => refresh(),
    onSignedOut: () => signedOutBy401(),
  });
  // A new screen starts at its top, not at the scroll position of the one before.
  window.addEventListener('hashchange', () => { render(); window.scrollTo(0, 0); });
  // A tapped reminder on a browser whose worker cannot navigate pages itself.
  navigator.serviceWorker?.addEventListener('message', (e) => {
    if (e.data?.type === 'cunyi-open' && e.data.url) location.href = e.data.url;
  });
  await loadData();
  render();
  if (app.session?.token) startSignedIn();
}

start().catch((e) => {
  document.body.append(h('p', { class: 'error' }, `启动失败 / failed to start: ${e.message}`));
});
