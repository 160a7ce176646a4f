// History by week: every own visit, newest first, with its sync state; tap to edit.
import { formatDate, formatTime, t } from '../i18n.js';
import { weekOf } from '../time.js';
import { h } from './dom.js';

const hours = (v) => (v.ended_at ? ((Date.parse(v.ended_at) - Date.parse(v.started_at)) / 3600000).toFixed(1) : null);

export function visitItem(v, ctx) {
  const state = v.state === 'synced' ? null : h('span', { class: `chip state-${v.state}` }, t(`state.${v.state}`));
  const flags = (v.flags || []).map((f) => h('span', { class: 'chip flag' }, t(`flag.${f}`)));
  return h('li', {},
    h('a', { class: 'item', href: `#/visit/${v.id}`, 'data-visit-id': v.id },
      h('div', { class: 'row' },
        h('strong', {}, ctx.villageName(v.village)),
        h('span', { class: 'muted' }, t(`kind.${v.kind}`))),
      h('div', { class: 'row small' },
        h('span', {}, `${formatDate(v.started_at, ctx.tz)} ${formatTime(v.started_at, ctx.tz)}–${v.ended_at ? formatTime(v.ended_at, ctx.tz) : t('visit.ongoing')}`),
        h('span', {}, hours(v) ? t('visit.hours', { h: hours(v) }) : '', ' · ', t('visit.patients_n', { n: v.patients_seen ?? 0 }))),
      state || flags.length ? h('div', { class: 'chips' }, state, flags) : null));
}

export function historyScreen(ctx) {
  const weeks = new Map();
  for (const v of ctx.visits) {
    if (v.deleted && v.state === 'synced') continue;
    const w = weekOf(v.started_at, ctx.tz);
    if (!weeks.has(w)) weeks.set(w, []);
    weeks.get(w).push(v);
  }
  const sorted = [...weeks.entries()].sort((a, b) => b[0].localeCompare(a[0]));
  const main = h('div', { class: 'screen history' },
    h('h2', {}, t('history.title')),
    sorted.length ? sorted.map(([week, list]) => h('section', { 'data-week': week },
      h('h3', {}, t('history.week', { week, n: list.filter((v) => !v.deleted).length })),
      h('ul', { class: 'list' }, list.sort((a, b) => b.started_at.localeCompare(a.started_at)).map((v) => visitItem(v, ctx)))))
      : h('p', { class: 'muted' }, t('history.empty')));
  return { main };
}
