//! The X11 injector: enigo with its x11rb backend (XTEST). Not its `xdo` backend, which
//! turns "É" into "é", nor libei, which panics without a session bus.
//!
//! Text is typed as Unicode keysyms: enigo maps a character missing from the resident's
//! layout onto a spare keycode for the time it is typed, so accents, "€" and Arabic
//! arrive exactly whatever the layout (French AZERTY with dead keys, US, German…).

use std::collections::HashSet;
use std::time::Duration;

use acote_proto::channel::{Modifiers, ViewerMessage};
use enigo::{Coordinate, Direction, Enigo, Key, Keyboard, Mouse, Settings};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{AtomEnum, ConnectionExt as _, Window};
use x11rb::rust_connection::RustConnection;

use crate::input::consent::Grant;
use crate::input::hands::{self, Devices, Hands, err};
use crate::input::inject::{InjectError, Injector};

/// How long applications get to learn a keysym newly mapped onto a spare keycode before
/// that key is pressed. Without it, Chromium sometimes reads the press with its old
/// keymap and drops the character.
const REMAP_SETTLE: Duration = Duration::from_millis(25);

/// Injects into an X display with XTEST.
pub struct EnigoInjector {
    settings: Settings,
    /// The enigo, and the buttons it holds.
    hands: Hands,
    /// A connection of our own to notice layout changes (`setxkbmap`, layout switchers).
    x: RustConnection,
    root: Window,
    rules_atom: u32,
    /// The layout enigo's keymap was read under.
    layout: Vec<u8>,
    /// Keysyms on the first level of the layout in force: typing those needs no remap.
    level0: HashSet<u32>,
}

fn settings(display: Option<&str>) -> Settings {
    Settings {
        x11_display: display.map(str::to_string),
        // Dropping an enigo (on a layout change, at the end) lets go of anything held.
        release_keys_when_dropped: true,
        ..Settings::default()
    }
}

impl EnigoInjector {
    /// Connects to `display` (or `$DISPLAY`).
    pub fn open(display: Option<&str>) -> Result<Self, InjectError> {
        let settings = settings(display);
        let enigo = Enigo::new(&settings).map_err(|e| InjectError::Open(e.to_string()))?;
        let open = |e: &dyn std::fmt::Display| InjectError::Open(e.to_string());
        let (x, screen) = x11rb::connect(display).map_err(|e| open(&e))?;
        let root = x
            .setup()
            .roots
            .get(screen)
            .ok_or_else(|| open(&"no such screen"))?
            .root;
        let rules_atom = x
            .intern_atom(false, b"_XKB_RULES_NAMES")
            .map_err(|e| open(&e))?
            .reply()
            .map_err(|e| open(&e))?
            .atom;
        let mut injector = Self {
            hands: Hands::new(enigo),
            settings,
            x,
            root,
            rules_atom,
            layout: Vec::new(),
            level0: HashSet::new(),
        };
        injector.layout = injector.current_layout()?;
        injector.level0 = injector.first_level_keysyms()?;
        Ok(injector)
    }

    /// The XKB rules, model, layout and options in force, as `setxkbmap` records them.
    fn current_layout(&self) -> Result<Vec<u8>, InjectError> {
        let reply = self
            .x
            .get_property(false, self.root, self.rules_atom, AtomEnum::STRING, 0, 1024)
            .map_err(err)?
            .reply()
            .map_err(err)?;
        Ok(reply.value)
    }

    /// The keysyms reachable without a modifier or a remap, as the keymap says now.
    fn first_level_keysyms(&self) -> Result<HashSet<u32>, InjectError> {
        let setup = self.x.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let map = self
            .x
            .get_keyboard_mapping(min, max - min + 1)
            .map_err(err)?
            .reply()
            .map_err(err)?;
        let per = usize::from(map.keysyms_per_keycode.max(1));
        Ok(map
            .keysyms
            .chunks(per)
            .filter_map(|syms| syms.first().copied())
            .filter(|s| *s != 0)
            .collect())
    }

    /// enigo reads the keymap once; when the resident's layout changed, start afresh so
    /// characters are looked up in the layout now in force.
    fn follow_layout(&mut self) -> Result<(), InjectError> {
        let now = self.current_layout()?;
        if now != self.layout {
            tracing::info!("keyboard layout changed; reloading the keymap");
            self.hands.enigo =
                Enigo::new(&self.settings).map_err(|e| InjectError::Open(e.to_string()))?;
            self.layout = now;
            self.level0 = self.first_level_keysyms()?;
        }
        Ok(())
    }
}

