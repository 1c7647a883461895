//! Remote control during a sharing session: reads the viewer's data-channel messages,
//! asks the consent gate, and hands admitted input to the injector thread. IO-free apart
//! from the injector and marker handles it owns; the driver carries out the returned
//! [`ControlEffect`]s (questions to the resident, replies to the viewer).

use std::time::Instant;

use acote_proto::ConsentEvent;
use acote_proto::channel::{
    AgentMessage, ControlAction, ControlState, InputRefusal, ViewerMessage, VoiceAction,
};

use crate::input::clipboard::{ClipboardHandle, Request};
use crate::input::consent::{ConsentGate, GateAction, Grant};
use crate::input::inject::{InjectorHandle, QueueRefusal};
use crate::screens::Shown;

/// Shows the caseworker's "look here" marker on the resident's screen.
pub trait Marker: Send {
    /// Marks (x, y), each 0..=1 of the screen.
    fn show(&self, x: f64, y: f64);
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq)]
pub enum ControlEffect {
    /// Ask the resident the control question.
    Ask {
        /// How long they have.
        timeout: std::time::Duration,
    },
    /// Withdraw the open control question.
    Withdraw,
    /// Control changed: tell the resident.
    Changed(ControlState),
    /// Send this to the viewer.
    Reply(AgentMessage),
    /// Tell the relay this consent step, for its audit log (metadata only).
    Audit(ConsentEvent),
    /// The caseworker switched low data on or off.
    LowData(bool),
    /// The viewer's security-code nonce (validated hex), for the exchange the driver
    /// runs.
    SasNonce(String),
    /// A chat message from the caseworker (validated), for the resident's window.
    Chat(String),
    /// Show this monitor (by its index), or the whole desktop.
    ShowScreen(Option<u32>),
    /// A `file_*` message (checked), for the session's transfers ([`crate::files`]).
    File(ViewerMessage),
    /// The caseworker asks to talk or hangs up: for the call's own consent
    /// ([`crate::voice::call`]).
    Voice(VoiceAction),
}

/// Control for one sharing session.
pub struct Control {
    gate: ConsentGate,
    injector: InjectorHandle,
    marker: Box<dyn Marker>,
    clipboard: ClipboardHandle,
    /// The monitor the caseworker sees: positions are relative to it.
    shown: Shown,
    invalid: u64,
}

impl Control {
    /// Control for a new sharing session: viewing only until the resident says yes.
    pub fn new(
        injector: InjectorHandle,
        marker: Box<dyn Marker>,
        clipboard: ClipboardHandle,
        shown: Shown,
    ) -> Self {
        Self {
            gate: ConsentGate::new(),
            injector,
            marker,
            clipboard,
            shown,
            invalid: 0,
        }
    }

    /// Where control stands, as the viewer was last told.
    pub fn state(&self) -> ControlState {
        self.gate.state()
    }

    /// True while the control question is open.
    pub fn is_asking(&self) -> bool {
        self.gate.is_asking()
    }

    /// Messages refused so far (not in control, invalid, too many).
    pub fn refused_total(&self) -> u64 {
        self.gate.refused_total()
    }

    /// Invalid messages so far.
    pub fn invalid_total(&self) -> u64 {
        self.invalid
    }

    /// One message from the viewer's data channel.
    pub fn on_message(&mut self, now: Instant, text: &str) -> Vec<ControlEffect> {
        let msg = match ViewerMessage::parse(text) {
            Ok(m) => m,
            Err(e) => {
                self.invalid += 1;
                tracing::debug!(error = %e, "refused a data-channel message");
                self.gate.refuse(InputRefusal::Invalid);
                return Vec::new();
            }
        };
        if msg.needs_control() {
            // The proto says what needs control; only the gate's grant lets it act.
            if let Some(grant) = self.gate.admit() {
                self.act(grant, msg);
            }
            return Vec::new();
        }
        match msg {
            ViewerMessage::Control { action } => {
                let actions = match action {
                    ControlAction::Request => self.gate.request(now),
                    ControlAction::Release => self.gate.release(),
                };
                self.effects(actions)
            }
            ViewerMessage::Highlight { x, y } => {
                // Pointing only draws, never acts.
                let (x, y) = self.shown.to_desktop(x, y);
                self.marker.show(x, y);
                Vec::new()
            }
            // It only narrows what the caseworker sees.
            ViewerMessage::ShowScreen { id } => vec![ControlEffect::ShowScreen(id)],
            // It only lowers what is sent.
            ViewerMessage::LowData { on } => vec![ControlEffect::LowData(on)],
            // It only authenticates the connection.
            ViewerMessage::SasNonce { n } => vec![ControlEffect::SasNonce(n)],
            // It only shows words to the resident.
            ViewerMessage::Chat { text } => vec![ControlEffect::Chat(text)],
            // The resident is asked about each file they receive.
            file @ (ViewerMessage::FileOffer(_)
            | ViewerMessage::FileAccept(_)
            | ViewerMessage::FileChunk(_)
            | ViewerMessage::FileAck(_)
            | ViewerMessage::FileEnd(_)) => vec![ControlEffect::File(file)],
            // The resident is asked apart before any microphone opens.
            ViewerMessage::Voice { action } => vec![ControlEffect::Voice(action)],
            // Admitted (or not) above.
            ViewerMessage::Pointer { .. }
            | ViewerMessage::Button { .. }
            | ViewerMessage::Wheel { .. }
            | ViewerMessage::Key { .. }
            | ViewerMessage::Text { .. }
            | ViewerMessage::ClipboardPut { .. }
            | ViewerMessage::ClipboardGet => Vec::new(),
        }
    }

