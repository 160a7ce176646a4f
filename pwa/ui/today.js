// Today: the visit in progress (or where to check in), this week's progress, today's visits.
// The primary action — 签到 / 签退, 开始巡诊 / 结束巡诊 — is the big button at the bottom.
import { formatTime, formatWeek, t } from '../i18n.js';
import { MAX_NOTES } from '../visits.js';
import { h } from './dom.js';
import { progressCard } from './progress.js';
import { patientsStepper, serviceChips } from './services.js';
import { visitItem } from './history.js';

function openCard(ctx, v) {
  let timer = null;
  const notes = h('textarea', { id: 'visit-notes', maxlength: MAX_NOTES, rows: 3, placeholder: t('visit.notes_hint'),
    oninput: () => { clearTimeout(timer); timer = setTimeout(() => ctx.onPatch(v, { notes: notes.value }), 600); },
    onchange: () => { clearTimeout(timer); ctx.onPatch(v, { notes: notes.value }); } });
  notes.value = v.notes || '';
  return h('section', { class: 'card open-visit', 'data-testid': 'open-visit', 'data-visit-id': v.id },
    h('div', { class: 'row' },
      h('strong', {}, ctx.villageName(v.village)),
      h('span', { class: 'chip' }, t(`kind.${v.kind}`))),
    h('div', { class: 'muted' }, t('today.since', { time: formatTime(v.started_at, ctx.tz) }),
      v.location ? ` · ${t('today.located', { m: v.location.accuracy_m ?? '?' })}` : ctx.locating ? ` · ${t('today.locating')}` : ` · ${t('today.no_location')}`),
    h('label', { for: 'visit-patients' }, t('visit.patients')),
    patientsStepper(v.patients_seen, (n) => ctx.onPatch(v, { patients_seen: n })),
    h('div', { class: 'label' }, t('visit.services')),
    serviceChips(v.services, (services) => ctx.onPatch(v, { services })),
    h('label', { for: 'visit-notes' }, t('visit.notes')),
    notes);
}

function chooser(ctx) {
  if (!ctx.options.length) {
    return h('section', { class: 'card' }, h('p', {}, t('today.no_assignment')));
  }
  return h('section', { class: 'card' },
    h('div', { class: 'label' }, t('today.where')),
    h('div', { class: 'choices', role: 'radiogroup' },
      ctx.options.map((o, i) => h('button', {
        type: 'button', role: 'radio', class: 'choice', 'aria-checked': String(i === ctx.selected),
        'data-village': o.village, 'data-kind': o.kind, onclick: () => ctx.onSelect(i),
      }, h('strong', {}, o.name), h('span', { class: 'muted' }, t(`kind.${o.kind}`))))));
}

export function todayScreen(ctx) {
  const open = ctx.open;
  const main = h('div', { class: 'screen today' },
    h('h2', {}, t('today.title'), h('span', { class: 'muted small' }, ` ${ctx.dateLabel}`)),
    open ? openCard(ctx, open) : chooser(ctx),
    h('h3', {}, t('today.week', { week: formatWeek(ctx.week) })),
    ctx.progress.length
      ? h('ul', { class: 'cards' }, ctx.progress.map(({ village, row }) => progressCard(village, row)))
      : h('p', { class: 'muted' }, t('today.no_progress')),
    ctx.todayVisits.length ? [h('h3', {}, t('today.done')),
      h('ul', { class: 'list' }, ctx.todayVisits.map((v) => visitItem(v, ctx)))] : null);

  let action;
  if (open) {
    const kind = open.kind === 'patrol' ? 'end-patrol' : 'check-out';
    action = h('button', { type: 'button', class: 'primary big stop', 'data-action': kind, onclick: () => ctx.onCheckOut(open) },
      open.kind === 'patrol' ? t('action.end_patrol') : t('action.check_out'));
  } else if (ctx.options.length) {
    const o = ctx.options[ctx.selected] || ctx.options[0];
    const kind = o.kind === 'patrol' ? 'start-patrol' : 'check-in';
    action = h('button', { type: 'button', class: 'primary big', 'data-action': kind, onclick: () => ctx.onCheckIn(o) },
      o.kind === 'patrol' ? t('action.start_patrol') : t('action.check_in'), h('span', { class: 'sub' }, o.name));
  }
  return { main, action };
}
