// How big the resident's picture is drawn, and which of its pixels lies under the
// caseworker's pointer. Pure functions (no DOM), so Node's test runner checks them.

/** The two sizes a caseworker can choose: the whole screen in the space there is, or one
 * resident pixel per screen pixel (scrolling inside the stage) to read small print. */
export const SIZE_MODES = ['fit', 'actual'];

/**
 * The picture's box in CSS pixels, { width, height }, for a stage of stageW × stageH CSS
 * px and a picture of videoW × videoH pixels shown on a display of `dpr` device pixels per
 * CSS pixel. `fit` keeps the aspect ratio and never enlarges beyond the picture's own pixels
 * (enlarging only blurs text); `actual` is exactly one picture pixel per device pixel.
 * Null while a size is unknown.
 */
export function pictureBox({ stageW, stageH, videoW, videoH, dpr = 1, mode = 'fit' }) {
  if (!(videoW > 0 && videoH > 0 && dpr > 0)) return null;
  const natural = 1 / dpr;
  let scale = natural;
  if (mode !== 'actual') {
    if (!(stageW > 0 && stageH > 0)) return null;
    scale = Math.min(natural, stageW / videoW, stageH / videoH);
  }
  // Whole CSS pixels, rounded down, so the box never overflows the stage by a fraction;
  // less a hair first, because 1080 × (894 / 1080) is 893.9999… in floating point.
  const whole = (x) => Math.max(1, Math.floor(x + 1e-6));
  return { width: whole(videoW * scale), height: whole(videoH * scale) };
}

/**
 * Where a pointer at (offsetX, offsetY) CSS px inside a box of boxW × boxH CSS px, showing
 * a picture of videoW × videoH pixels, falls on the picture: { x, y } each in 0..1, or null
 * outside the box. The box's device pixels are mapped end to end onto the picture's, so the
 * first and last device pixels are the picture's first and last (a corner is always
 * reachable, even scaled down), and at actual size each device pixel is its own picture
 * pixel. The agent turns x back into the pixel round(x × (videoW − 1)).
 */
export function pixelAt({ offsetX, offsetY, boxW, boxH, videoW, videoH, dpr = 1 }) {
  if (!(boxW > 0 && boxH > 0 && videoW > 0 && videoH > 0 && dpr > 0)) return null;
  if (offsetX < 0 || offsetY < 0 || offsetX > boxW || offsetY > boxH) return null;
  const norm = (offset, box) => {
    const n = Math.max(1, Math.round(box * dpr)); // the box's device pixels
    const k = Math.min(n - 1, Math.floor(offset * dpr)); // the one under the pointer
    return n > 1 ? k / (n - 1) : 0;
  };
  return { x: norm(offsetX, boxW), y: norm(offsetY, boxH) };
}
