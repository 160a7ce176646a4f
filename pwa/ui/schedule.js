// The patrol schedule (assignments' fixed weekly slots) and the doctor's roster postings.
import { formatDate, t } from '../i18n.js';
import { h } from './dom.js';

export function scheduleScreen(ctx) {
  const patrols = ctx.assignments.filter((a) => a.kind === 'patrol');
  const rosters = ctx.assignments.filter((a) => a.kind === 'roster');
  const days = [1, 2, 3, 4, 5, 6, 7].map((weekday) => ({
    weekday,
    slots: patrols.flatMap((a) => (a.slots || []).filter((s) => s.weekday === weekday).map((s) => ({ ...s, village: a.village })))
      .sort((x, y) => x.half.localeCompare(y.half)),
  }));
  const range = (a) => t('schedule.range', { start: formatDate(a.start, 'UTC'), end: a.end ? formatDate(a.end, 'UTC') : t('schedule.open_end') });
  const main = h('div', { class: 'screen schedule' },
    h('h2', {}, t('schedule.title')),
    patrols.length ? h('ul', { class: 'week-grid' }, days.map((d) => h('li', { class: d.weekday === ctx.todayWeekday ? 'today' : '', 'data-weekday': d.weekday },
      h('strong', { class: 'weekday' }, t(`weekday.${d.weekday}`)),
      d.slots.length ? h('div', {}, d.slots.map((s) => h('div', { class: 'slot' }, `${t(`half.${s.half}`)} · ${ctx.villageName(s.village)}`)))
        : h('span', { class: 'muted' }, '—'))))
      : h('p', { class: 'muted' }, t('schedule.no_patrol')),
    patrols.some((a) => !(a.slots || []).length) ? h('p', { class: 'banner warn' }, t('schedule.no_slots')) : null,
    h('h3', {}, t('schedule.assignments')),
    ctx.assignments.length ? h('ul', { class: 'list' }, [...rosters, ...patrols].map((a) => h('li', { class: 'item' },
      h('div', { class: 'row' }, h('strong', {}, ctx.villageName(a.village)), h('span', { class: 'chip' }, t(`assignment.${a.kind}`))),
      h('div', { class: 'muted small' }, range(a)))))
      : h('p', { class: 'muted' }, t('today.no_assignment')));
  return { main };
}
