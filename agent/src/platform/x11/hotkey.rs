//! The global hotkey, Ctrl+Alt+S ("S" for Stop), which works even when the agent's
//! windows are hidden under others: in control it takes control back, while sharing it
//! stops the sharing. On X11 it is a passive grab of the key on the root window, on its
//! own thread and connection.

use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::xproto::{ConnectionExt as _, GrabMode, ModMask};

/// The keys, as shown to the resident in the bar (same in every language).
pub const KEYS: &str = "Ctrl+Alt+S";

/// The keysym of "s".
const KEYSYM_S: u32 = 0x0073;

/// Starts listening on `display` (or `$DISPLAY`); `pressed` runs on that thread at each
/// press. Returns false when the key cannot be grabbed (no X11, or another program holds
/// it), so the window does not advertise a hotkey that will not work.
pub fn spawn(display: Option<String>, pressed: impl Fn() + Send + 'static) -> bool {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("acote-hotkey".into())
        .spawn(move || {
            let conn = match grab(display.as_deref()) {
                Ok(conn) => {
                    let _ = ready_tx.send(true);
                    conn
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot grab the {KEYS} hotkey");
                    let _ = ready_tx.send(false);
                    return;
                }
            };
            loop {
                match conn.wait_for_event() {
                    Ok(Event::KeyPress(_)) => pressed(),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "the hotkey's X connection closed");
                        return;
                    }
                }
            }
        });
    if spawned.is_err() {
        return false;
    }
    ready_rx.recv().unwrap_or(false)
}

fn grab(display: Option<&str>) -> Result<impl Connection, Box<dyn std::error::Error>> {
    let (conn, screen_num) = x11rb::connect(display)?;
    let setup = conn.setup();
    let root = setup.roots.get(screen_num).ok_or("no such screen")?.root;
    let (min, max) = (setup.min_keycode, setup.max_keycode);
    let map = conn.get_keyboard_mapping(min, max - min + 1)?.reply()?;
    let per = usize::from(map.keysyms_per_keycode.max(1));
    let keycode = map
        .keysyms
        .chunks(per)
        .position(|syms| syms.first() == Some(&KEYSYM_S))
        .and_then(|i| u8::try_from(i).ok())
        .map(|i| min + i)
        .ok_or("no key produces s")?;
    let base = ModMask::CONTROL | ModMask::M1;
    // Also with Num Lock (Mod2) and Caps Lock on, or the grab would miss them.
    for extra in [
        ModMask::from(0u16),
        ModMask::M2,
        ModMask::LOCK,
        ModMask::M2 | ModMask::LOCK,
    ] {
        conn.grab_key(
            false,
            root,
            base | extra,
            keycode,
            GrabMode::ASYNC,
            GrabMode::ASYNC,
        )?
        .check()?;
    }
    conn.flush()?;
    Ok(conn)
}
