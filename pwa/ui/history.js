// History by week: every own visit, newest first, with its sync state; tap to edit.
import { formatDate, formatTime, formatWeek, t } from '../i18n.js';
import { weekOf } from '../time.js';
import { h } from './dom.js';

// "8.5 小时", or "25 分钟" under an hour (a quick visit must not read "0.0 小时").
function duration(v) {
  if (!v.ended_at) return '';
  const minutes = Math.round((Date.parse(v.ended_at) - Date.parse(v.started_at)) / 60000);
  return minutes < 60 ? t('visit.minutes', { m: minutes }) : t('visit.hours', { h: (minutes / 60).toFixed(1) });
}

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
        h('span', {}, v.ended_at ? [duration(v), ' · '] : null, t('visit.patients_n', { n: v.patients_seen ?? 0 }))),
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
      h('h3', {}, t('history.week', { week: formatWeek(week), n: list.filter((v) => !v.deleted).length })),
      h('ul', { class: 'list' }, list.sort((a, b) => b.started_at.localeCompare(a.started_at)).map((v) => visitItem(v, ctx)))))
      : h('p', { class: 'muted' }, t('history.empty')));
  return { main };
}
