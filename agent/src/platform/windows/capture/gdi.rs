//! GDI capture: BitBlt of the whole virtual desktop (every monitor) into a DIB section we own, the pointer drawn
//! with DrawIconEx. Works everywhere (Wine included), but GDI says nothing about what
//! changed, so each grab is compared with the one before.
//!
//! Unsafe: GDI has no safe wrapper; every handle is created and freed in this file.
#![allow(unsafe_code)]

use std::time::{Duration, Instant};

use windows::Win32::Foundation::POINT;
use windows::Win32::Graphics::Gdi::{
    BI_RGB, BITMAPINFO, BITMAPINFOHEADER, BitBlt, CAPTUREBLT, CreateCompatibleDC, CreateDIBSection,
    DIB_RGB_COLORS, DeleteDC, DeleteObject, GdiFlush, GetDC, HBITMAP, HDC, HGDIOBJ, ROP_CODE,
    ReleaseDC, SRCCOPY, SelectObject,
};
use windows::Win32::UI::WindowsAndMessaging::{
    CURSOR_SHOWING, CURSORINFO, DI_NORMAL, DrawIconEx, GetCursorInfo, GetIconInfo, HCURSOR, HICON,
    ICONINFO,
};

use super::{Desktop, desktop};
use crate::capture::{CaptureError, Frame};

/// How often the desktop is grabbed at most. GDI has no damage events: a grab (and the
/// comparison with the last one) is the only way to see a change, and 30 a second is
/// as often as frames go out anyway.
const GRAB_EVERY: Duration = Duration::from_millis(33);

fn gdi_err(what: &str) -> CaptureError {
    CaptureError::Connection(format!(
        "{what} failed: {}",
        windows::core::Error::from_win32()
    ))
}

/// The desktop's device context, released on drop.
struct ScreenDc(HDC);

impl Drop for ScreenDc {
    fn drop(&mut self) {
        // SAFETY: the DC came from GetDC(None) and is released once.
        unsafe { ReleaseDC(None, self.0) };
    }
}

/// A memory DC with a top-down 32-bit DIB section selected into it.
struct Canvas {
    dc: HDC,
    bitmap: HBITMAP,
    previous: HGDIOBJ,
    bits: *mut u8,
    width: u32,
    height: u32,
}

// SAFETY: the DC, bitmap and pixels belong to this value alone; GDI objects may be used
// from any thread, one at a time, which &mut self guarantees.
unsafe impl Send for Canvas {}
unsafe impl Send for ScreenDc {}

impl Canvas {
    fn new(screen: HDC, width: u32, height: u32) -> Result<Self, CaptureError> {
        let info = BITMAPINFO {
            bmiHeader: BITMAPINFOHEADER {
                biSize: size_of::<BITMAPINFOHEADER>() as u32,
                biWidth: width as i32,
                // Negative: rows top-down, as frames are.
                biHeight: -(height as i32),
                biPlanes: 1,
                biBitCount: 32,
                biCompression: BI_RGB.0,
                ..Default::default()
            },
            ..Default::default()
        };
        let mut bits: *mut core::ffi::c_void = std::ptr::null_mut();
        // SAFETY: plain GDI calls on handles we own; `bits` receives the DIB's memory,
        // which lives until the bitmap is deleted in Drop.
        unsafe {
            let dc = CreateCompatibleDC(Some(screen));
            if dc.is_invalid() {
                return Err(gdi_err("CreateCompatibleDC"));
            }
            let bitmap = match CreateDIBSection(Some(dc), &info, DIB_RGB_COLORS, &mut bits, None, 0)
            {
                Ok(b) if !bits.is_null() => b,
                _ => {
                    let _ = DeleteDC(dc);
                    return Err(gdi_err("CreateDIBSection"));
                }
            };
            let previous = SelectObject(dc, bitmap.into());
            Ok(Self {
                dc,
                bitmap,
                previous,
                bits: bits.cast(),
                width,
                height,
            })
        }
    }

    fn len(&self) -> usize {
        self.width as usize * self.height as usize * 4
    }

    fn pixels(&self) -> &[u8] {
        // SAFETY: the DIB section is width*height*4 bytes and lives as long as self.
        unsafe { std::slice::from_raw_parts(self.bits, self.len()) }
    }
}

impl Drop for Canvas {
    fn drop(&mut self) {
        // SAFETY: each object was created by Canvas::new and is freed once, after being
        // deselected from the DC.
        unsafe {
            SelectObject(self.dc, self.previous);
            let _ = DeleteObject(self.bitmap.into());
            let _ = DeleteDC(self.dc);
        }
    }
}

/// The pointer's image and hot spot, looked up once per cursor handle.
#[derive(Clone, Copy, PartialEq)]
struct Pointer {
    cursor: HCURSOR,
    at: POINT,
    hotspot: (i32, i32),
}

/// Captures the desktop through GDI.
pub(super) struct GdiCapturer {
    screen: ScreenDc,
    canvas: Canvas,
    /// The last grab without the pointer, to tell whether the screen changed.
    clean: Vec<u8>,
    grabbed: Option<Instant>,
    pointer: Option<Pointer>,
    /// CAPTUREBLT includes layered windows (tooltips, menus' shadows) in the copy.
    rop: ROP_CODE,
}

// SAFETY: see Canvas and ScreenDc; the pointer's cursor handle is only compared and drawn.
unsafe impl Send for GdiCapturer {}

