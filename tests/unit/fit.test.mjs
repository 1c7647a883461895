// The viewer's picture sizing and pointer mapping (viewer/src/fit.js), without a browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pictureBox, pixelAt } from '../../viewer/src/fit.js';

test('fit: a 1920×1080 screen in a 1366-wide laptop stage is scaled down whole', () => {
  // 1366×768 window: ~110 px of browser bars, ~90 px of header and toolbar.
  const box = pictureBox({ stageW: 1366, stageH: 560, videoW: 1920, videoH: 1080 });
  assert.deepEqual(box, { width: 995, height: 560 });
  assert.ok(box.width <= 1366 && box.height <= 560);
});

test('fit: the aspect ratio is kept when the width is what limits', () => {
  const box = pictureBox({ stageW: 800, stageH: 900, videoW: 1920, videoH: 1080 });
  assert.equal(box.width, 800);
  assert.equal(box.height, 450);
});

test('fit never enlarges beyond the picture’s own pixels (text stays sharp)', () => {
  assert.deepEqual(pictureBox({ stageW: 1920, stageH: 900, videoW: 1366, videoH: 768 }),
    { width: 1366, height: 768 });
  // On a 2× display one picture pixel is half a CSS pixel.
  assert.deepEqual(pictureBox({ stageW: 1920, stageH: 900, videoW: 1366, videoH: 768, dpr: 2 }),
    { width: 683, height: 384 });
});

test('actual size ignores the stage: one picture pixel per display pixel', () => {
  assert.deepEqual(pictureBox({ stageW: 300, stageH: 200, videoW: 1920, videoH: 1080, mode: 'actual' }),
    { width: 1920, height: 1080 });
  assert.deepEqual(pictureBox({ stageW: 0, stageH: 0, videoW: 1920, videoH: 1080, dpr: 1.5, mode: 'actual' }),
    { width: 1280, height: 720 });
});

test('no box until both sizes are known', () => {
  assert.equal(pictureBox({ stageW: 1366, stageH: 600, videoW: 0, videoH: 0 }), null);
  assert.equal(pictureBox({ stageW: 0, stageH: 0, videoW: 1920, videoH: 1080 }), null);
});

test('pixelAt: corners land on the corners at any scale, and actual size is exact', () => {
  // The agent's injector: round(x × (W − 1)).
  const back = (p) => ({ x: Math.round(p.x * 1919), y: Math.round(p.y * 1079) });
  for (const [boxW, boxH, dpr] of [[995, 560, 1], [839, 472, 1], [1920, 1080, 1], [960, 540, 2], [1366, 768, 1.25]]) {
    const box = { boxW, boxH, videoW: 1920, videoH: 1080, dpr };
    const last = (b) => (Math.round(b * dpr) - 0.5) / dpr; // the centre of the last device pixel
    assert.deepEqual(back(pixelAt({ ...box, offsetX: 0.2, offsetY: 0.2 })), { x: 0, y: 0 }, `top-left in ${boxW}×${boxH}`);
    assert.deepEqual(back(pixelAt({ ...box, offsetX: last(boxW), offsetY: last(boxH) })), { x: 1919, y: 1079 },
      `bottom-right in ${boxW}×${boxH} at ${dpr}×`);
    assert.deepEqual(back(pixelAt({ ...box, offsetX: boxW, offsetY: boxH })), { x: 1919, y: 1079 }, 'the very edge');
    // Anywhere else: within one device pixel's worth of the picture.
    const centre = back(pixelAt({ ...box, offsetX: boxW / 2, offsetY: boxH / 2 }));
    assert.ok(Math.abs(centre.x - 960) <= 1920 / (boxW * dpr) + 1 && Math.abs(centre.y - 540) <= 1080 / (boxH * dpr) + 1,
      `centre in ${boxW}×${boxH}: ${JSON.stringify(centre)}`);
  }
  // At actual size every device pixel is its own picture pixel.
  const actual = { boxW: 1920, boxH: 1080, videoW: 1920, videoH: 1080 };
  for (const px of [0, 1, 37, 960, 1918, 1919]) {
    assert.equal(back(pixelAt({ ...actual, offsetX: px + 0.5, offsetY: 3.5 })).x, px);
  }
});

test('pixelAt is null outside the picture', () => {
  const box = { boxW: 100, boxH: 50, videoW: 200, videoH: 100 };
  assert.equal(pixelAt({ ...box, offsetX: -1, offsetY: 10 }), null);
  assert.equal(pixelAt({ ...box, offsetX: 10, offsetY: 50.5 }), null);
  assert.equal(pixelAt({ ...box, offsetX: 10, offsetY: 10, videoW: 0 }), null);
});

test('fit: a stage exactly as tall as a scaled picture gets every row of it (no float shortfall)', () => {
  // 1080 × (894 / 1080) is 893.9999… in floating point: the box is 894 rows, not 893.
  const box = pictureBox({ stageW: 1830, stageH: 894, videoW: 1920, videoH: 1080 });
  assert.equal(box.height, 894);
  assert.ok(box.width <= 1830 && box.width === Math.floor(1920 * (894 / 1080) + 1e-6));
});
