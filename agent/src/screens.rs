//! The resident's monitors, and which part of the desktop the caseworker sees: one
//! monitor, or all of them as the desktop spans them. IO-free and shared: the capture
//! thread crops each frame to the chosen monitor ([`Shown::crop`]), and control maps
//! the caseworker's pointer positions back onto the whole desktop
//! ([`Shown::to_desktop`]), so a click lands on the monitor the caseworker sees.

use std::sync::{Arc, Mutex, PoisonError};

use acote_proto::channel::ScreenInfo;

use crate::capture::Frame;

/// A monitor's place on the captured desktop, in pixels from its top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// One of the resident's monitors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Monitor {
    /// The system's name for it (`HDMI-1`).
    pub name: String,
    /// Where it is on the desktop.
    pub rect: Rect,
    /// The system's main monitor.
    pub primary: bool,
}

/// The monitors as the caseworker is told of them: `id` is the index in the list.
pub fn describe(monitors: &[Monitor]) -> Vec<ScreenInfo> {
    monitors
        .iter()
        .zip(0u32..)
        .take(acote_proto::channel::MAX_SCREENS)
        .map(|(m, id)| ScreenInfo {
            id,
            name: m
                .name
                .chars()
                .filter(|c| !c.is_control())
                .take(32)
                .collect(),
            x: m.rect.x,
            y: m.rect.y,
            width: m.rect.width,
            height: m.rect.height,
            primary: m.primary,
        })
        .collect()
}

/// Where a monitor given by its edges in the system's own coordinates (Windows' virtual
/// screen, whose origin is the primary monitor's corner, so others may lie at negative
/// positions) sits on the captured desktop, whose top-left corner is `origin` in those
/// coordinates. `None` for an empty monitor or one not wholly on the desktop.
pub fn place(origin: (i32, i32), left: i32, top: i32, right: i32, bottom: i32) -> Option<Rect> {
    let x = u32::try_from(i64::from(left) - i64::from(origin.0)).ok()?;
    let y = u32::try_from(i64::from(top) - i64::from(origin.1)).ok()?;
    let width = u32::try_from(i64::from(right) - i64::from(left)).ok()?;
    let height = u32::try_from(i64::from(bottom) - i64::from(top)).ok()?;
    (width > 0 && height > 0).then_some(Rect {
        x,
        y,
        width,
        height,
    })
}

#[derive(Debug, Default)]
struct State {
    /// The monitor shown; `None`: the whole desktop.
    rect: Option<Rect>,
    /// The desktop's size as last captured.
    desktop: (u32, u32),
}

/// What the caseworker sees, shared between the capture thread and control.
#[derive(Debug, Clone, Default)]
pub struct Shown(Arc<Mutex<State>>);

impl Shown {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is two plain values: one a panicking thread left behind is still sane.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Shows one monitor (`Some`) or the whole desktop (`None`).
    pub fn set(&self, rect: Option<Rect>) {
        self.state().rect = rect;
    }

    /// The monitor shown, if one is.
    pub fn get(&self) -> Option<Rect> {
        self.state().rect
    }

