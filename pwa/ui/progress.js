// One village's progress this week, as a card (used on the today screen).
import { t } from '../i18n.js';
import { h } from './dom.js';

export function progressCard(village, row) {
  const lines = [];
  if (row.mode === 'roster' || row.mode === 'both') lines.push(t('progress.duty', { n: row.duty_days, of: row.duty_required }));
  if (row.mode === 'patrol' || row.mode === 'both') lines.push(t('progress.patrol', { n: row.patrol_days, of: row.patrol_required }));
  return h('li', { class: `card progress status-${row.status}`, 'data-testid': `progress-${village.code}`, 'data-status': row.status },
    h('div', { class: 'row' },
      h('strong', {}, village.name),
      h('span', { class: `chip status-${row.status}${row.provisional ? ' provisional' : ''}` }, t(`status.${row.status}`))),
    lines.map((l) => h('div', { class: 'count' }, l)),
    h('div', { class: 'muted small' },
      row.provisional ? t('progress.provisional') : t('progress.final'),
      row.pending ? ` · ${t('progress.pending')}` : ''));
}
