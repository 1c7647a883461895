//! The media side of a session: starting and stopping the peer connection and capture,
//! control and its interruptions, the security code, the data counter.

use super::*;

impl Live<'_> {
    /// The path failed while a side was away: offer again with new ICE credentials.
    pub(super) async fn restart_ice(&mut self) {
        let Some(media) = &self.media else {
            return;
        };
        match media.peer.restart_offer().await {
            Ok(sdp) => {
                tracing::info!("media path failed during the interruption; restarting ICE");
                let _ = self.send(SignalMessage::Offer { sdp }).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot restart ICE");
                Box::pin(self.step(Happened::MediaFailed)).await;
            }
        }
    }

    pub(super) async fn start_sharing(&mut self, grant: ViewGrant) {
        self.features_used.clear();
        let (peer_tx, peer_events) = mpsc::channel(64);
        let (ice_servers, relay_only) = self.assist.ice(self.opts.relay_only);
        // Through TCP or TLS bridges when the network lets no UDP out (a firewall).
        let egress = egress::choose(ice_servers, self.opts.tls.clone()).await;
        let peer = match Peer::new(
            &egress.ice_servers,
            self.opts.include_loopback,
            relay_only,
            peer_tx,
        )
        .await
        {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot set up WebRTC");
                Box::pin(self.step(Happened::MediaFailed)).await;
                return;
            }
        };
        let (fail_tx, failures) = mpsc::channel(1);
        let shown = Shown::default();
        let source = Source {
            open: (self.opts.open_capturer)(),
            shown: shown.clone(),
        };
        let sharing = pipeline::start(
            grant,
            source,
            Box::new(H264Encoder::new(H264Settings::default())),
            Arc::clone(&peer.track),
            Arc::clone(&peer.feedback),
            Pacing::default(),
            fail_tx,
        );
        let offer = peer.offer().await;
        let (clip_tx, clipboard_done) = mpsc::unbounded_channel();
        let open_clipboard = Arc::clone(&self.opts.open_clipboard);
        let clipboard = clipboard::spawn(move || open_clipboard(), clip_tx);
        let control = Control::new(
            (self.opts.open_injector)(),
            (self.opts.open_marker)(),
            clipboard,
            shown.clone(),
        );
        self.assist.attach(control);
        self.media = Some(Media {
            peer,
            _bridges: egress.bridges,
            sent: 0,
            sent_at: Instant::now(),
            told: None,
            sharing,
            sas: None,
            peer_events,
            failures,
            clipboard_done,
            monitors: None,
            shown,
            voice: VoiceIo::new(),
        });
        match offer {
            Ok(sdp) => {
                let _ = self.send(SignalMessage::Offer { sdp }).await;
                if let Some(by) = self.assist.who() {
                    self.prompter.sharing(by);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot create the offer");
                Box::pin(self.step(Happened::MediaFailed)).await;
            }
        }
    }

    /// Who the caseworker is, for the resident's window (nameless if not yet known).
    pub(super) fn requester(&self) -> Requester {
        self.assist.who().cloned().unwrap_or_else(|| Requester {
            name: None,
            site: String::new(),
        })
    }

    /// Carries out what control decided.
    pub(super) async fn apply(&mut self, effect: ControlEffect) {
        let who = self.requester();
        match effect {
            ControlEffect::Ask { timeout } => self.prompter.ask_control(&who, timeout),
            ControlEffect::Withdraw => self.prompter.cancel_question(),
            ControlEffect::Changed(state) => self.prompter.control_changed(state, &who),
            ControlEffect::Audit(event) => {
                let _ = self.send(SignalMessage::Consent { event }).await;
            }
            ControlEffect::LowData(on) => {
                if let Some(media) = &self.media {
                    tracing::info!(on, "low data set by the caseworker");
                    media.peer.feedback.set_low_data(on);
                }
            }
            ControlEffect::SasNonce(n) => self.on_sas_nonce(&n).await,
            ControlEffect::ShowScreen(id) => self.show_screen(id).await,
            ControlEffect::File(msg) => {
                let effects = self.transfers.on_message(msg);
                Box::pin(self.file_effects(effects)).await;
            }
            ControlEffect::Chat(text) => {
                self.prompter.chat_received(&who, &text);
                self.used(Feature::Chat).await;
            }
            // Taken by the core for the call (assist), never carried out here.
            ControlEffect::Voice(_) => {}
            ControlEffect::Reply(msg) => {
                if let Some(media) = &self.media {
                    media.peer.send_channel(msg.to_json()).await;
                }
            }
        }
    }

    /// The data channel is open: commit to our security-code nonce (see
    /// [`acote_proto::sas`]), from the fingerprints this connection actually uses.
    pub(super) async fn start_sas(&mut self) {
        let Some(media) = self.media.as_mut() else {
            return;
        };
        if media.sas.is_some() {
            return;
        }
        match media.peer.fingerprints().await {
            Ok((fp_agent, fp_viewer)) => {
                let (sas, commit) = AgentSas::start(Nonce::random(), fp_agent, fp_viewer);
                media.sas = Some(sas);
                media.peer.send_channel(commit.to_json()).await;
            }
            Err(e) => tracing::warn!(error = %e, "no security code for this connection"),
        }
    }

    /// The viewer's nonce: reveal ours and show the code. A nonce before our commitment
    /// or after the code is fixed is refused (a man in the middle gets no second try).
    pub(super) async fn on_sas_nonce(&mut self, n: &str) {
        let Some(media) = self.media.as_mut() else {
            return;
        };
        // Refusals are logged at debug level only, like other refused channel
        // messages: a viewer sending them in a flood must not fill the log.
        let Some(sas) = media.sas.as_mut() else {
            tracing::debug!("refused a security-code nonce before our commitment");
            return;
        };
        let code = match sas.on_nonce(n) {
            Ok((reveal, code)) => {
                media.peer.send_channel(reveal.to_json()).await;
                code
            }
            Err(e) => {
                tracing::debug!(error = %e, "refused a security-code message");
                return;
            }
        };
        self.prompter.security_code(code);
    }

    /// Stops the session's media; its control already ended (in the core, first, so the
    /// injector let go of every key before anything else).
    pub(super) async fn stop_media(&mut self) {
        // Transfers end with the session; partial files are removed.
        let effects = self.transfers.end_all();
        self.file_effects(effects).await;
        if let Some(mut media) = self.media.take() {
            media.voice.close(&media.peer.voice_in);
            self.frames += media.sharing.stop().await;
            // The counter only grows; a smaller figure would be a reset, not a refund.
            self.bytes_sent += media.peer.bytes_sent().await.max(media.sent);
            media.peer.close().await;
        }
    }

    /// Every [`DATA_EVERY`] while sharing: tells the resident how much data the session
    /// has sent so far, and the caseworker's page when it moved enough
    /// ([`super::worth_telling`]).
    pub(super) async fn count_data(&mut self, now: Instant) {
        let Some(media) = self.media.as_mut() else {
            return;
        };
        if now.saturating_duration_since(media.sent_at) < DATA_EVERY {
            return;
        }
        media.sent_at = now;
        media.sent = media.peer.bytes_sent().await.max(media.sent);
        let total = self.bytes_sent + media.sent;
        self.prompter.data_sent(total);
        if super::worth_telling(media.told, total, now) {
            media.told = Some((total, now));
            let msg = AgentMessage::DataSent { bytes: total };
            media.peer.send_channel(msg.to_json()).await;
        }
        // Monitors come and go (a laptop docked, a projector): the list follows.
        if media.monitors.is_some() {
            self.tell_screens(false).await;
        }
    }
}

/// The next thing the media side reports; pending forever when there is no media.
pub(super) async fn media_event(media: &mut Option<Media>) -> Input {
    let Some(m) = media else {
        return std::future::pending().await;
    };
    tokio::select! {
        e = m.peer_events.recv() => Input::Peer(e),
        Some(outcome) = m.clipboard_done.recv() => Input::Clipboard(outcome),
        Some(event) = m.voice.events.recv() => Input::Voice(event),
        failure = m.failures.recv() => match failure {
            Some(_) => Input::PipelineFailed,
            // The pipeline ended without error (stopped): wait for the peer alone.
            None => Input::Peer(m.peer_events.recv().await),
        },
    }
}
