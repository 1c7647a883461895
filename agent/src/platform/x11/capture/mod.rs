//! X11 capture in pure Rust: MIT-SHM into a private segment (about half a millisecond per
//! 1080p frame), XDamage to know when anything changed, XFIXES for the pointer image,
//! which screen grabs never include.

mod cursor;
mod shm;

use x11rb::connection::Connection;
use x11rb::protocol::Event;
use x11rb::protocol::damage::{self, ConnectionExt as _};
use x11rb::protocol::shm::ConnectionExt as _;
use x11rb::protocol::xfixes::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat, Window};
use x11rb::rust_connection::RustConnection;

use crate::capture::{CaptureError, Capturer, Frame};
use cursor::Pointer;

/// Captures the root window of an X display.
pub struct X11Capturer {
    conn: RustConnection,
    root: Window,
    width: u16,
    height: u16,
    segment: shm::Segment,
    shm_seg: u32,
    /// The screen as captured, without the pointer.
    clean: Vec<u8>,
    /// What we hand out: `clean` with the pointer drawn on top.
    composed: Vec<u8>,
    damaged: bool,
    pointer: Pointer,
    /// When the pointer's position was last asked (a round trip to the server).
    pointer_checked: Option<std::time::Instant>,
    frames: u64,
}

/// How often the pointer's position is asked. The capture loop polls for damage more often
/// than this (damage costs no round trip); the pointer is drawn into the image, so 30
/// times a second is as smooth as the video.
const POINTER_EVERY: std::time::Duration = std::time::Duration::from_millis(33);

fn conn_err(e: impl std::fmt::Display) -> CaptureError {
    CaptureError::Connection(e.to_string())
}

/// The display's monitors (RandR 1.5), primary first as the server lists them; a
/// server without RandR has one monitor, the whole screen.
pub fn monitors(display: Option<&str>) -> Vec<crate::screens::Monitor> {
    use crate::screens::{Monitor, Rect};
    use x11rb::protocol::randr::ConnectionExt as _;
    let Ok((conn, screen_num)) = x11rb::connect(display) else {
        return Vec::new();
    };
    let Some(screen) = conn.setup().roots.get(screen_num) else {
        return Vec::new();
    };
    let whole = Monitor {
        name: "screen".into(),
        rect: Rect {
            x: 0,
            y: 0,
            width: u32::from(screen.width_in_pixels),
            height: u32::from(screen.height_in_pixels),
        },
        primary: true,
    };
    let reply = conn
        .randr_get_monitors(screen.root, true)
        .ok()
        .and_then(|c| c.reply().ok());
    let Some(reply) = reply else {
        return vec![whole];
    };
    let name = |atom| {
        conn.get_atom_name(atom)
            .ok()
            .and_then(|c| c.reply().ok())
            .map(|r| String::from_utf8_lossy(&r.name).into_owned())
            .unwrap_or_default()
    };
    let list: Vec<Monitor> = reply
        .monitors
        .iter()
        .filter_map(|m| {
            Some(Monitor {
                name: name(m.name),
                rect: Rect {
                    x: u32::try_from(m.x).ok()?,
                    y: u32::try_from(m.y).ok()?,
                    width: u32::from(m.width),
                    height: u32::from(m.height),
                },
                primary: m.primary,
            })
        })
        .collect();
    if list.is_empty() { vec![whole] } else { list }
}

/// Opens the X11 capturer on `display` (or `$DISPLAY`), boxed for the pipeline.
pub fn open(display: Option<&str>) -> Result<Box<dyn Capturer>, CaptureError> {
    X11Capturer::open(display).map(|c| Box::new(c) as Box<dyn Capturer>)
}

impl X11Capturer {
    /// Connects to `display` (or `$DISPLAY`) and prepares shared memory and damage
    /// tracking. Nothing is read from the screen until [`Capturer::capture`].
    pub fn open(display: Option<&str>) -> Result<Self, CaptureError> {
        let (conn, screen_num) =
            x11rb::connect(display).map_err(|e| CaptureError::Connect(e.to_string()))?;
        let screen = conn
            .setup()
            .roots
            .get(screen_num)
            .ok_or_else(|| conn_err("no such screen"))?;
        let (root, width, height) = (screen.root, screen.width_in_pixels, screen.height_in_pixels);
        if screen.root_depth != 24 && screen.root_depth != 32 {
            return Err(conn_err(format!(
                "unsupported colour depth {}",
                screen.root_depth
            )));
        }
        let shm_ok = conn.shm_query_version().map_err(conn_err)?.reply().is_ok();
        if !shm_ok {
            return Err(CaptureError::MissingExtension("MIT-SHM"));
        }
        conn.damage_query_version(1, 1)
            .map_err(conn_err)?
            .reply()
            .map_err(|_| CaptureError::MissingExtension("DAMAGE"))?;
        conn.xfixes_query_version(4, 0)
            .map_err(conn_err)?
            .reply()
            .map_err(|_| CaptureError::MissingExtension("XFIXES"))?;
        let damage_id = conn.generate_id().map_err(conn_err)?;
        conn.damage_create(damage_id, root, damage::ReportLevel::NON_EMPTY)
            .map_err(conn_err)?;
        conn.xfixes_select_cursor_input(root, xfixes::CursorNotifyMask::DISPLAY_CURSOR)
            .map_err(conn_err)?;
        let (segment, shm_seg) = attach_segment(&conn, width, height)?;
        let len = frame_len(width, height);
        let mut capturer = Self {
            conn,
            root,
            width,
            height,
            segment,
            shm_seg,
            clean: vec![0; len],
            composed: vec![0; len],
            damaged: true,
            pointer: Pointer::default(),
            pointer_checked: None,
            frames: 0,
        };
        capturer.damage_id_reset(damage_id)?;
        Ok(capturer)
    }