    /// The part of `frame` (the whole desktop) the caseworker sees. A monitor that is
    /// no longer inside the desktop (the layout changed) shows the whole desktop.
    pub fn crop<'a>(&self, frame: Frame<'a>) -> Frame<'a> {
        let mut state = self.state();
        state.desktop = (frame.width, frame.height);
        let Some(r) = state.rect else {
            return frame;
        };
        let inside = r.width > 0
            && r.height > 0
            && r.x.checked_add(r.width).is_some_and(|e| e <= frame.width)
            && r.y.checked_add(r.height).is_some_and(|e| e <= frame.height);
        if !inside {
            return frame;
        }
        let start = r.y as usize * frame.stride + r.x as usize * 4;
        match frame.data.get(start..) {
            Some(data) => Frame {
                width: r.width,
                height: r.height,
                stride: frame.stride,
                data,
            },
            None => frame,
        }
    }

    /// A position in 0..=1 of what the caseworker sees, as a position in 0..=1 of the
    /// whole desktop (what the injector and the marker use).
    pub fn to_desktop(&self, x: f64, y: f64) -> (f64, f64) {
        let state = self.state();
        let (Some(r), (w, h)) = (state.rect, state.desktop) else {
            return (x, y);
        };
        if w == 0 || h == 0 || r.x + r.width > w || r.y + r.height > h {
            return (x, y);
        }
        let map = |v: f64, start: u32, len: u32, total: u32| {
            // The last pixel of the monitor, not the first of the next one.
            let px = f64::from(start) + v * f64::from(len.saturating_sub(1));
            (px / f64::from(total.saturating_sub(1).max(1))).clamp(0.0, 1.0)
        };
        (map(x, r.x, r.width, w), map(y, r.y, r.height, h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4×2 desktop of two 2×2 monitors; each pixel's first byte is its x.
    fn desktop() -> Vec<u8> {
        (0..2)
            .flat_map(|_| (0u8..4).flat_map(|x| [x, 0, 0, 0]))
            .collect()
    }

    fn frame(data: &[u8]) -> Frame<'_> {
        Frame {
            width: 4,
            height: 2,
            stride: 16,
            data,
        }
    }

    const RIGHT: Rect = Rect {
        x: 2,
        y: 0,
        width: 2,
        height: 2,
    };

    #[test]
    fn one_monitor_is_cropped_from_the_desktop() {
        let data = desktop();
        let shown = Shown::default();
        let all = shown.crop(frame(&data));
        assert_eq!((all.width, all.height), (4, 2));
        shown.set(Some(RIGHT));
        let right = shown.crop(frame(&data));
        assert_eq!((right.width, right.height, right.stride), (2, 2, 16));
        assert_eq!((right.data[0], right.data[4]), (2, 3), "starts at x = 2");
        assert_eq!(right.data[16], 2, "next row at the same x");
        // A monitor outside the desktop (the layout shrank) shows the whole desktop.
        shown.set(Some(Rect { x: 3, ..RIGHT }));
        assert_eq!(shown.crop(frame(&data)).width, 4);
    }

    #[test]
    fn positions_on_a_monitor_land_on_that_monitor() {
        let shown = Shown::default();
        let data = desktop();
        shown.crop(frame(&data));
        assert_eq!(
            shown.to_desktop(0.5, 0.5),
            (0.5, 0.5),
            "all shown: unchanged"
        );
        shown.set(Some(RIGHT));
        shown.crop(frame(&data));
        let (x, y) = shown.to_desktop(0.0, 1.0);
        assert!(
            (x - 2.0 / 3.0).abs() < 1e-9,
            "left edge of the right monitor: {x}"
        );
        assert!((y - 1.0).abs() < 1e-9);
        assert_eq!(shown.to_desktop(1.0, 0.0), (1.0, 0.0));
    }

    #[test]
    fn monitors_left_of_or_above_the_primary_are_placed_from_the_desktop_corner() {
        // A laptop (primary, 1920×1080 at 0,0) with a 1280×1024 screen on its left, its
        // top 200 px higher: the desktop starts at (-1280, -200).
        let origin = (-1280, -200);
        assert_eq!(
            place(origin, 0, 0, 1920, 1080),
            Some(Rect {
                x: 1280,
                y: 200,
                width: 1920,
                height: 1080
            })
        );
        assert_eq!(
            place(origin, -1280, -200, 0, 824),
            Some(Rect {
                x: 0,
                y: 0,
                width: 1280,
                height: 1024
            })
        );
        assert_eq!(place(origin, -1300, 0, 0, 10), None, "left of the desktop");
        assert_eq!(place(origin, 10, 10, 10, 20), None, "no width");
        assert_eq!(place(origin, 10, 10, 5, 20), None, "edges reversed");
    }

    #[test]
    fn monitors_are_described_by_index_with_clean_names() {
        let list = describe(&[
            Monitor {
                name: "DP-1\u{1b}[2J".into(),
                rect: RIGHT,
                primary: true,
            },
            Monitor {
                name: "HDMI-1".into(),
                rect: Rect { x: 0, ..RIGHT },
                primary: false,
            },
        ]);
        assert_eq!(list.len(), 2);
        assert_eq!((list[0].id, list[0].name.as_str()), (0, "DP-1[2J"));
        assert!(list[0].primary && !list[1].primary);
        assert_eq!(list[1].id, 1);
    }
}
