// The resident's monitors, the pure part: checking the agent's `screens` message and
// naming each monitor for the caseworker. No DOM, no channel, so Node's test runner checks
// it (tests/unit/screens.test.mjs). The agent crops the picture to the monitor chosen and
// maps the pointer onto it: nothing here changes how the picture is fitted or clicked.

/** Most monitors the agent describes (`MAX_SCREENS` in proto/src/channel.rs). */
export const MAX_SCREENS = 16;
const MAX_NAME = 64;
const MAX_PIXELS = 1 << 20; // no monitor is a million pixels wide

const isCount = (v, max = MAX_PIXELS) => Number.isSafeInteger(v) && v >= 0 && v <= max;

function checkScreen(s) {
  if (!s || typeof s !== 'object') return null;
  const { id, name, x, y, width, height, primary } = s;
  if (!isCount(id, MAX_SCREENS - 1) || !isCount(x) || !isCount(y)) return null;
  if (!isCount(width) || !isCount(height) || width === 0 || height === 0) return null;
  if (typeof primary !== 'boolean') return null;
  // The name is only a hint (shown in a tooltip): a strange one is dropped, not the monitor.
  const shown = typeof name === 'string' && name.length <= MAX_NAME && !/[\u0000-\u001F\u007F-\u009F]/.test(name)
    ? name : '';
  return { id, name: shown, x, y, width, height, primary };
}

/** The agent's `screens` message, checked: { screens, shown } with the monitors in
 * reading order (left to right, then top to bottom) and `shown` an id of the list or
 * null (the whole desktop); null when the message is not a valid list. */
export function parseScreens(msg) {
  if (!msg || !Array.isArray(msg.screens) || msg.screens.length > MAX_SCREENS) return null;
  const screens = [];
  const ids = new Set();
  for (const raw of msg.screens) {
    const s = checkScreen(raw);
    if (!s || ids.has(s.id)) return null;
    ids.add(s.id);
    screens.push(s);
  }
  screens.sort((a, b) => a.x - b.x || a.y - b.y || a.id - b.id);
  const shown = Number.isSafeInteger(msg.shown) && ids.has(msg.shown) ? msg.shown : null;
  return { screens, shown };
}

/** Whether the caseworker has a choice to make: two monitors or more. */
export function hasChoice(list) {
  return Boolean(list && list.screens.length >= 2);
}

/** The choices offered, in order: { id (null for all), n (1, 2… for the monitors, in
 * reading order), primary, name, width, height, pressed }, the whole desktop last. */
export function choices(list) {
  if (!hasChoice(list)) return [];
  const out = list.screens.map((s, i) => ({
    id: s.id, n: i + 1, primary: s.primary, name: s.name, width: s.width, height: s.height,
    pressed: list.shown === s.id,
  }));
  out.push({ id: null, n: null, primary: false, name: '', width: null, height: null, pressed: list.shown === null });
  return out;
}

/** Whether two lists offer the same choices (the agent re-sends the list when anything
 * changes; an identical one need not redraw the buttons, which would lose the focus). */
export function sameList(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}
