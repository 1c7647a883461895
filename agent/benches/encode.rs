//! Encode cost per 1920×1080 frame on a desktop-like picture, for H.264 camera mode
//! (what the agent uses) and screen-content mode, in one run so their ratio is fair.
//! Prints JSON on stdout. Run: `cargo bench -p acote-agent --bench encode`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::time::Instant;

use acote_agent::capture::Frame;
use acote_agent::encode::Encoder;
use acote_agent::encode::h264::{H264Encoder, H264Settings};

const W: usize = 1920;
const H: usize = 1080;

/// A light page with rows of dark "glyphs", like a form full of text.
fn desktop() -> Vec<u8> {
    let mut px = vec![0xf4u8; W * H * 4];
    let mut seed = 12345u32;
    for row in (120..H - 60).step_by(22) {
        for col in (80..W - 400).step_by(9) {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if seed >> 29 == 0 {
                continue; // a space between words
            }
            draw_glyph(&mut px, col, row, seed);
        }
    }
    px
}

fn draw_glyph(px: &mut [u8], x: usize, y: usize, seed: u32) {
    for dy in 0..14 {
        for dx in 0..7 {
            if (seed >> ((dx + dy * 7) % 31)) & 1 == 1 {
                let at = ((y + dy) * W + x + dx) * 4;
                px[at..at + 3].copy_from_slice(&[0x20, 0x20, 0x28]);
            }
        }
    }
}

fn frame(px: &[u8]) -> Frame<'_> {
    Frame {
        width: W as u32,
        height: H as u32,
        stride: W * 4,
        data: px,
    }
}

struct Result {
    mode: &'static str,
    keyframe_ms: f64,
    keyframe_bytes: usize,
    typing_ms_per_frame: f64,
    typing_bytes_per_frame: f64,
    static_bytes_per_frame: f64,
}

fn run(mode: &'static str, screen_content: bool) -> Result {
    let mut enc = H264Encoder::new(H264Settings {
        screen_content,
        ..H264Settings::default()
    });
    let mut px = desktop();
    let t = Instant::now();
    let keyframe_bytes = enc
        .encode(&frame(&px), true)
        .unwrap()
        .map_or(0, |f| f.data.len());
    let keyframe_ms = t.elapsed().as_secs_f64() * 1e3;
    // Typing: one new glyph per frame in a form field.
    let n = 30;
    let mut bytes = 0usize;
    // To compare other encoders on exactly these frames (e.g. VP8 with ffmpeg), set
    // ACOTE_BENCH_DUMP to a file: the key frame and the typing frames go there as raw BGRA.
    let mut dump = std::env::var_os("ACOTE_BENCH_DUMP")
        .filter(|_| !screen_content)
        .map(|p| std::fs::File::create(p).unwrap());
    if let Some(f) = dump.as_mut() {
        std::io::Write::write_all(f, &px).unwrap();
    }
    let t = Instant::now();
    for i in 0..n {
        draw_glyph(&mut px, 300 + i * 9, 70, 0xdead_beef ^ i as u32);
        if let Some(f) = dump.as_mut() {
            std::io::Write::write_all(f, &px).unwrap();
        }
        bytes += enc
            .encode(&frame(&px), false)
            .unwrap()
            .map_or(0, |f| f.data.len());
    }
    let typing_ms_per_frame = t.elapsed().as_secs_f64() * 1e3 / n as f64;
    let mut still = 0usize;
    for _ in 0..10 {
        still += enc
            .encode(&frame(&px), false)
            .unwrap()
            .map_or(0, |f| f.data.len());
    }
    Result {
        mode,
        keyframe_ms,
        keyframe_bytes,
        typing_ms_per_frame,
        typing_bytes_per_frame: bytes as f64 / n as f64,
        static_bytes_per_frame: still as f64 / 10.0,
    }
}

fn main() {
    let results = [run("camera", false), run("screen_content", true)];
    let rows: Vec<String> = results
        .iter()
        .map(|r| {
            format!(
                r#"{{"mode":"{}","keyframe_ms":{:.1},"keyframe_bytes":{},"typing_ms_per_frame":{:.2},"typing_bytes_per_frame":{:.0},"static_bytes_per_frame":{:.0}}}"#,
                r.mode, r.keyframe_ms, r.keyframe_bytes, r.typing_ms_per_frame, r.typing_bytes_per_frame, r.static_bytes_per_frame
            )
        })
        .collect();
    let ratio = results[1].typing_ms_per_frame / results[0].typing_ms_per_frame;
    println!(
        r#"{{"resolution":"1920x1080","results":[{}],"screen_over_camera_time":{ratio:.2}}}"#,
        rows.join(",")
    );
}