impl GdiCapturer {
    /// Prepares a canvas the size of the desktop.
    pub(super) fn open() -> Result<Self, CaptureError> {
        // SAFETY: GetDC(None) is the whole desktop's DC, released by ScreenDc.
        let dc = unsafe { GetDC(None) };
        if dc.is_invalid() {
            return Err(gdi_err("GetDC"));
        }
        let screen = ScreenDc(dc);
        let d = desktop();
        let canvas = Canvas::new(screen.0, d.width, d.height)?;
        Ok(Self {
            screen,
            clean: vec![0; canvas.len()],
            canvas,
            grabbed: None,
            pointer: None,
            rop: SRCCOPY | CAPTUREBLT,
        })
    }

    /// Grabs the screen when due; true when it or the pointer changed (or `force`), and
    /// [`GdiCapturer::frame`] has the new picture.
    pub(super) fn grab(&mut self, force: bool) -> Result<bool, CaptureError> {
        let pointer = current_pointer(self.pointer);
        let pointer_moved = pointer != self.pointer;
        let due = force || self.grabbed.is_none_or(|t| t.elapsed() >= GRAB_EVERY);
        if !(due || pointer_moved) {
            return Ok(false);
        }
        let d = desktop();
        if (d.width, d.height) != (self.canvas.width, self.canvas.height) {
            // The resolution or the monitors changed: a new canvas, and the next frame is
            // a full one.
            tracing::info!(width = d.width, height = d.height, "desktop size changed");
            self.canvas = Canvas::new(self.screen.0, d.width, d.height)?;
            self.clean = vec![0; self.canvas.len()];
        }
        if let Err(e) = self.blit(d) {
            if self.rop != SRCCOPY {
                // Some GDIs (older Wine) refuse CAPTUREBLT: copy without layered windows.
                tracing::info!(error = %e, "BitBlt with CAPTUREBLT refused; copying without it");
                self.rop = SRCCOPY;
                self.blit(d)?;
            } else {
                return Err(e);
            }
        }
        // SAFETY: makes GDI finish drawing into the DIB before its bytes are read.
        unsafe {
            let _ = GdiFlush();
        }
        self.grabbed = Some(Instant::now());
        let changed = self.canvas.pixels() != self.clean.as_slice();
        if !(changed || pointer_moved || force) {
            return Ok(false);
        }
        self.clean.copy_from_slice(self.canvas.pixels());
        self.pointer = pointer;
        if let Some(p) = pointer {
            // SAFETY: the cursor handle comes from GetCursorInfo; drawing into our DC.
            unsafe {
                // The pointer is in virtual-screen coordinates, the canvas starts at
                // the desktop's corner.
                let _ = DrawIconEx(
                    self.canvas.dc,
                    p.at.x - p.hotspot.0 - d.x,
                    p.at.y - p.hotspot.1 - d.y,
                    HICON(p.cursor.0),
                    0,
                    0,
                    0,
                    None,
                    DI_NORMAL,
                );
                let _ = GdiFlush();
            }
        }
        Ok(true)
    }

    /// The last picture grabbed, the pointer drawn in.
    pub(super) fn frame(&self) -> Frame<'_> {
        Frame {
            width: self.canvas.width,
            height: self.canvas.height,
            stride: self.canvas.width as usize * 4,
            data: self.canvas.pixels(),
        }
    }
}

impl GdiCapturer {
    /// Copies the whole virtual desktop into the canvas.
    fn blit(&self, d: Desktop) -> Result<(), CaptureError> {
        // SAFETY: both DCs are valid for the canvas's size.
        unsafe {
            BitBlt(
                self.canvas.dc,
                0,
                0,
                d.width as i32,
                d.height as i32,
                Some(self.screen.0),
                d.x,
                d.y,
                self.rop,
            )
        }
        .map_err(|e| CaptureError::Connection(format!("BitBlt failed: {e}")))
    }
}

/// The visible pointer now, if any; the hot spot is looked up again only for a new shape.
fn current_pointer(previous: Option<Pointer>) -> Option<Pointer> {
    let mut info = CURSORINFO {
        cbSize: size_of::<CURSORINFO>() as u32,
        ..Default::default()
    };
    // SAFETY: `info` is a properly sized CURSORINFO.
    unsafe { GetCursorInfo(&mut info) }.ok()?;
    if info.flags.0 & CURSOR_SHOWING.0 == 0 || info.hCursor.is_invalid() {
        return None;
    }
    Some(Pointer {
        cursor: info.hCursor,
        at: info.ptScreenPos,
        hotspot: match previous {
            Some(p) if p.cursor == info.hCursor => p.hotspot,
            _ => hotspot(info.hCursor),
        },
    })
}

/// The cursor's hot spot (where it points, inside its image).
fn hotspot(cursor: HCURSOR) -> (i32, i32) {
    let mut icon = ICONINFO::default();
    // SAFETY: GetIconInfo fills `icon` and hands us two bitmaps, deleted right away.
    unsafe {
        if GetIconInfo(HICON(cursor.0), &mut icon).is_err() {
            return (0, 0);
        }
        if !icon.hbmMask.is_invalid() {
            let _ = DeleteObject(icon.hbmMask.into());
        }
        if !icon.hbmColor.is_invalid() {
            let _ = DeleteObject(icon.hbmColor.into());
        }
    }
    (icon.xHotspot as i32, icon.yHotspot as i32)
}
