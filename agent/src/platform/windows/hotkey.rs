//! The global Stop hotkey on Windows, Ctrl+Shift+F12, registered with RegisterHotKey on
//! its own thread. Not Ctrl+Alt+S as on X11: Windows reads Ctrl+Alt as AltGr, and
//! AltGr+S types a letter on Polish and other layouts; nor Ctrl+Shift+S, "Save as"
//! in most programs. F12 with Ctrl+Shift is free in browsers and form programs.
//!
//! Unsafe: RegisterHotKey and the message loop have no safe wrapper.
#![allow(unsafe_code)]

use windows::Win32::UI::Input::KeyboardAndMouse::{
    MOD_CONTROL, MOD_NOREPEAT, MOD_SHIFT, RegisterHotKey, UnregisterHotKey, VK_F12,
};
use windows::Win32::UI::WindowsAndMessaging::{
    GetMessageW, MSG, PM_NOREMOVE, PeekMessageW, WM_HOTKEY, WM_USER,
};

/// The keys, as shown to the resident in the bar (same in every language).
pub const KEYS: &str = "Ctrl+Shift+F12";

/// Our hotkey's id on its thread.
const ID: i32 = 1;

/// Starts listening; `pressed` runs on the hotkey's thread at each press. False when
/// another program holds the keys. `display` is for X11 only.
pub fn spawn(_display: Option<String>, pressed: impl Fn() + Send + 'static) -> bool {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("acote-hotkey".into())
        .spawn(move || {
            // SAFETY: the hotkey belongs to this thread's queue, read by GetMessageW below,
            // and is unregistered when the loop ends.
            unsafe {
                // The thread's message queue must exist before the hotkey is tied to it:
                // a first PeekMessage makes it (the documented idiom). Windows would
                // make it inside RegisterHotKey too; Wine 8 does not, registers the
                // hotkey with no queue, and its wineserver crashes at the first press.
                let mut msg = MSG::default();
                let _ = PeekMessageW(&mut msg, None, WM_USER, WM_USER, PM_NOREMOVE);
                if let Err(e) = RegisterHotKey(
                    None,
                    ID,
                    MOD_CONTROL | MOD_SHIFT | MOD_NOREPEAT,
                    u32::from(VK_F12.0),
                ) {
                    tracing::warn!(error = %e, "cannot register the {KEYS} hotkey");
                    let _ = ready_tx.send(false);
                    return;
                }
                let _ = ready_tx.send(true);
                // 0: WM_QUIT, -1: error; either ends the loop.
                while GetMessageW(&mut msg, None, 0, 0).0 > 0 {
                    if msg.message == WM_HOTKEY && msg.wParam.0 == ID as usize {
                        pressed();
                    }
                }
                let _ = UnregisterHotKey(None, ID);
            }
        });
    if spawned.is_err() {
        return false;
    }
    ready_rx.recv().unwrap_or(false)
}