impl Devices for EnigoInjector {
    fn hands(&mut self) -> &mut Hands {
        &mut self.hands
    }

    fn before_keys(&mut self) -> Result<(), InjectError> {
        self.follow_layout()
    }

    fn pointer(&mut self, x: f64, y: f64) -> Result<(), InjectError> {
        // Asked of the server each time: enigo's size is the one at connection, and the
        // resident's resolution may have changed since (xrandr, a new monitor).
        let geometry = self
            .x
            .get_geometry(self.root)
            .map_err(err)?
            .reply()
            .map_err(err)?;
        let (w, h) = (i32::from(geometry.width), i32::from(geometry.height));
        // Normalised 0..=1 onto pixel centres 0..=w-1: 1.0 is the last pixel, not past it.
        let px = (x * f64::from((w - 1).max(0))).round() as i32;
        let py = (y * f64::from((h - 1).max(0))).round() as i32;
        self.hands
            .enigo
            .move_mouse(px, py, Coordinate::Abs)
            .map_err(err)
    }

    /// Ctrl+A and friends: by character where the layout has it on a key of its own
    /// (Ctrl+A selects all on AZERTY too), else by position (Arabic, Cyrillic layouts,
    /// where applications read shortcuts from the key's place).
    fn shortcut(
        &mut self,
        ch: char,
        x_keycode: Option<u8>,
        mods: Modifiers,
    ) -> Result<(), InjectError> {
        match x_keycode {
            Some(code) if !self.level0.contains(&keysym(ch)) => {
                self.hands.with_modifiers(mods, |enigo| {
                    enigo.raw(u16::from(code), Direction::Click).map_err(err)
                })
            }
            _ => self.chord(Key::Unicode(ch), mods),
        }
    }

    fn chord(&mut self, key: Key, mods: Modifiers) -> Result<(), InjectError> {
        if let Key::Unicode(c) = key
            && !self.level0.contains(&keysym(c))
        {
            // As for text: let applications learn a remapped key before it is pressed.
            self.hands.enigo.key(key, Direction::Release).map_err(err)?;
            std::thread::sleep(REMAP_SETTLE);
        }
        self.hands
            .with_modifiers(mods, |enigo| enigo.key(key, Direction::Click).map_err(err))
    }

    fn text(&mut self, grant: &Grant, text: &str) -> Result<(), InjectError> {
        for c in text.chars() {
            // A long text takes seconds to type: the resident's Stop must cut it short.
            if !grant.is_live() {
                break;
            }
            let key = match c {
                // Newlines and tabs are keys, not characters, in most applications.
                '\n' => Key::Return,
                '\t' => Key::Tab,
                c => Key::Unicode(c),
            };
            if !self.level0.contains(&keysym(c)) {
                // A release of a key that is not down is ignored by the X server, but it
                // makes enigo map the keysym now; the press comes once clients caught up.
                self.hands.enigo.key(key, Direction::Release).map_err(err)?;
                std::thread::sleep(REMAP_SETTLE);
            }
            self.hands.enigo.key(key, Direction::Click).map_err(err)?;
        }
        Ok(())
    }
}

impl Injector for EnigoInjector {
    fn inject(&mut self, grant: &Grant, input: &ViewerMessage) -> Result<(), InjectError> {
        hands::inject(self, grant, input)
    }

    fn release_all(&mut self) -> Result<(), InjectError> {
        self.hands.release_all();
        Ok(())
    }
}

/// The keysym enigo uses for a character (newline and tab are Return and Tab).
fn keysym(c: char) -> u32 {
    match c {
        '\n' => xkeysym::Keysym::Return.raw(),
        '\t' => xkeysym::Keysym::Tab.raw(),
        c => xkeysym::Keysym::from_char(c).raw(),
    }
}

#[cfg(test)]
mod tests {
    use super::keysym;

    #[test]
    fn keysyms_of_plain_accented_and_other_scripts() {
        assert_eq!(keysym('a'), 0x61);
        assert_eq!(keysym('é'), 0xe9);
        assert_eq!(keysym('\n'), 0xff0d);
        // Characters without a legacy keysym get the Unicode range 0x0100_0000 + code point.
        assert!(keysym('€') == 0x20ac || keysym('€') == 0x0100_20ac);
        assert_ne!(keysym('ا'), 0);
    }
}