    /// Carries out a message the gate admitted: the clipboard through its thread, the
    /// rest through the injector (a pointer mapped from the shown monitor to the desktop).
    fn act(&mut self, grant: Grant, msg: ViewerMessage) {
        let input = match msg {
            ViewerMessage::ClipboardPut { text } => {
                self.clipboard.send(grant, Request::Write(text));
                return;
            }
            ViewerMessage::ClipboardGet => {
                self.clipboard.send(grant, Request::Read);
                return;
            }
            ViewerMessage::Pointer { x, y } => {
                let (x, y) = self.shown.to_desktop(x, y);
                ViewerMessage::Pointer { x, y }
            }
            other => other,
        };
        if let Err(QueueRefusal::TooMany | QueueRefusal::Closed) = self.injector.send(grant, input)
        {
            self.gate.refuse(InputRefusal::TooMany);
        }
    }

    /// The resident answered the control question.
    pub fn answer(&mut self, now: Instant, yes: bool) -> Vec<ControlEffect> {
        let actions = self.gate.answer(now, yes);
        self.effects(actions)
    }

    /// The resident takes control back.
    pub fn stop(&mut self) -> Vec<ControlEffect> {
        let actions = self.gate.stop();
        self.effects(actions)
    }

    /// Timers: the question's deadline, and grouped refusal notices to the viewer.
    pub fn poll(&mut self, now: Instant) -> Vec<ControlEffect> {
        let actions = self.gate.poll(now);
        let mut out = self.effects(actions);
        out.extend(self.gate.notices(now).into_iter().map(ControlEffect::Reply));
        out
    }

    /// The session ends: control ends with it and everything held is released.
    pub fn end(&mut self) -> Vec<ControlEffect> {
        let actions = self.gate.end();
        self.effects(actions)
    }

    fn effects(&mut self, actions: Vec<GateAction>) -> Vec<ControlEffect> {
        let mut out = Vec::new();
        for action in actions {
            match action {
                GateAction::Ask { timeout } => {
                    out.push(ControlEffect::Audit(ConsentEvent::ControlAsked));
                    out.push(ControlEffect::Ask { timeout });
                }
                GateAction::Withdraw => out.push(ControlEffect::Withdraw),
                GateAction::ReleaseAll => self.injector.release_all(),
                GateAction::Tell(state) => {
                    if let Some(event) = audit_event(state) {
                        out.push(ControlEffect::Audit(event));
                    }
                    out.push(ControlEffect::Changed(state));
                    out.push(ControlEffect::Reply(AgentMessage::Control { state }));
                }
            }
        }
        out
    }
}

/// The audit event for a change of control reported to the viewer.
fn audit_event(state: ControlState) -> Option<ConsentEvent> {
    match state {
        ControlState::Controlling => Some(ConsentEvent::ControlAllowed),
        ControlState::Refused => Some(ConsentEvent::ControlRefused),
        ControlState::NoAnswer => Some(ConsentEvent::ControlTimeout),
        ControlState::TakenBack => Some(ConsentEvent::ControlRevoked),
        // Viewing after controlling or asking: the caseworker gave control back.
        ControlState::Viewing => Some(ConsentEvent::ControlReleased),
        ControlState::Asking | ControlState::Other => None,
    }
}

/// Stand-ins for the injector, the marker and the clipboard, for IO-free tests.
#[cfg(test)]
pub(crate) mod fakes {
    use super::*;
    use crate::input::inject::{self, InjectError, Injector};
    use std::sync::{Arc, Mutex};

