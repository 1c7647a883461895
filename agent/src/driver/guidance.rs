//! What the driver does for the guidance tools: chat, files, the clipboard's outcome,
//! the monitors, and the audit note that a feature was used.

use super::*;

impl Live<'_> {
    /// Sends the resident's chat message to the caseworker, if the data channel is open
    /// and the message is valid; the resident's window is told either way.
    pub(super) async fn send_chat(&mut self, text: String) {
        let text = acote_proto::channel::clean_chat(&text);
        let mut sent = false;
        if acote_proto::channel::check_chat(&text).is_ok()
            && let Some(media) = &self.media
        {
            let msg = AgentMessage::Chat { text: text.clone() };
            sent = media.peer.send_channel(msg.to_json()).await;
        }
        if sent {
            self.prompter.chat_sent(&text);
            self.used(Feature::Chat).await;
        } else {
            self.prompter.chat_not_sent(&text);
        }
    }

    /// The resident chose a file to send: measured (off the event loop: it reads the
    /// whole file once for its SHA-256), then offered to the caseworker.
    pub(super) async fn send_file(&mut self, path: std::path::PathBuf) {
        if self.media.is_none() {
            tracing::info!("no session to send a file in");
            return;
        }
        let measured = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || files::measure(&path)).await
        };
        let effects = match measured {
            Ok(Ok((size, sha256))) => self.transfers.send(path, size, sha256),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cannot read the file the resident chose");
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default();
                vec![files::Effect::Ended {
                    file: files::FileReport {
                        id: String::new(),
                        name,
                        size: 0,
                        outgoing: true,
                    },
                    status: FileStatus::Failed,
                    saved_to: None,
                }]
            }
            Err(_) => Vec::new(),
        };
        self.file_effects(effects).await;
    }

    /// Carries out what the transfers decided.
    pub(super) async fn file_effects(&mut self, effects: Vec<files::Effect>) {
        let who = self.requester();
        for effect in effects {
            match effect {
                files::Effect::Send(msg) => {
                    if matches!(msg, AgentMessage::FileOffer(_)) {
                        self.used(Feature::Files).await;
                    }
                    if let Some(media) = &self.media {
                        media.peer.send_channel(msg.to_json()).await;
                    }
                }
                files::Effect::Ask(file) => {
                    self.prompter.file_offered(&who, &file);
                    self.used(Feature::Files).await;
                }
                files::Effect::Withdraw(id) => self.prompter.file_withdrawn(&id),
                files::Effect::Sending(file) => self.prompter.file_sending(&file),
                files::Effect::Progress { id, done, size } => {
                    self.prompter.file_progress(&id, done, size);
                }
                files::Effect::Ended {
                    file,
                    status,
                    saved_to,
                } => {
                    self.prompter
                        .file_ended(&who, &file, status, saved_to.as_deref());
                }
            }
        }
    }

    /// The clipboard thread served the caseworker: they get the text or how it went;
    /// the resident is told their clipboard was read or written.
    pub(super) async fn clipboard_done(&mut self, outcome: ClipboardOutcome) {
        let Some(media) = &self.media else {
            return;
        };
        let (msg, told) = match outcome {
            ClipboardOutcome::Read(text) => (AgentMessage::Clipboard { text }, Some(true)),
            ClipboardOutcome::Status(status) => (
                AgentMessage::ClipboardStatus { status },
                (status == ClipboardStatus::Written).then_some(false),
            ),
        };
        media.peer.send_channel(msg.to_json()).await;
        if let Some(read) = told {
            let who = self.requester();
            self.prompter.clipboard_used(&who, read);
            self.used(Feature::Clipboard).await;
        }
    }

    /// Lists the monitors again and tells the viewer when the list changed (or always,
    /// with `force`). A monitor that went away is no longer shown: the whole desktop is.
    pub(super) async fn tell_screens(&mut self, force: bool) {
        let list = self.opts.monitors.clone();
        let monitors = tokio::task::spawn_blocking(move || list())
            .await
            .unwrap_or_default();
        let Some(media) = self.media.as_mut() else {
            return;
        };
        if !force && media.monitors.as_ref() == Some(&monitors) {
            return;
        }
        if let Some(rect) = media.shown.get()
            && !monitors.iter().any(|m| m.rect == rect)
        {
            media.shown.set(None);
        }
        media.monitors = Some(monitors);
        self.send_screens().await;
    }

    /// The caseworker chose a monitor (or all of them).
    pub(super) async fn show_screen(&mut self, id: Option<u32>) {
        let Some(media) = self.media.as_mut() else {
            return;
        };
        let monitors = media.monitors.as_deref().unwrap_or_default();
        let rect = match id {
            None => None,
            Some(id) => match monitors.get(id as usize) {
                Some(m) => Some(m.rect),
                // Not (or no longer) a monitor: the viewer is told the list again.
                None => media.shown.get(),
            },
        };
        if rect != media.shown.get() {
            media.shown.set(rect);
            tracing::info!(monitor = ?id, "the caseworker changed the monitor shown");
            // A picture of the new size at once, even if nothing moves on it.
            media.peer.feedback.want_keyframe();
            self.used(Feature::Screens).await;
        }
        self.send_screens().await;
    }

    pub(super) async fn send_screens(&mut self) {
        let Some(media) = self.media.as_ref() else {
            return;
        };
        let monitors = media.monitors.as_deref().unwrap_or_default();
        let shown = media
            .shown
            .get()
            .and_then(|r| monitors.iter().position(|m| m.rect == r))
            .and_then(|i| u32::try_from(i).ok());
        let msg = AgentMessage::Screens {
            screens: screens::describe(monitors),
            shown,
        };
        media.peer.send_channel(msg.to_json()).await;
    }

    /// Carries out what the voice call decided: the resident's question, the devices
    /// (opened only with the consent the call made), and its state to both sides.
    pub(super) async fn voice(&mut self, effect: CallEffect) {
        let who = self.requester();
        match effect {
            CallEffect::Ask { timeout } => self.prompter.ask_voice(&who, timeout),
            CallEffect::Withdraw => self.prompter.cancel_question(),
            CallEffect::Open(consent) => {
                let opened = match self.media.as_mut() {
                    Some(media) => media.voice.open(
                        consent,
                        Arc::clone(&media.peer.voice),
                        &media.peer.voice_in,
                    ),
                    None => Ok(()),
                };
                if let Err(e) = opened {
                    tracing::warn!(error = %e, "the voice call cannot start");
                    Box::pin(self.step(Happened::VoiceFailed)).await;
                }
            }
            CallEffect::Close => {
                if let Some(media) = self.media.as_mut() {
                    media.voice.close(&media.peer.voice_in);
                }
            }
            CallEffect::Mute(muted) => {
                if let Some(media) = &self.media {
                    media.voice.mute(muted);
                }
            }
            CallEffect::State { state, muted } => {
                tracing::info!(?state, muted, "voice call");
                if let Some(media) = &self.media {
                    let msg = AgentMessage::Voice { state, muted };
                    media.peer.send_channel(msg.to_json()).await;
                }
                self.prompter.voice_changed(state, muted, &who);
                if state == VoiceState::On {
                    self.used(Feature::Voice).await;
                }
            }
        }
    }

    /// Reports a guidance feature's first use in this session, for the relay's audit log
    /// (that it was used, never what was said).
    pub(super) async fn used(&mut self, feature: Feature) {
        if self.features_used.contains(&feature) {
            return;
        }
        self.features_used.push(feature);
        let _ = self.send(SignalMessage::Used { feature }).await;
    }
}
