//! Everything the agent does through X11, in one folder that `windows/` mirrors: screen
//! [`capture`] (MIT-SHM, XDamage, XFIXES), the [`input`] injector (XTEST), and the
//! pieces outside the window, the frame around the screen ([`border`]), the caseworker's
//! marker ([`highlight`]) and the Stop hotkey ([`hotkey`]), each on its own thread with
//! its own display connection.

pub mod border;
pub mod capture;
pub mod highlight;
pub mod hotkey;
pub mod input;

use x11rb::connection::Connection;

/// Whether an X display is named (capture and the window need one).
pub fn has_display() -> bool {
    std::env::var_os("DISPLAY").is_some_and(|d| !d.is_empty())
}

/// The chat's chime: the X server's bell (the desktop plays its alert sound, or flashes
/// the screen when it is set to a visual bell).
pub fn chime() {
    let rung = x11rb::connect(None)
        .map_err(|e| e.to_string())
        .and_then(|(conn, _)| {
            use x11rb::protocol::xproto::ConnectionExt as _;
            conn.bell(0).map_err(|e| e.to_string())?;
            conn.flush().map_err(|e| e.to_string())
        });
    if let Err(e) = rung {
        tracing::debug!(error = %e, "no chime");
    }
}

/// Shows `dir` in the desktop's file manager (`xdg-open`), without waiting for it.
pub fn open_folder(dir: &std::path::Path) {
    match std::process::Command::new("xdg-open").arg(dir).spawn() {
        // Reaped on its own thread: xdg-open returns once the file manager started.
        Ok(mut child) => {
            let _ = std::thread::Builder::new()
                .name("acote-open-folder".into())
                .spawn(move || child.wait());
        }
        Err(e) => tracing::info!(error = %e, "cannot open the folder"),
    }
}

/// Nothing to do: a Linux program has its terminal's stdout and stderr already.
pub fn attach_console() {}

/// The X11 screen's size in pixels, if the display can be opened.
pub fn screen_size(display: Option<&str>) -> Option<(u16, u16)> {
    let (conn, screen_num) = x11rb::connect(display).ok()?;
    let screen = conn.setup().roots.get(screen_num)?;
    Some((screen.width_in_pixels, screen.height_in_pixels))
}

/// The body of an overlay's thread: draws from what arrives on the channel until it closes.
type OverlayLoop<T> =
    fn(Option<&str>, &std::sync::mpsc::Receiver<T>) -> Result<(), Box<dyn std::error::Error>>;

/// Runs an X11 overlay (the border, the marker) on its own named thread with its own
/// display connection, fed by `rx`. An overlay is never essential: if the thread or the
/// display fails, that is logged once (`what` names the overlay) and sharing goes on.
pub(crate) fn spawn_overlay<T: Send + 'static>(
    name: &str,
    what: &'static str,
    display: Option<String>,
    rx: std::sync::mpsc::Receiver<T>,
    run: OverlayLoop<T>,
) {
    let spawned = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            if let Err(e) = run(display.as_deref(), &rx) {
                tracing::warn!(error = %e, "cannot show the {what}");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot start the {what} thread");
    }
}
