// The reminder inbox (SPEC §11): every reminder also arrives in the pull, so it shows here even
// on phones that cannot receive Web Push.
import { formatDateTime, formatWeek, t } from '../i18n.js';
import { h } from './dom.js';

export function inboxScreen(ctx) {
  const list = [...ctx.reminders].sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
  const main = h('div', { class: 'screen inbox' },
    h('h2', {}, t('inbox.title')),
    list.length ? h('ul', { class: 'list' }, list.map((r) => {
      const unread = !r.read && !ctx.readIds.has(r.id);
      return h('li', {},
        h('details', { class: `item reminder${unread ? ' unread' : ''}`, 'data-reminder-id': r.id,
          ontoggle: (e) => { if (e.currentTarget.open && unread) ctx.onRead(r); } },
        h('summary', {}, h('strong', {}, r.title), h('div', { class: 'muted small' }, r.created_at ? formatDateTime(r.created_at, ctx.tz) : '', r.week ? ` · ${formatWeek(r.week)}` : '')),
        h('p', { class: 'body' }, r.body)));
    })) : h('p', { class: 'muted' }, t('inbox.empty')));
  return { main };
}
