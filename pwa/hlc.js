// The hybrid logical clock of SPEC §6, mirroring sync/hlc.py:
// `<15-digit wall ms>-<5-digit counter>-<node id>`; fixed widths make string order the clock order.

const WALL_DIGITS = 15;
const COUNTER_DIGITS = 5;
const MAX_COUNTER = 10 ** COUNTER_DIGITS - 1;
// The node id is everything after the second dash: device ids are UUIDs, dashes included.
const HLC = /^(\d{15})-(\d{5})-([!-~]{1,128})$/;

export function formatHlc(wallMs, counter, node) {
  return `${String(wallMs).padStart(WALL_DIGITS, '0')}-${String(counter).padStart(COUNTER_DIGITS, '0')}-${node}`;
}

/** {wallMs, counter, node}, or null when `text` is not an hlc. */
export function parseHlc(text) {
  const m = typeof text === 'string' ? HLC.exec(text) : null;
  return m ? { wallMs: Number(m[1]), counter: Number(m[2]), node: m[3] } : null;
}

/**
 * One node's clock. `tick()` stamps a local edit; `receive(hlc)` moves past a pulled one.
 * `state` ({wallMs, counter}) is saved by the caller so the clock survives reloads even when
 * the phone's wall clock is set back.
 */
export function createClock(node, { now = () => Date.now(), state = null } = {}) {
  let wallMs = state?.wallMs ?? 0;
  let counter = state?.counter ?? 0;

  function bump() {
    if (counter < MAX_COUNTER) counter += 1;
    else { wallMs += 1; counter = 0; } // 100,000 edits in one ms: borrow the next ms
  }

  return {
    node,
    get last() { return formatHlc(wallMs, counter, node); },
    get state() { return { wallMs, counter }; },
    tick() {
      const t = now();
      if (t > wallMs) { wallMs = t; counter = 0; } else bump();
      return formatHlc(wallMs, counter, node);
    },
    receive(remote) {
      const other = parseHlc(remote);
      if (!other) return formatHlc(wallMs, counter, node);
      const t = now();
      const latest = Math.max(wallMs, other.wallMs, t);
      if (latest === wallMs && latest === other.wallMs) {
        counter = Math.max(counter, other.counter); bump();
      } else if (latest === wallMs) {
        bump();
      } else if (latest === other.wallMs) {
        wallMs = latest; counter = other.counter; bump();
      } else {
        wallMs = latest; counter = 0;
      }
      return formatHlc(wallMs, counter, node);
    },
  };
}
