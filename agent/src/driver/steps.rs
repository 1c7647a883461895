//! Carrying out the core's steps, and what needs no consent decision at all (the
//! security code's start, the monitors, chat and files from the resident, candidates).

use super::*;

impl Live<'_> {
    /// One turn of the loop, before what woke it is handled: the core checks whether the
    /// agent stalled (and takes control back if it did).
    pub(super) async fn turn(&mut self) {
        let steps = self.assist.turn(Instant::now(), SystemTime::now());
        self.carry_out(steps).await;
    }

    /// Feeds `what` to the core, now, and carries out its steps. False when the relay
    /// connection must be dropped and tried again.
    pub(super) async fn step(&mut self, what: Happened) -> bool {
        let steps = self.assist.handle(Instant::now(), what);
        self.carry_out(steps).await
    }

    async fn carry_out(&mut self, steps: Vec<Step>) -> bool {
        let mut keep = true;
        for step in steps {
            keep &= self.perform(step).await;
        }
        keep
    }

    async fn perform(&mut self, step: Step) -> bool {
        match step {
            Step::ShowCode(code) => {
                let grouped = acote_proto::SessionCode::parse(&code)
                    .map(|c| c.grouped())
                    .unwrap_or(code);
                self.prompter.show_code(&grouped);
            }
            Step::AskView { by, timeout } => self.prompter.ask_view(&by, timeout),
            Step::CancelQuestion => self.prompter.cancel_question(),
            Step::StartSharing(grant) => Box::pin(self.start_sharing(grant)).await,
            Step::StopSharing => self.stop_media().await,
            Step::Send(msg) => {
                let _ = self.send(msg).await;
            }
            Step::Ended(reason) => {
                self.prompter.data_sent(self.bytes_sent);
                self.prompter.ended(reason, self.frames);
                self.frames = 0;
                self.bytes_sent = 0;
            }
            Step::RestartIce => Box::pin(self.restart_ice()).await,
            Step::Control(effect) => self.apply(effect).await,
            Step::Voice(effect) => Box::pin(self.voice(effect)).await,
            Step::Interrupted { by, had_control } => self.prompter.interrupted(&by, had_control),
            Step::Resumed { by } => self.prompter.resumed(&by),
            Step::Connected {
                site,
                max_file_bytes,
            } => {
                self.transfers.set_limit(max_file_bytes);
                self.prompter.status(&Status::Connected { site });
            }
            Step::Peer(msg) => Box::pin(self.for_peer(msg)).await,
            Step::Reconnect => return false,
        }
        true
    }

    /// The viewer's answer or a candidate, for the peer connection (if there is one).
    async fn for_peer(&mut self, msg: SignalMessage) {
        let Some(media) = &self.media else {
            return;
        };
        match msg {
            SignalMessage::Answer { sdp } => {
                if let Err(e) = media.peer.answer(sdp).await {
                    tracing::warn!(error = %e, "the viewer's answer was refused");
                    self.step(Happened::MediaFailed).await;
                }
            }
            SignalMessage::Candidate {
                candidate,
                sdp_mid,
                sdp_mline_index,
                username_fragment,
            } => {
                let added = media
                    .peer
                    .add_candidate(candidate, sdp_mid, sdp_mline_index, username_fragment)
                    .await;
                if let Err(e) = added {
                    tracing::debug!(error = %e, "ignoring a candidate");
                }
            }
            _ => {}
        }
    }

    /// What needs no consent decision: our candidates, the data channel opening, the
    /// resident's chat and files, the clipboard thread's outcome.
    pub(super) async fn plain(&mut self, input: Input) {
        match input {
            Input::Peer(Some(PeerEvent::Candidate(c))) => {
                // Offline, a candidate is lost: an ICE restart after the resume makes new ones.
                let _ = self.send(c).await;
            }
            Input::Peer(Some(PeerEvent::ChannelOpen)) => {
                self.start_sas().await;
                self.tell_screens(true).await;
                let effects = self.transfers.channel_open();
                self.file_effects(effects).await;
            }
            Input::Clipboard(outcome) => self.clipboard_done(outcome).await,
            Input::Ui(Some(UiEvent::Chat(text))) => self.send_chat(text).await,
            Input::Ui(Some(UiEvent::SaveFile(yes))) => {
                let effects = self.transfers.answer(yes);
                self.file_effects(effects).await;
            }
            Input::Ui(Some(UiEvent::SendFile(path))) => self.send_file(path).await,
            _ => {}
        }
    }
}
