// Editing one own visit: times, patients, services, notes; delete; a rejected edit shows the
// server's words and can be fixed (saved again) or discarded.
import { t } from '../i18n.js';
import { fromLocalInput, rfc3339, toLocalInput } from '../time.js';
import { checkVisit, MAX_NOTES } from '../visits.js';
import { h } from './dom.js';
import { patientsStepper, serviceChips } from './services.js';

export function visitScreen(ctx) {
  const v = ctx.visit;
  if (!v) return { main: h('div', { class: 'screen' }, h('p', {}, t('visit.missing')), h('a', { href: '#/history' }, t('nav.history'))) };
  const draft = { patients_seen: v.patients_seen ?? 0, services: [...(v.services || [])] };
  const started = h('input', { id: 'visit-started', type: 'datetime-local', value: toLocalInput(Date.parse(v.started_at), ctx.tz) });
  const ended = h('input', { id: 'visit-ended', type: 'datetime-local', value: v.ended_at ? toLocalInput(Date.parse(v.ended_at), ctx.tz) : '' });
  const notes = h('textarea', { id: 'visit-notes', maxlength: MAX_NOTES, rows: 4 });
  notes.value = v.notes || '';
  const counter = h('span', { class: 'muted small' }, `${notes.value.length}/${MAX_NOTES}`);
  notes.addEventListener('input', () => { counter.textContent = `${notes.value.length}/${MAX_NOTES}`; });
  const error = h('p', { class: 'error', role: 'alert', id: 'visit-error', hidden: true });

  const save = () => {
    const s = fromLocalInput(started.value, ctx.tz);
    const e = ended.value ? fromLocalInput(ended.value, ctx.tz) : null;
    const patch = {
      started_at: Number.isFinite(s) ? rfc3339(s, ctx.tz) : v.started_at,
      ended_at: e != null && Number.isFinite(e) ? rfc3339(e, ctx.tz) : null,
      patients_seen: draft.patients_seen, services: draft.services, notes: notes.value,
    };
    const problems = checkVisit({ ...v, ...patch });
    if (problems.length) { error.hidden = false; error.textContent = problems.map((p) => t(`check.${p}`)).join(' '); return; }
    ctx.onSave(v, patch);
  };

  const main = h('form', { class: 'screen visit', 'data-visit-id': v.id, onsubmit: (e) => { e.preventDefault(); save(); } },
    h('h2', {}, ctx.villageName(v.village), ' · ', t(`kind.${v.kind}`)),
    v.state === 'rejected' ? h('div', { class: 'banner error', 'data-testid': 'rejected' },
      h('strong', {}, t('visit.rejected')),
      h('ul', {}, (v.errors || []).map((er) => h('li', {}, er.message || er.code))),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'discard-edit', onclick: () => ctx.onDiscard(v) }, t('visit.discard'))) : null,
    v.state === 'pending' ? h('p', { class: 'banner' }, t('state.pending_long')) : null,
    (v.flags || []).length ? h('p', { class: 'chips' }, v.flags.map((f) => h('span', { class: 'chip flag' }, t(`flag.${f}`)))) : null,
    h('label', { for: 'visit-started' }, t('visit.started')), started,
    h('label', { for: 'visit-ended' }, t('visit.ended')), ended,
    h('label', { for: 'visit-patients' }, t('visit.patients')),
    patientsStepper(draft.patients_seen, (n) => { draft.patients_seen = n; }),
    h('div', { class: 'label' }, t('visit.services')),
    serviceChips(draft.services, (s) => { draft.services = s; }),
    h('label', { for: 'visit-notes' }, t('visit.notes'), ' ', counter), notes,
    error,
    h('button', { type: 'button', class: 'danger', 'data-action': 'delete-visit', onclick: () => {
      if (globalThis.confirm(t('visit.confirm_delete'))) ctx.onDelete(v);
    } }, t('visit.delete')));
  const action = h('button', { type: 'button', class: 'primary big', 'data-action': 'save-visit', onclick: save }, t('visit.save'));
  return { main, action };
}
