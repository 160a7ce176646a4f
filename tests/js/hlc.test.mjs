import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClock, formatHlc, parseHlc } from '../../pwa/hlc.js';

const DEVICE = '7f3c2a9e-1b4d-4e8f-9a60-2c5d8e1f0b7a';

test('an hlc is 15 digits of ms, 5 digits of counter and the device id, joined by dashes', () => {
  assert.equal(formatHlc(1763769600000, 0, DEVICE), `001763769600000-00000-${DEVICE}`);
});

test('parsing keeps the dashes of a uuid node id', () => {
  assert.deepEqual(parseHlc(`001763769600000-00042-${DEVICE}`), { wallMs: 1763769600000, counter: 42, node: DEVICE });
  assert.equal(parseHlc('1763769600000-0-x'), null);
});

test('tick follows the wall clock and counts up when it stands still', () => {
  let t = 1000;
  const clock = createClock(DEVICE, { now: () => t });

  const a = clock.tick();
  const b = clock.tick();
  t = 2000;
  const c = clock.tick();

  assert.equal(a, formatHlc(1000, 0, DEVICE));
  assert.equal(b, formatHlc(1000, 1, DEVICE));
  assert.equal(c, formatHlc(2000, 0, DEVICE));
});

test('a wall clock set back never makes the clock go back', () => {
  let t = 5000;
  const clock = createClock(DEVICE, { now: () => t });
  const before = clock.tick();

  t = 1000;
  const after = clock.tick();

  assert.ok(after > before);
});

test('receiving a later hlc moves the clock past it', () => {
  const clock = createClock(DEVICE, { now: () => 1000 });
  const remote = formatHlc(9000, 7, 'other-phone');

  clock.receive(remote);
  const next = clock.tick();

  assert.ok(next > remote);
  assert.equal(next, formatHlc(9000, 9, DEVICE));
});

test('string order is the clock order across widths', () => {
  assert.ok(formatHlc(999, 99999, DEVICE) < formatHlc(1000, 0, DEVICE));
});

test('the state survives a reload', () => {
  const first = createClock(DEVICE, { now: () => 5000 });
  first.tick(); first.tick();

  const second = createClock(DEVICE, { now: () => 100, state: first.state });

  assert.ok(second.tick() > first.last);
});

test('counter overflow borrows the next millisecond', () => {
  const clock = createClock(DEVICE, { now: () => 1000, state: { wallMs: 1000, counter: 99999 } });

  assert.equal(clock.tick(), formatHlc(1001, 0, DEVICE));
});
