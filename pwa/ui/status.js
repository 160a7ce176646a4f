// The sync status line (records waiting, last successful sync, last error in plain words) and
// notices the doctor must see (a conflict settled in favour of another phone's edit).
import { formatTime, formatDateTime, t } from '../i18n.js';
import { h } from './dom.js';

export function statusLine(ctx) {
  const s = ctx.status;
  const parts = [];
  parts.push(h('span', { 'data-testid': 'outbox-count', 'data-count': ctx.waiting }, ctx.waiting ? t('sync.waiting', { n: ctx.waiting }) : t('sync.all_sent')));
  if (ctx.rejected) parts.push(h('a', { class: 'error', href: '#/history' }, t('sync.rejected', { n: ctx.rejected })));
  if (s.running) parts.push(h('span', {}, t('sync.running')));
  else if (s.last_error) parts.push(h('span', { class: 'error', 'data-testid': 'sync-error' }, t(`sync_error.${s.last_error}`)));
  if (s.last_sync) parts.push(h('span', { class: 'muted', 'data-testid': 'last-sync' }, t('sync.last', { time: isToday(s.last_sync, ctx) ? formatTime(s.last_sync, ctx.tz) : formatDateTime(s.last_sync, ctx.tz) })));
  return h('div', { id: 'sync-status', class: `sync-line${s.last_error ? ' has-error' : ''}`, role: 'status', 'aria-live': 'polite' },
    h('span', { class: 'parts' }, parts.flatMap((p, i) => (i ? [' · ', p] : [p]))),
    h('button', { type: 'button', class: 'sync-button', 'data-action': 'sync-now', 'aria-label': t('sync.now'), disabled: !!s.running, onclick: ctx.onSync }, t('sync.now_short')));
}

const isToday = (ms, ctx) => Math.abs(ctx.now() - ms) < 12 * 3600000;

export function noticeList(ctx) {
  if (!ctx.notices.length) return null;
  return h('div', { class: 'notices' }, ctx.notices.map((n, i) => h('div', { class: 'banner warn', role: 'alert', 'data-testid': `notice-${n.kind}` },
    h('span', {}, t(`notice.${n.kind}`, { village: n.village ? ctx.villageName(n.village) : '' })),
    h('button', { type: 'button', class: 'link', 'data-action': 'dismiss-notice', onclick: () => ctx.onDismiss(i) }, t('notice.ok')))));
}

const TABS = [['today', 'nav.today'], ['schedule', 'nav.schedule'], ['history', 'nav.history'], ['inbox', 'nav.inbox'], ['me', 'nav.me']];

export function tabBar(ctx) {
  return h('nav', { class: 'tabs', 'aria-label': t('nav.label') }, TABS.map(([tab, key]) => h('a', {
    href: `#/${tab}`, 'data-tab': tab, 'aria-current': ctx.tab === tab ? 'page' : null,
  }, t(key), tab === 'inbox' && ctx.unread ? h('span', { class: 'badge', 'data-testid': 'unread' }, String(ctx.unread)) : null)));
}
