//! The picture sent instead of the screen while the PC shows a screen no program may
//! read (on Windows the secure desktop: a UAC prompt, the lock screen, Ctrl+Alt+Del). The
//! caseworker sees a calm slate picture saying so, rather than a frozen image or an error.

/// The sentence, in capitals of the tiny built-in font below.
const MESSAGE: &str = "THE PC IS SHOWING A PROTECTED SCREEN";

/// 5×7 glyphs, one byte per row, the five low bits from left to right.
fn glyph(c: char) -> [u8; 7] {
    match c {
        'A' => [0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
        'C' => [0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e],
        'D' => [0x1e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1e],
        'E' => [0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f],
        'G' => [0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f],
        'H' => [0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11],
        'I' => [0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e],
        'N' => [0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x11],
        'O' => [0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e],
        'P' => [0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10],
        'R' => [0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11],
        'S' => [0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e],
        'T' => [0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a],
        _ => [0; 7],
    }
}

const BACKGROUND: [u8; 4] = [0x4a, 0x3b, 0x2d, 0xff]; // B, G, R, X: a dark slate blue
const INK: [u8; 4] = [0xff, 0xff, 0xff, 0xff];

/// A `width`×`height` B, G, R, X picture (stride `width * 4`) saying the screen is
/// protected, the sentence centred and as large as fits.
pub fn picture(width: u32, height: u32) -> Vec<u8> {
    let (w, h) = (width as usize, height as usize);
    let mut px: Vec<u8> = BACKGROUND.iter().copied().cycle().take(w * h * 4).collect();
    // Each glyph is 5 dots wide plus 1 of spacing.
    let cells = MESSAGE.chars().count() * 6;
    let scale = (w * 8 / 10 / cells.max(1)).clamp(1, 12);
    let (text_w, text_h) = (cells * scale, 7 * scale);
    let (x0, y0) = (w.saturating_sub(text_w) / 2, h.saturating_sub(text_h) / 2);
    for (i, c) in MESSAGE.chars().enumerate() {
        for (row, bits) in glyph(c).iter().enumerate() {
            for col in 0..5 {
                if bits & (0x10 >> col) == 0 {
                    continue;
                }
                let (gx, gy) = (x0 + (i * 6 + col) * scale, y0 + row * scale);
                for y in gy..(gy + scale).min(h) {
                    for x in gx..(gx + scale).min(w) {
                        let at = (y * w + x) * 4;
                        px[at..at + 4].copy_from_slice(&INK);
                    }
                }
            }
        }
    }
    px
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_letter_of_the_sentence_has_a_glyph() {
        assert!(
            MESSAGE
                .chars()
                .all(|c| c == ' ' || glyph(c).iter().any(|row| *row != 0))
        );
    }

    #[test]
    fn the_picture_has_the_screen_size_and_some_ink() {
        let p = picture(640, 480);
        assert_eq!(p.len(), 640 * 480 * 4);
        assert!(p.chunks(4).any(|px| px == INK));
        assert_eq!(&p[..4], &BACKGROUND);
        // A tiny screen still gets a picture, clipped, never a panic.
        assert_eq!(picture(3, 2).len(), 24);
    }
}
