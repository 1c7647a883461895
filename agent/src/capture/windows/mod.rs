//! Windows capture: DXGI Desktop Duplication where the system has it (changed regions
//! from the compositor, no copy when nothing moved), GDI's BitBlt otherwise — Wine, old
//! drivers, remote sessions. The secure desktop (UAC, lock screen) cannot be read by any
//! ordinary program: meanwhile the caseworker sees a "protected screen" picture.
//!
//! Unsafe: only GetSystemMetrics here; the rest lives in the backend files.
#![allow(unsafe_code)]

mod desktop;
mod dxgi;
mod gdi;

use std::time::{Duration, Instant};

use windows::Win32::UI::WindowsAndMessaging::{GetSystemMetrics, SM_CXSCREEN, SM_CYSCREEN};

use super::{CaptureError, Capturer, Frame, protected};
use dxgi::DxgiCapturer;
use gdi::GdiCapturer;

/// How often the input desktop is checked (one cheap system call).
const DESKTOP_EVERY: Duration = Duration::from_millis(250);

/// The primary screen's size in pixels.
pub(crate) fn screen_size() -> (u32, u32) {
    // SAFETY: GetSystemMetrics only reads system values.
    let (w, h) = unsafe { (GetSystemMetrics(SM_CXSCREEN), GetSystemMetrics(SM_CYSCREEN)) };
    (w.max(1) as u32, h.max(1) as u32)
}

/// The monitors the caseworker can choose from. Capture covers the primary monitor
/// only (DXGI duplicates one output, GDI reads the primary screen), so that is the one
/// listed; docs/platforms.md says what a PC with several monitors shows.
pub fn monitors(_display: Option<&str>) -> Vec<crate::screens::Monitor> {
    let (width, height) = screen_size();
    vec![crate::screens::Monitor {
        name: "primary".into(),
        rect: crate::screens::Rect {
            x: 0,
            y: 0,
            width,
            height,
        },
        primary: true,
    }]
}

/// Opens the Windows capturer, boxed for the pipeline (`display` is for X11 only).
pub fn open(_display: Option<&str>) -> Result<Box<dyn Capturer>, CaptureError> {
    Ok(Box::new(WindowsCapturer::open()?))
}

enum Backend {
    Dxgi(DxgiCapturer),
    Gdi(GdiCapturer),
}

/// The best backend there is, now.
fn best_backend() -> Result<Backend, CaptureError> {
    match DxgiCapturer::open() {
        Ok(d) => {
            tracing::info!("capturing with DXGI Desktop Duplication");
            Ok(Backend::Dxgi(d))
        }
        Err(e) => {
            tracing::info!(reason = %e, "DXGI Desktop Duplication unavailable; capturing with GDI");
            Ok(Backend::Gdi(GdiCapturer::open()?))
        }
    }
}

/// Captures the Windows desktop.
pub struct WindowsCapturer {
    backend: Backend,
    /// While the secure desktop is up: the picture shown instead, and whether it went out.
    protected: Option<(Vec<u8>, u32, u32, bool)>,
    desktop_checked: Option<Instant>,
    frames: u64,
}

impl WindowsCapturer {
    /// Picks DXGI or GDI; nothing is read until [`Capturer::capture`].
    pub fn open() -> Result<Self, CaptureError> {
        Ok(Self {
            backend: best_backend()?,
            protected: None,
            desktop_checked: None,
            frames: 0,
        })
    }

    /// Follows switches to and from the secure desktop.
    fn check_desktop(&mut self) -> Result<(), CaptureError> {
        if self
            .desktop_checked
            .is_some_and(|t| t.elapsed() < DESKTOP_EVERY)
        {
            return Ok(());
        }
        self.desktop_checked = Some(Instant::now());
        let ours = desktop::input_is_default();
        match (ours, self.protected.is_some()) {
            (false, false) => {
                tracing::info!("the secure desktop is showing; sending the protected picture");
                let (w, h) = screen_size();
                self.protected = Some((protected::picture(w, h), w, h, false));
            }
            (true, true) => {
                tracing::info!("back on the resident's desktop");
                self.protected = None;
                // Duplication is lost across a desktop switch: start afresh.
                self.backend = best_backend()?;
            }
            _ => {}
        }
        Ok(())
    }
}

impl Capturer for WindowsCapturer {
    fn capture(&mut self, force: bool) -> Result<Option<Frame<'_>>, CaptureError> {
        self.check_desktop()?;
        if let Some((pixels, width, height, sent)) = &mut self.protected {
            if *sent && !force {
                return Ok(None);
            }
            *sent = true;
            self.frames += 1;
            return Ok(Some(Frame {
                width: *width,
                height: *height,
                stride: *width as usize * 4,
                data: pixels,
            }));
        }
        let ready = match &mut self.backend {
            Backend::Dxgi(d) => d.grab(force),
            Backend::Gdi(g) => g.grab(force),
        };
        match ready {
            Ok(false) => Ok(None),
            Ok(true) => {
                self.frames += 1;
                Ok(Some(match &self.backend {
                    Backend::Dxgi(d) => d.frame(),
                    Backend::Gdi(g) => g.frame(),
                }))
            }
            Err(e) if !desktop::input_is_default() => {
                // The secure desktop came up between two checks: not an error.
                tracing::info!(reason = %e, "capture refused by the secure desktop");
                self.desktop_checked = None;
                Ok(None)
            }
            Err(e) if matches!(self.backend, Backend::Dxgi(_)) => {
                // Duplication is lost on a mode change, a full-screen program, a desktop
                // switch: open the best backend again; its first grab is a whole frame.
                tracing::info!(reason = %e, "screen duplication lost; starting again");
                self.backend = best_backend()?;
                self.desktop_checked = None;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    fn frames_captured(&self) -> u64 {
        self.frames
    }
}
