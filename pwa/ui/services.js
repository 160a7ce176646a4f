// Service tags as large toggle chips (SPEC §3 tags, shown in the current language).
import { t } from '../i18n.js';
import { SERVICES } from '../visits.js';
import { h } from './dom.js';

export function serviceChips(selected, onChange) {
  const chosen = new Set(selected || []);
  return h('div', { class: 'chips', role: 'group', 'aria-label': t('visit.services') },
    SERVICES.map((tag) => h('button', {
      type: 'button', class: 'chip toggle', 'data-service': tag, 'aria-pressed': String(chosen.has(tag)),
      onclick: (e) => {
        if (chosen.has(tag)) chosen.delete(tag); else chosen.add(tag);
        e.currentTarget.setAttribute('aria-pressed', String(chosen.has(tag)));
        onChange(SERVICES.filter((s) => chosen.has(s)));
      },
    }, t(`service.${tag}`))));
}

export function patientsStepper(value, onChange) {
  const input = h('input', { id: 'visit-patients', type: 'number', inputmode: 'numeric', min: 0, max: 500, value: String(value ?? 0),
    onchange: () => onChange(clamp(parseInt(input.value, 10))) });
  const clamp = (n) => { const v = Math.max(0, Math.min(500, Number.isFinite(n) ? n : 0)); input.value = String(v); return v; };
  return h('div', { class: 'stepper' },
    h('button', { type: 'button', class: 'step', 'data-action': 'patients-minus', 'aria-label': '−1', onclick: () => onChange(clamp(parseInt(input.value, 10) - 1)) }, '−'),
    input,
    h('button', { type: 'button', class: 'step', 'data-action': 'patients-plus', 'aria-label': '+1', onclick: () => onChange(clamp(parseInt(input.value, 10) + 1)) }, '+'));
}
