//! Screen capture, behind the [`Capturer`] trait so the rest of the agent does not care
//! which platform the pixels come from: `platform/x11/capture/` (MIT-SHM, XDamage,
//! XFIXES) and `platform/windows/capture/` (DXGI Desktop Duplication, GDI as the
//! fallback), chosen by [`crate::platform`]; see docs/platforms.md.

pub mod fake;
pub mod protected;

/// One captured screen image, 32 bits per pixel in B, G, R, X byte order.
pub struct Frame<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes per row.
    pub stride: usize,
    /// The pixels, `stride * height` bytes.
    pub data: &'a [u8],
}

/// Why capturing failed.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// No X display could be opened (no `DISPLAY`, or the server refused us).
    #[error("cannot open the display: {0}")]
    Connect(String),
    /// The server lacks an extension we need.
    #[error("the display server lacks the {0} extension")]
    MissingExtension(&'static str),
    /// Shared memory could not be set up.
    #[error("shared memory for capture failed: {0}")]
    SharedMemory(String),
    /// The connection to the display broke or a request failed.
    #[error("display connection failed: {0}")]
    Connection(String),
}

/// Captures the resident's screen.
///
/// Implementations are created only once the resident has said yes (see
/// [`crate::pipeline`]), so holding one means capture is allowed.
pub trait Capturer: Send {
    /// Returns the screen if it changed since the last call (or if `force` is set),
    /// `None` when nothing changed. The mouse pointer is drawn into the image.
    fn capture(&mut self, force: bool) -> Result<Option<Frame<'_>>, CaptureError>;

    /// Frames returned so far.
    fn frames_captured(&self) -> u64;
}