    /// Counts what it was asked to inject.
    #[derive(Clone, Default)]
    pub(crate) struct Played(pub(crate) Arc<Mutex<usize>>);
    impl Injector for Played {
        fn inject(&mut self, _: &Grant, _: &ViewerMessage) -> Result<(), InjectError> {
            *self.0.lock().unwrap() += 1;
            Ok(())
        }
        fn release_all(&mut self) -> Result<(), InjectError> {
            Ok(())
        }
    }

    /// Draws nothing.
    pub(crate) struct NoMarker;
    impl Marker for NoMarker {
        fn show(&self, _: f64, _: f64) {}
    }

    /// A clipboard thread whose clipboard never opens, and what it reports.
    pub(crate) fn no_clipboard() -> (
        ClipboardHandle,
        tokio::sync::mpsc::UnboundedReceiver<crate::input::clipboard::Outcome>,
    ) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let handle = crate::input::clipboard::spawn(
            || {
                Err(crate::input::clipboard::ClipboardError::Unavailable(
                    "none in tests".into(),
                ))
            },
            tx,
        );
        (handle, rx)
    }

    /// A session's control with a counting injector, and the count.
    pub(crate) fn control() -> (Control, Played) {
        let played = Played::default();
        let injector = {
            let p = played.clone();
            inject::spawn(move || Ok(p))
        };
        let control = Control::new(
            injector,
            Box::new(NoMarker),
            no_clipboard().0,
            Shown::default(),
        );
        (control, played)
    }
}

#[cfg(test)]
mod tests {
    use super::fakes::{Played, control, no_clipboard};
    use super::*;
    use crate::input::inject;

    #[test]
    fn the_security_code_nonce_needs_no_control_and_is_checked_first() {
        let (mut c, played) = control();
        let now = Instant::now();
        let n = "ab".repeat(32);
        assert_eq!(
            c.on_message(now, &format!(r#"{{"type":"sas_nonce","n":"{n}"}}"#)),
            vec![ControlEffect::SasNonce(n)]
        );
        assert_eq!(c.refused_total(), 0, "not refused for want of control");
        let short = r#"{"type":"sas_nonce","n":"abab"}"#;
        assert_eq!(
            c.on_message(now, short),
            vec![],
            "never reaches the exchange"
        );
        assert_eq!(c.invalid_total(), 1);
        assert_eq!(*played.0.lock().unwrap(), 0);
    }

    #[test]
    fn low_data_needs_no_control_and_is_nothing_injected() {
        let (mut c, played) = control();
        let now = Instant::now();
        assert_eq!(
            c.on_message(now, r#"{"type":"low_data","on":true}"#),
            vec![ControlEffect::LowData(true)]
        );
        assert_eq!(
            c.on_message(now, r#"{"type":"low_data","on":false}"#),
            vec![ControlEffect::LowData(false)]
        );
        assert_eq!(c.refused_total(), 0, "not refused for want of control");
        assert_eq!(c.on_message(now, r#"{"type":"low_data","on":"x"}"#), vec![]);
        assert_eq!(c.invalid_total(), 1);
        assert_eq!(*played.0.lock().unwrap(), 0);
    }

    #[test]
    fn chat_needs_no_control_and_is_never_typed() {
        let (mut c, played) = control();
        let now = Instant::now();
        assert_eq!(
            c.on_message(now, r#"{"type":"chat","text":"Cliquez sur « Suivant »"}"#),
            vec![ControlEffect::Chat("Cliquez sur « Suivant »".into())]
        );
        assert_eq!(c.refused_total(), 0, "not refused for want of control");
        let spoofing = r#"{"type":"chat","text":"fdp.\u202Eexe"}"#;
        assert_eq!(c.on_message(now, spoofing), vec![]);
        assert_eq!(c.invalid_total(), 1);
        assert_eq!(
            *played.0.lock().unwrap(),
            0,
            "chat never reaches the injector"
        );
    }

    #[test]
    fn the_clipboard_is_refused_without_control() {
        let injector = inject::spawn(|| Ok(Played::default()));
        let (clipboard, mut done) = no_clipboard();
        let mut c = Control::new(
            injector,
            Box::new(super::fakes::NoMarker),
            clipboard,
            Shown::default(),
        );
        let now = Instant::now();
        assert_eq!(c.on_message(now, r#"{"type":"clipboard_get"}"#), vec![]);
        let put = r#"{"type":"clipboard_put","text":"FR76"}"#;
        assert_eq!(c.on_message(now, put), vec![]);
        assert_eq!(c.refused_total(), 2, "both refused for want of control");
        drop(c);
        // The thread got nothing: it ends without a word once its handle is gone.
        let deadline = Instant::now() + std::time::Duration::from_secs(5);
        while !done.is_closed() && Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(done.try_recv().is_err());
    }
}
