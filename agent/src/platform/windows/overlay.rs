//! A window drawn over everything that takes neither focus nor clicks: a topmost,
//! layered, click-through (WS_EX_TRANSPARENT) tool window shaped by a region to a hollow
//! frame. The screen's border and the caseworker's marker are both made of one.
//!
//! Unsafe: Win32 windowing has no safe wrapper; the window lives and dies on the thread
//! that made it, which owns this value.
#![allow(unsafe_code)]

use windows::Win32::Foundation::{COLORREF, HWND, LPARAM, LRESULT, WPARAM};
use windows::Win32::Graphics::Gdi::{
    BeginPaint, CombineRgn, CreateRectRgn, CreateSolidBrush, DeleteObject, EndPaint, FillRect,
    InvalidateRect, PAINTSTRUCT, RGN_DIFF, SetWindowRgn,
};
use windows::Win32::System::LibraryLoader::GetModuleHandleW;
use windows::Win32::UI::WindowsAndMessaging::{
    CreateWindowExW, DefWindowProcW, DestroyWindow, DispatchMessageW, GWLP_USERDATA,
    GetWindowLongPtrW, HWND_TOPMOST, LWA_ALPHA, MSG, PM_REMOVE, PeekMessageW, RegisterClassW,
    SW_HIDE, SW_SHOWNOACTIVATE, SWP_NOACTIVATE, SWP_NOMOVE, SWP_NOSIZE, SetLayeredWindowAttributes,
    SetWindowLongPtrW, SetWindowPos, ShowWindow, TranslateMessage, WM_PAINT, WNDCLASSW,
    WS_EX_LAYERED, WS_EX_NOACTIVATE, WS_EX_TOOLWINDOW, WS_EX_TOPMOST, WS_EX_TRANSPARENT, WS_POPUP,
};
use windows::core::{PCWSTR, w};

/// The class all overlays share, registered once per process.
const CLASS: PCWSTR = w!("AcoteOverlay");

/// One overlay window, owned by the thread that created it.
pub(super) struct Overlay {
    hwnd: HWND,
}

/// Paints the whole window in the colour kept in its user data (0x00BBGGRR).
extern "system" fn wndproc(hwnd: HWND, msg: u32, wparam: WPARAM, lparam: LPARAM) -> LRESULT {
    // SAFETY: called by Windows with a live window of our class.
    unsafe {
        if msg == WM_PAINT {
            let mut ps = PAINTSTRUCT::default();
            let dc = BeginPaint(hwnd, &mut ps);
            let colour = GetWindowLongPtrW(hwnd, GWLP_USERDATA) as u32;
            let brush = CreateSolidBrush(COLORREF(colour));
            FillRect(dc, &ps.rcPaint, brush);
            let _ = DeleteObject(brush.into());
            let _ = EndPaint(hwnd, &ps);
            return LRESULT(0);
        }
        DefWindowProcW(hwnd, msg, wparam, lparam)
    }
}

/// 0xRRGGBB → Windows' 0x00BBGGRR.
fn colorref(rgb: u32) -> u32 {
    ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff)
}

impl Overlay {
    /// Creates the (hidden) window on this thread.
    pub(super) fn new(title: PCWSTR) -> Result<Self, windows::core::Error> {
        // SAFETY: registering a class twice fails harmlessly; the window is destroyed in
        // Drop on this same thread.
        unsafe {
            let instance = GetModuleHandleW(None)?;
            let class = WNDCLASSW {
                lpfnWndProc: Some(wndproc),
                hInstance: instance.into(),
                lpszClassName: CLASS,
                ..Default::default()
            };
            RegisterClassW(&class);
            let hwnd = CreateWindowExW(
                WS_EX_LAYERED
                    | WS_EX_TRANSPARENT
                    | WS_EX_TOPMOST
                    | WS_EX_TOOLWINDOW
                    | WS_EX_NOACTIVATE,
                CLASS,
                title,
                WS_POPUP,
                0,
                0,
                1,
                1,
                None,
                None,
                Some(instance.into()),
                None,
            )?;
            // Opaque: the region, not transparency, makes the hole in the frame.
            SetLayeredWindowAttributes(hwnd, COLORREF(0), 255, LWA_ALPHA)?;
            Ok(Self { hwnd })
        }
    }

    /// Shows a hollow frame `thickness` thick with outer bounds (x, y, w, h) in `rgb`.
    pub(super) fn show_frame(&self, (x, y, w, h): (i32, i32, i32, i32), thickness: i32, rgb: u32) {
        // SAFETY: calls on our own window; the region's ownership passes to the window
        // (SetWindowRgn), the inner one is deleted here.
        unsafe {
            SetWindowLongPtrW(self.hwnd, GWLP_USERDATA, colorref(rgb) as isize);
            let outer = CreateRectRgn(0, 0, w, h);
            let inner = CreateRectRgn(thickness, thickness, w - thickness, h - thickness);
            CombineRgn(Some(outer), Some(outer), Some(inner), RGN_DIFF);
            let _ = DeleteObject(inner.into());
            let _ = SetWindowPos(self.hwnd, Some(HWND_TOPMOST), x, y, w, h, SWP_NOACTIVATE);
            SetWindowRgn(self.hwnd, Some(outer), true);
            let _ = ShowWindow(self.hwnd, SW_SHOWNOACTIVATE);
            let _ = InvalidateRect(Some(self.hwnd), None, true);
        }
    }

    /// Puts the frame back on top (windows opened later may cover it).
    pub(super) fn raise(&self) {
        // SAFETY: our own window.
        unsafe {
            let _ = SetWindowPos(
                self.hwnd,
                Some(HWND_TOPMOST),
                0,
                0,
                0,
                0,
                SWP_NOACTIVATE | SWP_NOMOVE | SWP_NOSIZE,
            );
        }
    }

    /// Hides the frame.
    pub(super) fn hide(&self) {
        // SAFETY: our own window.
        unsafe {
            let _ = ShowWindow(self.hwnd, SW_HIDE);
        }
    }
}

impl Drop for Overlay {
    fn drop(&mut self) {
        // SAFETY: destroyed once, on the thread that created it (the owner's).
        unsafe {
            let _ = DestroyWindow(self.hwnd);
        }
    }
}

/// Handles this thread's pending window messages (painting), without waiting.
pub(super) fn pump() {
    let mut msg = MSG::default();
    // SAFETY: the standard message loop on this thread's own queue.
    unsafe {
        while PeekMessageW(&mut msg, None, 0, 0, PM_REMOVE).as_bool() {
            let _ = TranslateMessage(&msg);
            DispatchMessageW(&msg);
        }
    }
}
