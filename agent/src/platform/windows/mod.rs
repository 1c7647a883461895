//! Everything the agent does through Win32, mirroring `x11/`: screen [`capture`] (DXGI,
//! GDI), the [`input`] injector (SendInput), and the pieces outside the window, the
//! frame around the screen ([`border`]), the caseworker's marker ([`highlight`]), both
//! layered click-through [`overlay`] windows, and the Stop hotkey ([`hotkey`]); plus the
//! console for `--console` and the Documents folder for the receipt.
//!
//! Unsafe: AttachConsole, GetStdHandle, SHGetKnownFolderPath, MessageBeep and the
//! language queries have no safe wrapper.
#![allow(unsafe_code)]

pub mod border;
pub mod capture;
pub mod highlight;
pub mod hotkey;
pub mod input;
mod overlay;

use std::path::PathBuf;

use windows::Win32::Globalization::{
    GetUserDefaultLocaleName, GetUserPreferredUILanguages, MUI_LANGUAGE_NAME,
};
use windows::Win32::System::Com::CoTaskMemFree;
use windows::Win32::System::Console::{
    ATTACH_PARENT_PROCESS, AttachConsole, GetStdHandle, STD_OUTPUT_HANDLE,
};
use windows::Win32::UI::Shell::{FOLDERID_Documents, KF_FLAG_DEFAULT, SHGetKnownFolderPath};
use windows::core::PWSTR;

/// The chat's chime: the "information" sound of the resident's sound scheme (played
/// asynchronously by Windows; silent if sounds are off).
pub fn chime() {
    use windows::Win32::System::Diagnostics::Debug::MessageBeep;
    use windows::Win32::UI::WindowsAndMessaging::MB_ICONASTERISK;
    // SAFETY: MessageBeep only queues a system sound.
    if let Err(e) = unsafe { MessageBeep(MB_ICONASTERISK) } {
        tracing::debug!(error = %e, "no chime");
    }
}

/// Shows `dir` in Explorer, without waiting for it.
pub fn open_folder(dir: &std::path::Path) {
    match std::process::Command::new("explorer.exe").arg(dir).spawn() {
        // Reaped on its own thread (Explorer may hand over to a running one and exit).
        Ok(mut child) => {
            let _ = std::thread::Builder::new()
                .name("acote-open-folder".into())
                .spawn(move || child.wait());
        }
        Err(e) => tracing::info!(error = %e, "cannot open the folder"),
    }
}

/// Windows always has a desktop to show the window on.
pub fn has_display() -> bool {
    true
}

/// Started from a terminal with `--console`: write to that terminal. A GUI program has
/// no console of its own; when stdout is already a file or a pipe (scripts, tests), it
/// is left as it is.
pub fn attach_console() {
    // SAFETY: plain queries and AttachConsole, which only changes this process's
    // standard handles.
    unsafe {
        let has_stdout =
            GetStdHandle(STD_OUTPUT_HANDLE).is_ok_and(|h| !h.is_invalid() && !h.0.is_null());
        if !has_stdout {
            let _ = AttachConsole(ATTACH_PARENT_PROCESS);
        }
    }
}

/// The primary screen's size in pixels.
pub fn screen_size(_display: Option<&str>) -> Option<(u16, u16)> {
    let (w, h) = capture::primary_size();
    Some((u16::try_from(w).ok()?, u16::try_from(h).ok()?))
}

/// The resident's Documents folder (the Known Folder, wherever it was moved to).
pub fn documents_folder() -> Option<PathBuf> {
    // SAFETY: the returned string is read once and freed with CoTaskMemFree, as the
    // documentation asks.
    unsafe {
        let path = SHGetKnownFolderPath(&FOLDERID_Documents, KF_FLAG_DEFAULT, None).ok()?;
        let folder = path.to_string().ok().map(PathBuf::from);
        CoTaskMemFree(Some(path.0 as *const _));
        folder
    }
}

/// The user's display languages, most preferred first (`uk-UA`, `fr-FR`), then the
/// language of their regional format. Environment variables mean nothing to a Windows
/// PC's language: these are what its Settings set.
pub fn system_languages() -> Vec<String> {
    let mut names = Vec::new();
    // SAFETY: GetUserPreferredUILanguages is called twice as documented, first for the
    // buffer's length, then with a buffer of that length; GetUserDefaultLocaleName
    // writes at most the slice's length.
    unsafe {
        let (mut count, mut len) = (0u32, 0u32);
        if GetUserPreferredUILanguages(MUI_LANGUAGE_NAME, &mut count, None, &mut len).is_ok()
            && len > 0
        {
            let mut buf = vec![0u16; len as usize];
            let filled = GetUserPreferredUILanguages(
                MUI_LANGUAGE_NAME,
                &mut count,
                Some(PWSTR(buf.as_mut_ptr())),
                &mut len,
            );
            if filled.is_ok() {
                // A list of names, each ended by a NUL, the list by a second one.
                names.extend(
                    buf.split(|&c| c == 0)
                        .filter(|name| !name.is_empty())
                        .map(String::from_utf16_lossy),
                );
            }
        }
        // LOCALE_NAME_MAX_LENGTH; the count returned includes the ending NUL.
        let mut buf = [0u16; 85];
        let written = GetUserDefaultLocaleName(&mut buf);
        if let Some(len) = usize::try_from(written).ok().and_then(|n| n.checked_sub(1)) {
            names.push(String::from_utf16_lossy(&buf[..len]));
        }
    }
    names
}

/// Runs an overlay (the border, the marker) on its own named thread, fed by `rx`. An
/// overlay is never essential: if the thread or its window fails, that is logged once
/// (`what` names the overlay) and sharing goes on.
fn spawn_overlay<T: Send + 'static>(
    name: &str,
    what: &'static str,
    rx: std::sync::mpsc::Receiver<T>,
    run: fn(&std::sync::mpsc::Receiver<T>) -> Result<(), windows::core::Error>,
) {
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            if let Err(e) = run(&rx) {
                tracing::warn!(error = %e, "cannot show the {what}");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the {what} thread");
    }
}