    fn damage_id_reset(&mut self, damage_id: u32) -> Result<(), CaptureError> {
        // Start from an empty damage region so the first notify means a real change.
        self.conn
            .damage_subtract(damage_id, x11rb::NONE, x11rb::NONE)
            .map_err(conn_err)?;
        self.conn.flush().map_err(conn_err)?;
        Ok(())
    }

    /// Drains pending events; returns whether the pointer's shape changed.
    fn drain_events(&mut self) -> Result<bool, CaptureError> {
        let mut shape_changed = false;
        while let Some(event) = self.conn.poll_for_event().map_err(conn_err)? {
            match event {
                Event::DamageNotify(notify) => {
                    self.damaged = true;
                    self.conn
                        .damage_subtract(notify.damage, x11rb::NONE, x11rb::NONE)
                        .map_err(conn_err)?;
                }
                Event::XfixesCursorNotify(_) => shape_changed = true,
                _ => {}
            }
        }
        Ok(shape_changed)
    }

    fn grab(&mut self) -> Result<(), CaptureError> {
        let geometry = self
            .conn
            .get_geometry(self.root)
            .map_err(conn_err)?
            .reply()
            .map_err(conn_err)?;
        if (geometry.width, geometry.height) != (self.width, self.height) {
            // The screen was resized (xrandr): new segment, new buffers.
            let (segment, shm_seg) = attach_segment(&self.conn, geometry.width, geometry.height)?;
            let _ = self.conn.shm_detach(self.shm_seg);
            self.segment = segment;
            self.shm_seg = shm_seg;
            self.width = geometry.width;
            self.height = geometry.height;
            let len = frame_len(self.width, self.height);
            self.clean = vec![0; len];
            self.composed = vec![0; len];
        }
        self.conn
            .shm_get_image(
                self.root,
                0,
                0,
                self.width,
                self.height,
                !0,
                ImageFormat::Z_PIXMAP.into(),
                self.shm_seg,
                0,
            )
            .map_err(conn_err)?
            .reply()
            .map_err(conn_err)?;
        let len = self.clean.len();
        self.clean.copy_from_slice(&self.segment.bytes()[..len]);
        Ok(())
    }
}

impl Capturer for X11Capturer {
    fn capture(&mut self, force: bool) -> Result<Option<Frame<'_>>, CaptureError> {
        let shape_changed = self.drain_events()?;
        let pointer_due = self
            .pointer_checked
            .is_none_or(|t| t.elapsed() >= POINTER_EVERY);
        let pointer_moved = if pointer_due || shape_changed || self.damaged || force {
            self.pointer_checked = Some(std::time::Instant::now());
            self.pointer.update(&self.conn, self.root, shape_changed)?
        } else {
            false
        };
        if !(self.damaged || pointer_moved || force) {
            return Ok(None);
        }
        if self.damaged || force {
            self.damaged = false;
            self.grab()?;
        }
        self.composed.copy_from_slice(&self.clean);
        self.pointer.draw(
            &mut self.composed,
            self.width as usize,
            self.height as usize,
        );
        self.frames += 1;
        Ok(Some(Frame {
            width: u32::from(self.width),
            height: u32::from(self.height),
            stride: usize::from(self.width) * 4,
            data: &self.composed,
        }))
    }

    fn frames_captured(&self) -> u64 {
        self.frames
    }
}

fn frame_len(width: u16, height: u16) -> usize {
    usize::from(width) * usize::from(height) * 4
}

fn attach_segment(
    conn: &RustConnection,
    width: u16,
    height: u16,
) -> Result<(shm::Segment, u32), CaptureError> {
    let segment = shm::Segment::new(frame_len(width, height))
        .map_err(|e| CaptureError::SharedMemory(e.to_string()))?;
    let shm_seg = conn.generate_id().map_err(conn_err)?;
    conn.shm_attach(shm_seg, segment.id(), false)
        .map_err(conn_err)?
        .check()
        .map_err(|e| CaptureError::SharedMemory(e.to_string()))?;
    segment.remove_when_detached();
    Ok((segment, shm_seg))
}
