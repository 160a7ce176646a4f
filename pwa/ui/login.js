// Sign-in screen. `ctx`: {phone, error, busy, waiting, expired, onSubmit({phone, password}), onLanguage(lang)}.
import { t } from '../i18n.js';
import { h } from './dom.js';

export function loginScreen(ctx) {
  const phone = h('input', { id: 'login-phone', name: 'phone', type: 'tel', inputmode: 'tel', autocomplete: 'username', required: true, value: ctx.phone || '' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', { id: 'login-form', class: 'login', novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    if (!phone.value.trim() || !password.value) return;
    ctx.onSubmit({ phone: phone.value.trim(), password: password.value });
  } },
  h('h1', { class: 'brand' }, t('app.name')),
  h('p', { class: 'tagline' }, t('app.tagline')),
  ctx.expired ? h('p', { class: 'banner warn', id: 'login-expired', role: 'status' }, t('login.expired', { n: ctx.waiting })) : null,
  h('label', { for: 'login-phone' }, t('login.phone')), phone,
  h('label', { for: 'login-password' }, t('login.password')), password,
  h('p', { id: 'login-error', class: 'error', role: 'alert', hidden: !ctx.error }, ctx.error || ''),
  h('button', { id: 'login-submit', type: 'submit', class: 'primary big', disabled: ctx.busy }, ctx.busy ? t('login.busy') : t('login.submit')),
  h('p', { class: 'lang-switch' },
    h('button', { type: 'button', class: 'link', 'data-lang': 'zh-CN', onclick: () => ctx.onLanguage('zh-CN') }, '中文'),
    ' · ',
    h('button', { type: 'button', class: 'link', 'data-lang': 'en', onclick: () => ctx.onLanguage('en') }, 'English')));
  return { main: form, focus: ctx.phone ? password : phone };
}
