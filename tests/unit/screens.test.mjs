// The monitor list (viewer/src/screens.js), without a browser: the agent's `screens`
// message checked, the monitors in reading order, the choices offered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SCREENS, parseScreens, hasChoice, choices, sameList } from '../../viewer/src/screens.js';

const LEFT = { id: 0, name: 'LEFT', x: 0, y: 0, width: 1366, height: 768, primary: true };
const RIGHT = { id: 1, name: 'RIGHT', x: 1366, y: 0, width: 1366, height: 768, primary: false };

test('a valid list, in reading order, with the monitor shown', () => {
  const list = parseScreens({ type: 'screens', screens: [RIGHT, LEFT], shown: 1 });
  assert.deepEqual(list.screens.map((s) => s.name), ['LEFT', 'RIGHT'], 'left to right');
  assert.equal(list.shown, 1);
  assert.equal(parseScreens({ screens: [LEFT, RIGHT], shown: null }).shown, null);
  assert.equal(parseScreens({ screens: [LEFT, RIGHT] }).shown, null, 'no shown: all');
  assert.equal(parseScreens({ screens: [LEFT, RIGHT], shown: 7 }).shown, null, 'an unknown id: all');
  const stacked = parseScreens({ screens: [{ ...LEFT, id: 0, y: 1080 }, { ...RIGHT, id: 1, x: 0 }] });
  assert.deepEqual(stacked.screens.map((s) => s.id), [1, 0], 'same left edge: top first');
});

test('broken lists are refused whole; a strange name is only dropped', () => {
  for (const bad of [null, {}, { screens: 'x' }, { screens: [{ ...LEFT, id: -1 }] }, { screens: [{ ...LEFT, id: 16 }] },
    { screens: [{ ...LEFT, width: 0 }] }, { screens: [{ ...LEFT, x: 1.5 }] }, { screens: [{ ...LEFT, primary: 'yes' }] },
    { screens: [LEFT, { ...RIGHT, id: 0 }] }, { screens: [{ ...LEFT, height: '768' }] }, { screens: [null] },
    { screens: Array.from({ length: MAX_SCREENS + 1 }, (_, i) => ({ ...LEFT, id: i % 16 })) }]) {
    assert.equal(parseScreens(bad), null, JSON.stringify(bad)?.slice(0, 60));
  }
  assert.equal(parseScreens({ screens: [{ ...LEFT, name: 'a\u0007b' }] }).screens[0].name, '');
  assert.equal(parseScreens({ screens: [{ ...LEFT, name: 'x'.repeat(65) }] }).screens[0].name, '');
  assert.equal(parseScreens({ screens: [{ ...LEFT, name: 42 }] }).screens[0].name, '');
});

test('a choice only with two monitors or more: numbered in reading order, the whole desktop last', () => {
  assert.equal(hasChoice(null), false);
  const one = parseScreens({ screens: [LEFT], shown: null });
  assert.equal(hasChoice(one), false);
  assert.deepEqual(choices(one), []);
  const two = parseScreens({ screens: [RIGHT, LEFT], shown: 1 });
  assert.ok(hasChoice(two));
  assert.deepEqual(choices(two), [
    { id: 0, n: 1, primary: true, name: 'LEFT', width: 1366, height: 768, pressed: false },
    { id: 1, n: 2, primary: false, name: 'RIGHT', width: 1366, height: 768, pressed: true },
    { id: null, n: null, primary: false, name: '', width: null, height: null, pressed: false },
  ]);
  const all = parseScreens({ screens: [LEFT, RIGHT], shown: null });
  assert.deepEqual(choices(all).map((c) => c.pressed), [false, false, true]);
});

test('the same monitors are the same list', () => {
  const a = parseScreens({ screens: [LEFT, RIGHT], shown: null });
  const b = parseScreens({ screens: [RIGHT, LEFT], shown: null });
  assert.ok(sameList(a, b));
  assert.ok(!sameList(a, parseScreens({ screens: [LEFT, { ...RIGHT, width: 1920 }], shown: null })));
});
