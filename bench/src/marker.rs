//! `acote-bench marker`: the glass-to-glass probe. `paint` shows a coded pattern carrying a
//! sequence number in the top-left corner of an X screen and changes it at a steady pace,
//! printing when each change reached the X server; `watch` reads the same corner of
//! another X screen (a VNC viewer's) and prints when each number appears. Both print the
//! machine's wall clock in microseconds, the clock the viewer page reads too.
//!
//! The pattern is 16 square cells in a row, black for 1 and white for 0: 12 bits of
//! sequence number, most significant first, then a 4-bit check. Cells are large enough
//! that a video codec keeps their centres flat.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ConfigureWindowAux, ConnectionExt, CreateGCAux, CreateWindowAux, ImageFormat, Rectangle,
    StackMode, WindowClass,
};

/// Cells in the pattern.
pub(crate) const CELLS: u16 = 16;
/// Side of one cell in pixels.
pub(crate) const CELL: u16 = 20;
/// Sequence numbers wrap at 2^12.
const SEQ_BITS: u16 = 12;

/// The 4-bit check of a sequence number.
fn check(seq: u16) -> u16 {
    (seq ^ (seq >> 4) ^ (seq >> 8) ^ 0b1010) & 0xf
}

/// The 16 bits shown for `seq`, cell 0 first.
pub(crate) fn encode(seq: u16) -> [bool; CELLS as usize] {
    let seq = seq & ((1 << SEQ_BITS) - 1);
    let word = (seq << 4) | check(seq);
    std::array::from_fn(|i| word & (1 << (CELLS as usize - 1 - i)) != 0)
}

/// Reads a pattern from the luminance (0–255) at each cell's centre; `None` when the
/// check fails (no pattern there, or a half-drawn one).
pub(crate) fn decode(luma: impl Fn(usize) -> u8) -> Option<u16> {
    let word = (0..CELLS as usize).fold(0u16, |w, i| (w << 1) | u16::from(luma(i) < 128));
    let seq = word >> 4;
    (word & 0xf == check(seq)).then_some(seq)
}

fn wall_micros() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

/// Shows the pattern on `display`, a new number every `every` counting from `start`, for
/// ever (until killed).
pub(crate) fn paint(display: &str, every: Duration, start: u16) -> anyhow::Result<()> {
    let (conn, screen_num) = x11rb::connect(Some(display))
        .with_context(|| format!("cannot open the X display {display}"))?;
    let screen = conn
        .setup()
        .roots
        .get(screen_num)
        .ok_or_else(|| anyhow!("display {display} has no screen {screen_num}"))?;
    let (root, black, white) = (screen.root, screen.black_pixel, screen.white_pixel);
    let window = conn.generate_id()?;
    conn.create_window(
        x11rb::COPY_DEPTH_FROM_PARENT,
        window,
        root,
        0,
        0,
        CELLS * CELL,
        CELL,
        0,
        WindowClass::INPUT_OUTPUT,
        x11rb::COPY_FROM_PARENT,
        // Override-redirect: no window manager moves it, and it stays where it is put.
        &CreateWindowAux::new()
            .override_redirect(1)
            .background_pixel(white),
    )?;
    conn.map_window(window)?;
    let (ink, paper) = (conn.generate_id()?, conn.generate_id()?);
    conn.create_gc(ink, window, &CreateGCAux::new().foreground(black))?;
    conn.create_gc(paper, window, &CreateGCAux::new().foreground(white))?;
    let mut out = std::io::stdout().lock();
    let mut next = std::time::Instant::now();
    for seq in (u32::from(start)..).map(|n| (n % (1 << SEQ_BITS)) as u16) {
        let bits = encode(seq);
        let cells = |on: bool| -> Vec<Rectangle> {
            (0..CELLS)
                .filter(|&i| bits[i as usize] == on)
                .map(|i| Rectangle {
                    x: (i * CELL) as i16,
                    y: 0,
                    width: CELL,
                    height: CELL,
                })
                .collect()
        };
        // Kept above whatever the page under it raises.
        conn.configure_window(
            window,
            &ConfigureWindowAux::new().stack_mode(StackMode::ABOVE),
        )?;
        conn.poly_fill_rectangle(window, ink, &cells(true))?;
        conn.poly_fill_rectangle(window, paper, &cells(false))?;
        // A round trip: when it returns, the server has drawn the cells.
        conn.get_input_focus()?.reply()?;
        writeln!(out, "paint {seq} {}", wall_micros())?;
        out.flush()?;
        next += every;
        if let Some(rest) = next.checked_duration_since(std::time::Instant::now()) {
            std::thread::sleep(rest);
        }
    }
    Ok(())
}

/// Polls the top-left corner of `display` every `every` and prints each new number seen.
pub(crate) fn watch(display: &str, every: Duration) -> anyhow::Result<()> {
    let (conn, screen_num) = x11rb::connect(Some(display))
        .with_context(|| format!("cannot open the X display {display}"))?;
    let root = conn
        .setup()
        .roots
        .get(screen_num)
        .map(|s| s.root)
        .ok_or_else(|| anyhow!("display {display} has no screen {screen_num}"))?;
    let mut out = std::io::stdout().lock();
    let mut last = None;
    loop {
        let image = conn
            .get_image(ImageFormat::Z_PIXMAP, root, 0, 0, CELLS * CELL, CELL, !0)?
            .reply()?;
        let stride = usize::from(CELLS * CELL) * 4;
        let centre = usize::from(CELL / 2);
        let seen = decode(|i| {
            let at = centre * stride + (i * usize::from(CELL) + centre) * 4;
            image.data.get(at..at + 3).map_or(255, |p| {
                // B, G, R byte order on little-endian 24/32-bit visuals.
                ((u32::from(p[0]) * 29 + u32::from(p[1]) * 150 + u32::from(p[2]) * 77) >> 8) as u8
            })
        });
        if let Some(seq) = seen
            && last != Some(seq)
        {
            last = Some(seq);
            writeln!(out, "seen {seq} {}", wall_micros())?;
            out.flush()?;
        }
        std::thread::sleep(every);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_number_round_trips() {
        for seq in 0..4096u16 {
            let bits = encode(seq);
            let back = decode(|i| if bits[i] { 10 } else { 240 });
            assert_eq!(back, Some(seq));
        }
    }

    #[test]
    fn a_blank_or_flipped_corner_is_not_a_number() {
        assert_eq!(decode(|_| 255), None, "all white");
        let bits = encode(1234);
        // One cell read wrong fails the check.
        let back = decode(|i| if bits[i] != (i == 3) { 10 } else { 240 });
        assert_ne!(back, Some(1234));
    }
}
