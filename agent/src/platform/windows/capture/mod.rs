//! Windows capture: DXGI Desktop Duplication where the system has it (changed regions
//! from the compositor, no copy when nothing moved), GDI's BitBlt otherwise — Wine, old
//! drivers, remote sessions. The secure desktop (UAC, lock screen) cannot be read by any
//! ordinary program: meanwhile the caseworker sees a "protected screen" picture.
//!
//! Several monitors: the caseworker sees the whole virtual desktop, or one monitor cut
//! from it (crate::screens). DXGI duplicates one output, so with more than one monitor
//! GDI reads the whole virtual desktop instead.
//!
//! Unsafe: GetSystemMetrics, EnumDisplayMonitors and GetMonitorInfoW here; the rest
//! lives in the backend files.
#![allow(unsafe_code)]

mod desktop;
mod dxgi;
mod gdi;

use std::time::{Duration, Instant};

use windows::Win32::Foundation::{LPARAM, RECT};
use windows::Win32::Graphics::Gdi::{
    EnumDisplayMonitors, GetMonitorInfoW, HDC, HMONITOR, MONITORINFO, MONITORINFOEXW,
};
use windows::Win32::UI::WindowsAndMessaging::{
    GetSystemMetrics, MONITORINFOF_PRIMARY, SM_CMONITORS, SM_CXSCREEN, SM_CXVIRTUALSCREEN,
    SM_CYSCREEN, SM_CYVIRTUALSCREEN, SM_XVIRTUALSCREEN, SM_YVIRTUALSCREEN,
};
use windows::core::BOOL;

use crate::capture::{CaptureError, Capturer, Frame, protected};
use crate::screens::{Monitor, place};
use dxgi::DxgiCapturer;
use gdi::GdiCapturer;

/// How often the input desktop is checked (one cheap system call).
const DESKTOP_EVERY: Duration = Duration::from_millis(250);

/// The whole desktop, every monitor, in virtual-screen coordinates: its top-left corner
/// (negative when a monitor sits left of or above the primary) and its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Desktop {
    /// Left edge.
    pub(crate) x: i32,
    /// Top edge.
    pub(crate) y: i32,
    /// Width in pixels.
    pub(crate) width: u32,
    /// Height in pixels.
    pub(crate) height: u32,
}

/// The virtual desktop now.
pub(crate) fn desktop() -> Desktop {
    // SAFETY: GetSystemMetrics only reads system values.
    let [x, y, w, h] = [
        SM_XVIRTUALSCREEN,
        SM_YVIRTUALSCREEN,
        SM_CXVIRTUALSCREEN,
        SM_CYVIRTUALSCREEN,
    ]
    .map(|m| unsafe { GetSystemMetrics(m) });
    Desktop {
        x,
        y,
        width: w.max(1) as u32,
        height: h.max(1) as u32,
    }
}

/// The primary monitor's size in pixels (where the resident's window sits).
pub(crate) fn primary_size() -> (u32, u32) {
    // SAFETY: GetSystemMetrics only reads system values.
    let (w, h) = unsafe { (GetSystemMetrics(SM_CXSCREEN), GetSystemMetrics(SM_CYSCREEN)) };
    (w.max(1) as u32, h.max(1) as u32)
}

/// How many monitors make up the desktop.
fn monitor_count() -> i32 {
    // SAFETY: GetSystemMetrics only reads system values.
    unsafe { GetSystemMetrics(SM_CMONITORS) }
}

/// One monitor as Windows lists it: device name, edges, primary.
type Found = (String, RECT, bool);

/// EnumDisplayMonitors' callback: adds the monitor to the Vec<Found> behind `data`.
unsafe extern "system" fn collect(monitor: HMONITOR, _: HDC, _: *mut RECT, data: LPARAM) -> BOOL {
    // SAFETY: `data` is the &mut Vec<Found> that `monitors` passes, alive during the call.
    let found = unsafe { &mut *(data.0 as *mut Vec<Found>) };
    let mut info = MONITORINFOEXW {
        monitorInfo: MONITORINFO {
            cbSize: size_of::<MONITORINFOEXW>() as u32,
            ..Default::default()
        },
        ..Default::default()
    };
    // SAFETY: `info` is a MONITORINFOEXW whose cbSize says so.
    if unsafe { GetMonitorInfoW(monitor, &mut info.monitorInfo) }.as_bool() {
        let len = info.szDevice.iter().position(|&c| c == 0).unwrap_or(32);
        let device = String::from_utf16_lossy(&info.szDevice[..len]);
        let name = device.trim_start_matches(r"\\.\").to_owned();
        let primary = info.monitorInfo.dwFlags & MONITORINFOF_PRIMARY != 0;
        found.push((name, info.monitorInfo.rcMonitor, primary));
    }
    BOOL::from(true)
}

/// The monitors the caseworker can choose from, where they sit on the captured (virtual)
/// desktop, in the order of their device numbers (DISPLAY1, DISPLAY2…), the numbers
/// Windows' display settings show the resident.
pub fn monitors(_display: Option<&str>) -> Vec<Monitor> {
    let mut found: Vec<Found> = Vec::new();
    // SAFETY: the callback only writes into `found`, which outlives the call.
    let listed = unsafe {
        EnumDisplayMonitors(
            None,
            None,
            Some(collect),
            LPARAM(&mut found as *mut Vec<Found> as isize),
        )
    };
    if !listed.as_bool() {
        tracing::debug!("EnumDisplayMonitors failed; no monitor list");
        return Vec::new();
    }
    found.sort_by(|a, b| (a.0.len(), &a.0).cmp(&(b.0.len(), &b.0)));
    let d = desktop();
    found
        .into_iter()
        .filter_map(|(name, r, primary)| {
            let rect = place((d.x, d.y), r.left, r.top, r.right, r.bottom)?;
            Some(Monitor {
                name,
                rect,
                primary,
            })
        })
        .collect()
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
    if monitor_count() > 1 {
        tracing::info!("several monitors; capturing the whole desktop with GDI");
        return Ok(Backend::Gdi(GdiCapturer::open()?));
    }
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

    /// Follows switches to and from the secure desktop, and monitors plugged in.
    fn check_desktop(&mut self) -> Result<(), CaptureError> {
        if self
            .desktop_checked
            .is_some_and(|t| t.elapsed() < DESKTOP_EVERY)
        {
            return Ok(());
        }
        self.desktop_checked = Some(Instant::now());
        if matches!(self.backend, Backend::Dxgi(_)) && monitor_count() > 1 {
            // A monitor was plugged in without breaking the duplication of the first:
            // DXGI would go on showing that one alone, while the monitor list and the
            // pointer cover the whole desktop.
            tracing::info!("a monitor was added; capturing the whole desktop with GDI");
            self.backend = Backend::Gdi(GdiCapturer::open()?);
        }
        let ours = desktop::input_is_default();
        match (ours, self.protected.is_some()) {
            (false, false) => {
                tracing::info!("the secure desktop is showing; sending the protected picture");
                let Desktop { width, height, .. } = desktop();
                self.protected = Some((protected::picture(width, height), width, height, false));
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
