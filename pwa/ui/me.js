// Me: who is signed in, language, reminders (the Web Push button), sync details, sign out.
import { formatDateTime, language, t } from '../i18n.js';
import { h } from './dom.js';

export function meScreen(ctx) {
  const u = ctx.user;
  const reminders = (() => {
    if (ctx.push === 'unsupported') return h('p', { class: 'muted' }, t(ctx.ios ? 'me.push_ios' : 'me.push_unsupported'));
    if (ctx.push === 'denied') return h('p', { class: 'muted' }, t('me.push_denied'));
    if (ctx.subscribed) return h('button', { type: 'button', class: 'secondary', 'data-action': 'disable-reminders', onclick: ctx.onDisableReminders }, t('me.push_off'));
    return h('button', { type: 'button', class: 'secondary', 'data-action': 'enable-reminders', onclick: ctx.onEnableReminders }, t('me.push_on'));
  })();
  const main = h('div', { class: 'screen me' },
    h('h2', {}, u.name),
    h('p', { class: 'muted' }, t(`role.${u.role}`), u.township_name || u.township ? ` · ${u.township_name || u.township}` : ''),
    h('section', { class: 'card' },
      h('div', { class: 'label' }, t('me.language')),
      h('div', { class: 'choices two' },
        ['zh-CN', 'en'].map((l) => h('button', { type: 'button', role: 'radio', class: 'choice', 'aria-checked': String(language() === l), 'data-lang': l, onclick: () => ctx.onLanguage(l) }, l === 'en' ? 'English' : '中文')))),
    h('section', { class: 'card' },
      h('div', { class: 'label' }, t('me.reminders')),
      h('p', { class: 'muted small' }, t('me.reminders_hint')),
      reminders),
    h('section', { class: 'card', 'data-testid': 'sync-details' },
      h('div', { class: 'label' }, t('me.sync')),
      h('p', {}, t('sync.waiting', { n: ctx.waiting })),
      ctx.rejected ? h('p', { class: 'error' }, t('sync.rejected', { n: ctx.rejected })) : null,
      h('p', {}, ctx.status.last_sync ? t('sync.last', { time: formatDateTime(ctx.status.last_sync, ctx.tz) }) : t('sync.never')),
      ctx.status.last_error ? h('p', { class: 'error' }, t(`sync_error.${ctx.status.last_error}`), ctx.status.last_error_message ? ` (${ctx.status.last_error_message})` : '') : null,
      ctx.storage ? h('p', { class: 'muted small' }, t('me.storage', ctx.storage)) : null,
      h('p', { class: 'muted small' }, t('me.version', { v: ctx.version }), ' · ', t('me.device', { id: ctx.deviceId.slice(0, 8) })),
      h('button', { type: 'button', class: 'secondary', 'data-action': 'sync-now', onclick: ctx.onSync }, t('sync.now'))),
    ctx.waiting ? h('p', { class: 'banner warn' }, t('me.signout_waiting', { n: ctx.waiting })) : null,
    h('button', { type: 'button', class: 'danger', 'data-action': 'sign-out', onclick: ctx.onSignOut }, t('me.signout')));
  return { main };
}
