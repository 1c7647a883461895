//! acote-agent: runs on the resident's PC, shows a code, asks the resident, and — only
//! after their yes — shares the screen with the caseworker over WebRTC.
//!
//! Layout, in the order the pixels flow:
//! - [`capture`]: the `Capturer` trait, the X11 capturer (MIT-SHM, XDamage, XFIXES) and
//!   the Windows one (DXGI Desktop Duplication, GDI);
//! - [`encode`]: the `Encoder` trait and H.264;
//! - [`pipeline`]: capture → encode on its own thread, needs a `ViewGrant`;
//! - [`sharpness`]: the quantiser of the next picture: coarser while a picture moves on a
//!   slow path, sharp again once it stops;
//! - [`pace`]: when the next frame may go, from the browser's congestion feedback, and
//!   [`backlog`]: what is still on the way, from the viewer's reports;
//! - [`refresh`]: when an unchanged screen goes again;
//! - [`transport`]: WSS signaling with certificate pinning, the WebRTC peer;
//! - [`session`]: the IO-free session and view-consent state machine;
//! - [`assist`]: the IO-free core owning the session, its control, stalls and the link's
//!   memory: every consent decision, tested in virtual time;
//! - [`input`]: the control consent gate (IO-free) and the injector behind it;
//! - [`control`]: data-channel messages → gate → injector, for one session;
//! - [`voice`]: the voice call: its own consent (IO-free), microphone and speakers,
//!   Opus, and the playout of the caseworker's voice;
//! - [`ui`]: the `Prompter` trait (what the resident sees): the resident's window
//!   (Slint, eight languages) and the console dialogue;
//! - [`driver`]: the async task that connects it all and reconnects;
//! - [`config`]: the admin's optional config file;
//! - [`platform`]: the one place that picks the X11 or the Windows implementations.

pub mod assist;
pub mod backlog;
pub mod capture;
pub mod config;
pub mod control;
pub mod driver;
pub mod encode;
pub mod files;
pub mod input;
pub mod link;
pub mod pace;
pub mod pipeline;
pub mod platform;
pub mod refresh;
pub mod screens;
pub mod session;
pub mod sharpness;
pub mod stall;
pub mod transport;
pub mod ui;
pub mod voice;
