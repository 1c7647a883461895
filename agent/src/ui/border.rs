//! The coloured frame around the whole screen while it is shared, so the resident sees
//! at a glance that someone can see it (and, in another colour, that someone controls
//! it). Behind the small [`ScreenBorder`] trait, one implementation per platform (chosen
//! by [`crate::platform`]); [`NoBorder`] where none is wanted (the problem window).

/// Width of the frame, in pixels.
pub const THICKNESS: u16 = 8;

/// What the frame says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BorderColour {
    /// The screen is visible to the caseworker.
    Sharing,
    /// The caseworker controls the mouse and keyboard.
    Controlling,
}

impl BorderColour {
    /// 0xRRGGBB: the same red and violet as the sharing bar.
    pub fn rgb(self) -> u32 {
        match self {
            BorderColour::Sharing => 0x00c6_2828,
            BorderColour::Controlling => 0x006a_1b9a,
        }
    }
}

/// Shows or hides the frame around the screen.
pub trait ScreenBorder {
    /// Shows the frame in `colour` (or changes its colour).
    fn show(&mut self, colour: BorderColour);
    /// Hides the frame.
    fn hide(&mut self);
}

/// No frame (the window that only says why the agent cannot start).
pub struct NoBorder;

impl ScreenBorder for NoBorder {
    fn show(&mut self, _: BorderColour) {}
    fn hide(&mut self) {}
}
