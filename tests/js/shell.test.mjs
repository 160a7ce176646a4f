// The app shell's promises: everything offline is precached, versions agree, both languages
// carry every string, and the HTML passes the server's strict CSP (no inline script or style).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const PWA = new URL('../../pwa/', import.meta.url).pathname;
const read = (p) => readFileSync(join(PWA, p), 'utf8');
const files = (dir) => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
const precache = () => [...read('sw.js').match(/const PRECACHE = \[([\s\S]*?)\];/)[1].matchAll(/'\.\/([^']*)'/g)].map((m) => m[1]);

test('every file of the app except the worker itself is precached', () => {
  const all = files(PWA).map((f) => relative(PWA, f)).filter((f) => f !== 'sw.js').sort();

  assert.deepEqual([...precache()].sort(), all);
});

test('the worker and the page agree on the version', () => {
  const sw = read('sw.js').match(/const VERSION = '([^']+)'/)[1];
  const app = read('app.js').match(/export const APP_VERSION = '([^']+)'/)[1];

  assert.equal(sw, app);
});

test('the worker is a classic script with its listeners', () => {
  const sw = read('sw.js');

  assert.doesNotMatch(sw, /^\s*(import|export)\s/m);
  for (const event of ['install', 'activate', 'fetch', 'sync', 'push', 'notificationclick']) {
    assert.match(sw, new RegExp(`addEventListener\\('${event}'`));
  }
});

test('both languages have the same keys, and every key the code uses', () => {
  const zh = JSON.parse(read('i18n/zh-CN.json'));
  const en = JSON.parse(read('i18n/en.json'));
  const source = files(PWA).filter((f) => f.endsWith('.js')).map((f) => readFileSync(f, 'utf8')).join('\n');
  const used = [...source.matchAll(/\bt\('([a-z_.]+)'/g)].map((m) => m[1]);

  assert.deepEqual(Object.keys(zh).sort(), Object.keys(en).sort());
  for (const key of used) assert.ok(key in zh, `missing string ${key}`);
  for (const tag of ['consultation', 'bp_check', 'glucose_check', 'chronic_followup', 'health_education', 'vaccination', 'maternal_child', 'other']) {
    assert.ok(`service.${tag}` in zh);
  }
  assert.equal(zh['action.check_in'], '签到');
});

test('the page passes a strict CSP: no inline script, no style attributes, one stylesheet', () => {
  const html = read('index.html');

  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/);
  assert.doesNotMatch(html, /\sstyle=/);
  assert.doesNotMatch(html, /<style/);
  assert.equal((html.match(/rel="stylesheet"/g) || []).length, 1);
  assert.doesNotMatch(files(PWA).filter((f) => f.endsWith('.js')).map((f) => readFileSync(f, 'utf8')).join('\n'), /\beval\(|new Function\(|\.innerHTML\s*=/);
});

test('the manifest makes the app installable', () => {
  const m = JSON.parse(read('manifest.webmanifest'));

  assert.equal(m.scope, '/app/');
  assert.equal(m.display, 'standalone');
  assert.ok(m.icons.some((i) => i.sizes === '192x192'));
  assert.ok(m.icons.some((i) => i.sizes === '512x512'));
});
