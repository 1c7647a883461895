//! Which desktop receives input now. Windows switches to the secure desktop
//! ("Winlogon") for UAC prompts, the lock screen and Ctrl+Alt+Del; no ordinary program
//! may read it, so the capturer shows a "protected screen" picture meanwhile.
//!
//! Unsafe: OpenInputDesktop and GetUserObjectInformationW have no safe wrapper.
#![allow(unsafe_code)]

use windows::Win32::Foundation::HANDLE;
use windows::Win32::System::StationsAndDesktops::{
    CloseDesktop, DESKTOP_CONTROL_FLAGS, DESKTOP_READOBJECTS, GetUserObjectInformationW,
    OpenInputDesktop, UOI_NAME,
};

/// True while the input desktop is the resident's own ("Default"). Opening it fails
/// (access denied) while the secure desktop is up, which counts as not ours.
pub(super) fn input_is_default() -> bool {
    // SAFETY: the desktop handle is closed before returning; the name buffer is ours and
    // its size in bytes is passed.
    unsafe {
        let Ok(desk) = OpenInputDesktop(DESKTOP_CONTROL_FLAGS(0), false, DESKTOP_READOBJECTS)
        else {
            return false;
        };
        let mut name = [0u16; 64];
        let mut needed = 0u32;
        let read = GetUserObjectInformationW(
            HANDLE(desk.0),
            UOI_NAME,
            Some(name.as_mut_ptr().cast()),
            (name.len() * 2) as u32,
            Some(&mut needed),
        );
        let _ = CloseDesktop(desk);
        if read.is_err() {
            return false;
        }
        let len = name.iter().position(|c| *c == 0).unwrap_or(name.len());
        String::from_utf16_lossy(&name[..len]).eq_ignore_ascii_case("Default")
    }
}
