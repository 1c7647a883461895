//! How the caseworker's "look here" marker looks, on every platform: a bright square
//! frame that shows for a few seconds where the caseworker points.

use std::time::Duration;

/// How long the marker stays visible.
pub const SHOW_FOR: Duration = Duration::from_secs(3);
/// Side of the square, in pixels.
pub const SIZE: u16 = 64;
/// Width of its frame, in pixels.
pub const THICKNESS: u16 = 7;
/// A warm orange (0xRRGGBB) that stands out on white forms and dark pages alike.
pub const COLOUR: u32 = 0x00ff_6b00;
