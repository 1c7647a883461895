//! The agent's WebRTC peer connection (webrtc crate, classic API): one send-only H.264
//! video track for the screen, one Opus audio track each way for the voice call (silent
//! until the resident says yes to the microphone), and the reliable, ordered data
//! channel `acote`.
//! Media is DTLS-SRTP end to end; the relay only ever forwards its SDP and candidates.

use std::sync::Arc;

use acote_proto::sas::Fingerprint;
use acote_proto::{IceServer, SignalMessage};

use crate::backlog::SentLog;
use crate::pace::{self, Feedback};
use tokio::sync::mpsc;
use webrtc::api::APIBuilder;
use webrtc::api::interceptor_registry::{configure_nack, configure_rtcp_reports};
use webrtc::api::media_engine::{MIME_TYPE_H264, MIME_TYPE_OPUS, MediaEngine};
use webrtc::api::setting_engine::SettingEngine;
use webrtc::data_channel::RTCDataChannel;
use webrtc::data_channel::data_channel_init::RTCDataChannelInit;
use webrtc::ice_transport::ice_candidate::RTCIceCandidateInit;
use webrtc::ice_transport::ice_candidate_type::RTCIceCandidateType;
use webrtc::ice_transport::ice_server::RTCIceServer;
use webrtc::interceptor::registry::Registry;
use webrtc::peer_connection::RTCPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;
use webrtc::peer_connection::policy::ice_transport_policy::RTCIceTransportPolicy;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;
use webrtc::rtcp::payload_feedbacks::full_intra_request::FullIntraRequest;
use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use webrtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;
use webrtc::rtcp::receiver_report::ReceiverReport;
use webrtc::rtp_transceiver::rtp_codec::{
    RTCRtpCodecCapability, RTCRtpCodecParameters, RTCRtpHeaderExtensionCapability, RTPCodecType,
};
use webrtc::rtp_transceiver::rtp_transceiver_direction::RTCRtpTransceiverDirection;
use webrtc::rtp_transceiver::{RTCPFeedback, RTCRtpTransceiverInit};
use webrtc::stats::StatsReportType;
use webrtc::track::track_local::TrackLocal;
use webrtc::track::track_local::track_local_static_rtp::TrackLocalStaticRTP;
use webrtc::track::track_local::track_local_static_sample::TrackLocalStaticSample;

use crate::voice::Inlet;

/// The H.264 flavour Chromium decodes everywhere: constrained baseline, packetization
/// mode 1 (what OpenH264 produces).
const H264_FMTP: &str = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";
/// Opus as browsers offer it: 10 ms frames allowed, in-band FEC understood.
const OPUS_FMTP: &str = "minptime=10;useinbandfec=1";
/// The RTP header extension carrying send times (used for the bandwidth estimate).
const ABS_SEND_TIME_URI: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";

/// Whether this WebRTC stack can use an ICE URL: STUN, and TURN over UDP. (webrtc-rs
/// 0.17 cannot gather TURN/TCP or TURNS candidates: behind a firewall that lets no UDP
/// out, the agent reaches them through local bridges, see `egress`.)
fn usable_url(url: &str) -> bool {
    url.starts_with("stun:")
        || (url.starts_with("turn:")
            && (!url.contains("transport=") || url.contains("transport=udp")))
}

/// Something the peer connection reports to the session driver.
#[derive(Debug)]
pub enum PeerEvent {
    /// A local ICE candidate to send to the viewer.
    Candidate(SignalMessage),
    /// Media is flowing.
    Connected,
    /// The connection failed or closed for good.
    Failed,
    /// The `acote` data channel is open: time to start the security code exchange.
    ChannelOpen,
    /// A message from the viewer on the `acote` data channel (not yet validated).
    Channel(String),
}

/// Why WebRTC setup failed.
#[derive(Debug, thiserror::Error)]
#[error("WebRTC: {0}")]
pub struct PeerError(String);

impl From<webrtc::Error> for PeerError {
    fn from(e: webrtc::Error) -> Self {
        PeerError(e.to_string())
    }
}

/// One WebRTC session towards one viewer.
pub struct Peer {
    pc: Arc<RTCPeerConnection>,
    /// Where encoded frames go.
    pub track: Arc<TrackLocalStaticRTP>,
    /// The browser's keyframe requests, bandwidth estimate and loss reports, and the
    /// low-data switch.
    pub feedback: Arc<Feedback>,
    /// Where the resident's voice goes (Opus samples), once the call is on.
    pub voice: Arc<TrackLocalStaticSample>,
    /// Where the caseworker's voice is played, while the call is on.
    pub voice_in: Inlet,
    channel: Arc<RTCDataChannel>,
}

/// How often we check the path is still there (ICE consent, RFC 7675).
const CONSENT_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

impl Peer {
    /// Builds the peer connection with the relay's ICE servers. `include_loopback` adds
    /// 127.0.0.1 candidates, for a relay on the same machine (demo, tests);
    /// `relay_only` keeps only paths through the relay's TURN.
    pub async fn new(
        ice_servers: &[IceServer],
        include_loopback: bool,
        relay_only: bool,
        events: mpsc::Sender<PeerEvent>,
    ) -> Result<Self, PeerError> {
        let mut media = media_engine()?;
        // The default interceptors minus transport-wide congestion control (see
        // `media_engine`).
        // The thinning goes first, so it sees every report the others write.
        let mut registry = Registry::new();
        let sent = Arc::new(std::sync::Mutex::new(SentLog::default()));
        registry.add(Box::new(super::thin::ThinBuilder {
            sent: Arc::clone(&sent),
        }));
        let registry = configure_rtcp_reports(configure_nack(registry, &mut media));
        let mut settings = SettingEngine::default();
        // Our own consent checks every 5 s as RFC 7675 has it, not webrtc-rs's 2 s: on a
        // still screen they were a tenth of the bytes. The viewer's traffic (its reports
        // every second) keeps the path from being taken for gone.
        settings.set_ice_timeouts(None, None, Some(CONSENT_EVERY));
        settings.set_include_loopback_candidate(include_loopback);
        let api = APIBuilder::new()
            .with_media_engine(media)
            .with_interceptor_registry(registry)
            .with_setting_engine(settings)
            .build();
        let config = rtc_config(ice_servers, relay_only);
        let pc = Arc::new(api.new_peer_connection(config).await?);
        let (track, feedback) = add_screen_track(&pc, sent).await?;
        // After the screen: the video stays the first m-line, as older viewers expect.
        let voice_in = Inlet::default();
        let voice = add_voice_track(&pc, voice_in.clone()).await?;
        let channel = open_channel(&pc, events.clone()).await?;
        send_candidates(&pc, relay_only, events.clone());
        report_state(&pc, Arc::clone(&feedback), events);
        Ok(Self {
            pc,
            track,
            feedback,
            voice,
            voice_in,
            channel,
        })
    }

    /// Bytes this connection has put on the wire so far (media, data channel, ICE and
    /// DTLS alike), from the ICE transport's counter.
    pub async fn bytes_sent(&self) -> u64 {
        let stats = self.pc.get_stats().await;
        stats
            .reports
            .values()
            .map(|r| match r {
                StatsReportType::Transport(t) => t.bytes_sent as u64,
                _ => 0,
            })
            .sum()
    }

    /// Creates the offer and sets it locally; returns its SDP.
    pub async fn offer(&self) -> Result<String, PeerError> {
        self.offer_with(None).await
    }

    /// An offer that restarts ICE (new credentials and candidates), for a path that
    /// failed while a side's signaling was down (resumption).
    pub async fn restart_offer(&self) -> Result<String, PeerError> {
        let options = webrtc::peer_connection::offer_answer_options::RTCOfferOptions {
            ice_restart: true,
            ..Default::default()
        };
        self.offer_with(Some(options)).await
    }

    async fn offer_with(
        &self,
        options: Option<webrtc::peer_connection::offer_answer_options::RTCOfferOptions>,
    ) -> Result<String, PeerError> {
        let offer = self.pc.create_offer(options).await?;
        self.pc.set_local_description(offer).await?;
        let local = self
            .pc
            .local_description()
            .await
            .ok_or_else(|| PeerError("no local description".into()))?;
        Ok(as_dtls_client(&local.sdp))
    }

    /// The agent's and the viewer's DTLS fingerprints, from the descriptions this
    /// connection uses: the local one (our certificate) and the remote one (the
    /// certificate DTLS holds the viewer to), for the security code.
    pub async fn fingerprints(&self) -> Result<(Fingerprint, Fingerprint), PeerError> {
        let local = self.pc.local_description().await;
        let remote = self.pc.remote_description().await;
        let (Some(local), Some(remote)) = (local, remote) else {
            return Err(PeerError("no description yet".into()));
        };
        let read = |sdp: &str| Fingerprint::from_sdp(sdp).map_err(|e| PeerError(e.to_string()));
        Ok((read(&local.sdp)?, read(&remote.sdp)?))
    }

    /// Applies the viewer's answer.
    pub async fn answer(&self, sdp: String) -> Result<(), PeerError> {
        let answer = RTCSessionDescription::answer(sdp)?;
        self.pc.set_remote_description(answer).await?;
        Ok(())
    }

    /// Adds one of the viewer's candidates.
    pub async fn add_candidate(
        &self,
        candidate: String,
        sdp_mid: Option<String>,
        sdp_mline_index: Option<u16>,
        username_fragment: Option<String>,
    ) -> Result<(), PeerError> {
        self.pc
            .add_ice_candidate(RTCIceCandidateInit {
                candidate,
                sdp_mid,
                sdp_mline_index,
                username_fragment,
            })
            .await?;
        Ok(())
    }

    /// Sends a message to the viewer on the data channel; false (and dropped) when the
    /// channel is not open.
    pub async fn send_channel(&self, text: String) -> bool {
        match self.channel.send_text(text).await {
            Ok(_) => true,
            Err(e) => {
                tracing::debug!(error = %e, "data channel message not sent");
                false
            }
        }
    }

    /// Closes the connection (the viewer sees the track end).
    pub async fn close(&self) {
        if let Err(e) = self.pc.close().await {
            tracing::debug!(error = %e, "closing the peer connection");
        }
    }
}

/// The offer as sent: the agent takes the DTLS client's part (`a=setup:active`; the
/// browser then answers `passive`). webrtc-rs's DTLS server stops listening once it has
/// sent its last flight, so when that flight is lost on the wire the browser's handshake
/// never ends: no picture, no data channel, for good. A client resends its last flight
/// until the server's answer comes, and the browser's server answers each resend.
fn as_dtls_client(sdp: &str) -> String {
    sdp.replace("a=setup:actpass", "a=setup:active")
}

/// What the RTCP reader keeps between packets.
struct Heard {
    /// Our picture's SSRC: its reception report is the one that counts (0: unknown, the
    /// first report counts).
    ssrc: u32,
    meter: pace::DeliveryMeter,
    /// The picture's packets as they left (filled by [`super::thin`]).
    sent: Arc<std::sync::Mutex<SentLog>>,
}

/// One RTCP packet from the viewer: keyframe requests, the bandwidth estimate, loss, and
/// what is still on the way.
fn read_feedback(any: &dyn std::any::Any, feedback: &Feedback, heard: &mut Heard) {
    if any.is::<PictureLossIndication>() || any.is::<FullIntraRequest>() {
        tracing::debug!("the viewer asks for a keyframe");
        feedback.want_keyframe();
    } else if let Some(remb) = any.downcast_ref::<ReceiverEstimatedMaximumBitrate>() {
        let bps = if remb.bitrate.is_finite() && remb.bitrate > 0.0 {
            remb.bitrate as u64
        } else {
            0
        };
        let previous = feedback.set_remb(bps);
        if pace::changed_a_lot(previous, bps) {
            tracing::debug!(bps, previous, "bandwidth estimate from the viewer (REMB)");
        }
    } else if let Some(rr) = any.downcast_ref::<ReceiverReport>()
        && let Some(report) = rr
            .reports
            .iter()
            .find(|r| heard.ssrc == 0 || r.ssrc == heard.ssrc)
    {
        feedback.add_loss_report(report.fraction_lost);
        let now_mono = std::time::Instant::now();
        let received = report.last_sequence_number.wrapping_sub(report.total_lost);
        if let Some(bps) = heard.meter.on_report(now_mono, received) {
            feedback.set_delivered(bps);
        }
        let backlog =
            super::thin::locked(&heard.sent).on_report(now_mono, report.last_sequence_number);
        if backlog.bytes > 0 {
            tracing::trace!(
                bytes = backlog.bytes,
                oldest_ms = backlog.oldest.as_millis() as u64,
                "still on the way to the viewer"
            );
        }
        feedback.set_backlog(backlog);
        let now = ntp_compact(std::time::SystemTime::now());
        if let Some(rtt) = round_trip(now, report.last_sender_report, report.delay) {
            tracing::trace!(
                rtt_ms = rtt.as_millis() as u64,
                "round trip from a receiver report"
            );
            feedback.set_rtt(rtt);
        }
    }
}

/// The middle 32 bits of the NTP time of `at` (16.16 fixed point seconds), as RTCP
/// reports carry it.
fn ntp_compact(at: std::time::SystemTime) -> u32 {
    const NTP_UNIX_OFFSET: u64 = 2_208_988_800;
    let since = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs().wrapping_add(NTP_UNIX_OFFSET);
    let frac = (u64::from(since.subsec_nanos()) << 16) / 1_000_000_000;
    (((secs & 0xffff) << 16) | frac) as u32
}

/// The round trip from a reception report (RFC 3550 §6.4.1): now, minus when our last
/// sender report left (`lsr`), minus how long the viewer held it (`dlsr`); all 16.16
/// seconds. `None` before the viewer has heard a sender report, or when the figures do not
/// add up (a clock step).
fn round_trip(now: u32, lsr: u32, dlsr: u32) -> Option<std::time::Duration> {
    if lsr == 0 {
        return None;
    }
    let rtt = now.wrapping_sub(lsr).wrapping_sub(dlsr);
    // Over 60 s is a wrapped (negative) figure, not a round trip.
    (rtt < 60 << 16).then(|| std::time::Duration::from_micros((u64::from(rtt) * 1_000_000) >> 16))
}

/// H.264 with the feedback Chromium needs, and send times on every picture.
fn media_engine() -> Result<MediaEngine, PeerError> {
    let mut media = MediaEngine::default();
    let feedback = |typ: &str, parameter: &str| RTCPFeedback {
        typ: typ.into(),
        parameter: parameter.into(),
    };
    media.register_codec(
        RTCRtpCodecParameters {
            capability: RTCRtpCodecCapability {
                mime_type: MIME_TYPE_H264.into(),
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line: H264_FMTP.into(),
                // goog-remb without transport-cc: Chromium then estimates the
                // bandwidth itself and sends REMB. With transport-cc it leaves the
                // estimate to the sender, and webrtc-rs has no send-side estimator.
                rtcp_feedback: vec![
                    feedback("goog-remb", ""),
                    feedback("ccm", "fir"),
                    feedback("nack", ""),
                    feedback("nack", "pli"),
                ],
            },
            payload_type: 102,
            ..Default::default()
        },
        RTPCodecType::Video,
    )?;
    // Opus for the voice call, as browsers offer it (payload type 111).
    media.register_codec(
        RTCRtpCodecParameters {
            capability: RTCRtpCodecCapability {
                mime_type: MIME_TYPE_OPUS.into(),
                clock_rate: 48_000,
                channels: 2,
                sdp_fmtp_line: OPUS_FMTP.into(),
                rtcp_feedback: vec![],
            },
            payload_type: 111,
            ..Default::default()
        },
        RTPCodecType::Audio,
    )?;
    // Send times on every picture's last packet: Chromium's bandwidth estimate (REMB)
    // then measures queueing from them rather than from capture timestamps, which on a
    // screen that sends only on change say little.
    media.register_header_extension(
        RTCRtpHeaderExtensionCapability {
            uri: ABS_SEND_TIME_URI.into(),
        },
        RTPCodecType::Video,
        None,
    )?;
    Ok(media)
}

/// The relay's ICE servers this stack can use, and relay-only when asked.
fn rtc_config(ice_servers: &[IceServer], relay_only: bool) -> RTCConfiguration {
    RTCConfiguration {
        ice_servers: ice_servers
            .iter()
            .filter_map(|s| {
                let urls: Vec<String> = s.urls.iter().filter(|u| usable_url(u)).cloned().collect();
                (!urls.is_empty()).then(|| RTCIceServer {
                    urls,
                    username: s.username.clone().unwrap_or_default(),
                    credential: s.credential.clone().unwrap_or_default(),
                })
            })
            .collect(),
        ice_transport_policy: if relay_only {
            RTCIceTransportPolicy::Relay
        } else {
            RTCIceTransportPolicy::All
        },
        ..Default::default()
    }
}

/// The send-only screen track, and the feedback read from its RTCP.
async fn add_screen_track(
    pc: &RTCPeerConnection,
    sent: Arc<std::sync::Mutex<SentLog>>,
) -> Result<(Arc<TrackLocalStaticRTP>, Arc<Feedback>), PeerError> {
    // RTP packets are made by the pipeline, which stamps each picture with its capture
    // time (see pipeline::write_frames).
    let track = Arc::new(TrackLocalStaticRTP::new(
        RTCRtpCodecCapability {
            mime_type: MIME_TYPE_H264.into(),
            clock_rate: 90_000,
            sdp_fmtp_line: H264_FMTP.into(),
            ..Default::default()
        },
        "screen".into(),
        "acote".into(),
    ));
    let transceiver = pc
        .add_transceiver_from_track(
            Arc::clone(&track) as Arc<dyn TrackLocal + Send + Sync>,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Sendonly,
                send_encodings: vec![],
            }),
        )
        .await?;
    let feedback = Arc::new(Feedback::default());
    let sender = transceiver.sender().await;
    let ssrc = sender
        .get_parameters()
        .await
        .encodings
        .first()
        .map_or(0, |e| e.ssrc);
    let told = Arc::clone(&feedback);
    let mut heard = Heard {
        ssrc,
        meter: pace::DeliveryMeter::default(),
        sent,
    };
    tokio::spawn(async move {
        // Reading RTCP also lets the interceptors (NACK, reports) do their work.
        while let Ok((packets, _)) = sender.read_rtcp().await {
            for p in packets {
                read_feedback(p.as_any(), &told, &mut heard);
            }
        }
    });
    Ok((track, feedback))
}

/// The voice track, both ways (`sendrecv`): nothing is written to it before the
/// resident's yes, and what the caseworker sends is played only while the call is on
/// (the inlet holds the playout then).
async fn add_voice_track(
    pc: &RTCPeerConnection,
    inlet: Inlet,
) -> Result<Arc<TrackLocalStaticSample>, PeerError> {
    let track = Arc::new(TrackLocalStaticSample::new(
        RTCRtpCodecCapability {
            mime_type: MIME_TYPE_OPUS.into(),
            clock_rate: 48_000,
            channels: 2,
            sdp_fmtp_line: OPUS_FMTP.into(),
            ..Default::default()
        },
        "voice".into(),
        "acote".into(),
    ));
    let transceiver = pc
        .add_transceiver_from_track(
            Arc::clone(&track) as Arc<dyn TrackLocal + Send + Sync>,
            Some(RTCRtpTransceiverInit {
                direction: RTCRtpTransceiverDirection::Sendrecv,
                send_encodings: vec![],
            }),
        )
        .await?;
    let sender = transceiver.sender().await;
    tokio::spawn(async move {
        // Read so the interceptors see the viewer's reports; nothing in them is used.
        while sender.read_rtcp().await.is_ok() {}
    });
    pc.on_track(Box::new(move |remote, _, _| {
        let inlet = inlet.clone();
        Box::pin(async move {
            if remote.kind() != RTPCodecType::Audio {
                return;
            }
            tracing::debug!("the caseworker's voice track is up");
            while let Ok((packet, _)) = remote.read_rtp().await {
                inlet.packet(packet.header.sequence_number, &packet.payload);
            }
        })
    }));
    Ok(track)
}

/// The data channel, created by the agent so it is part of the offer; its opening and
/// messages go to `events`.
async fn open_channel(
    pc: &RTCPeerConnection,
    events: mpsc::Sender<PeerEvent>,
) -> Result<Arc<RTCDataChannel>, PeerError> {
    let init = RTCDataChannelInit {
        ordered: Some(true),
        ..Default::default()
    };
    let channel = pc.create_data_channel("acote", Some(init)).await?;
    let tx = events.clone();
    channel.on_open(Box::new(move || {
        Box::pin(async move {
            let _ = tx.send(PeerEvent::ChannelOpen).await;
        })
    }));
    channel.on_message(Box::new(move |msg| {
        let tx = events.clone();
        Box::pin(async move {
            // Binary frames are not part of the protocol; they fail validation as text.
            let text = String::from_utf8_lossy(&msg.data).into_owned();
            // Waiting here pushes back on the viewer (SCTP flow control) in a flood.
            let _ = tx.send(PeerEvent::Channel(text)).await;
        })
    }));
    Ok(channel)
}

/// Our ICE candidates, as signaling messages for the viewer (relayed ones only when
/// relay-only).
fn send_candidates(pc: &RTCPeerConnection, relay_only: bool, events: mpsc::Sender<PeerEvent>) {
    pc.on_ice_candidate(Box::new(move |candidate| {
        let tx = events.clone();
        Box::pin(async move {
            let Some(c) = candidate else { return };
            // Relay-only: no address of the resident's network leaves the PC.
            if relay_only && c.typ != RTCIceCandidateType::Relay {
                return;
            }
            let Ok(json) = c.to_json() else { return };
            let msg = SignalMessage::Candidate {
                candidate: json.candidate,
                // One bundled transport: every candidate belongs to the first section.
                sdp_mid: None,
                sdp_mline_index: Some(0),
                username_fragment: json.username_fragment,
            };
            let _ = tx.send(PeerEvent::Candidate(msg)).await;
        })
    }));
}

/// The connection coming up or failing, for the driver.
fn report_state(pc: &RTCPeerConnection, wanted: Arc<Feedback>, events: mpsc::Sender<PeerEvent>) {
    pc.on_peer_connection_state_change(Box::new(move |state| {
        let tx = events.clone();
        let wanted = Arc::clone(&wanted);
        Box::pin(async move {
            tracing::info!(?state, "peer connection state");
            let event = match state {
                RTCPeerConnectionState::Connected => {
                    // Pictures sent before the path was up are lost: start the viewer
                    // on a fresh keyframe now rather than when it asks for one.
                    wanted.want_keyframe();
                    Some(PeerEvent::Connected)
                }
                RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed => {
                    Some(PeerEvent::Failed)
                }
                _ => None,
            };
            if let Some(e) = event {
                let _ = tx.send(e).await;
            }
        })
    }));
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_offer_makes_the_agent_the_dtls_client() {
        let sdp = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 102\r\na=setup:actpass\r\n\
                   m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=setup:actpass\r\n";
        let sent = super::as_dtls_client(sdp);
        assert_eq!(sent.matches("a=setup:active\r\n").count(), 2, "{sent}");
        assert!(!sent.contains("actpass"));
    }

    #[test]
    fn only_stun_and_turn_over_udp_are_given_to_webrtc_rs() {
        for ok in ["stun:r:3478", "turn:r:3478?transport=udp", "turn:r:3478"] {
            assert!(super::usable_url(ok), "{ok}");
        }
        for no in [
            "turn:r:3478?transport=tcp",
            "turns:r:5349?transport=tcp",
            "http://r",
        ] {
            assert!(!super::usable_url(no), "{no}");
        }
    }

    #[test]
    fn round_trips_come_from_reception_reports() {
        use super::{ntp_compact, round_trip};
        use std::time::{Duration, UNIX_EPOCH};
        let t = UNIX_EPOCH + Duration::from_millis(1_795_624_971_250);
        let sent = ntp_compact(t);
        // The viewer held our report 50 ms and answered; we hear it 170 ms after sending.
        let now = ntp_compact(t + Duration::from_millis(170));
        let held = ntp_compact(UNIX_EPOCH + Duration::from_millis(50)) & 0xffff;
        let rtt = round_trip(now, sent, held).map(|d| d.as_millis());
        assert!(matches!(rtt, Some(119..=121)), "{rtt:?}");
        assert_eq!(round_trip(now, 0, 0), None, "no sender report heard yet");
        assert_eq!(round_trip(sent, now, 0), None, "a negative figure");
    }

    #[test]
    fn remb_loss_and_keyframe_requests_reach_the_pacer_feedback() {
        use super::*;
        use webrtc::rtcp::reception_report::ReceptionReport;
        let fb = Feedback::default();
        let remb = ReceiverEstimatedMaximumBitrate {
            sender_ssrc: 1,
            bitrate: 750_000.0,
            ssrcs: vec![2],
        };
        let sent = Arc::new(std::sync::Mutex::new(SentLog::default()));
        let mut heard = Heard {
            ssrc: 2,
            meter: pace::DeliveryMeter::default(),
            sent: Arc::clone(&sent),
        };
        read_feedback(&remb, &fb, &mut heard);
        let report = |ssrc, fraction_lost| ReceptionReport {
            ssrc,
            fraction_lost,
            last_sequence_number: 7,
            ..Default::default()
        };
        // Only our picture's block counts: the voice's (SSRC 3) says nothing of it.
        let rr = ReceiverReport {
            ssrc: 1,
            reports: vec![report(3, 200), report(2, 77)],
            ..Default::default()
        };
        read_feedback(&rr, &fb, &mut heard);
        assert!(!fb.take_keyframe_request());
        read_feedback(&PictureLossIndication::default(), &fb, &mut heard);
        assert!(fb.take_keyframe_request());
        assert!(!fb.take_keyframe_request(), "one request, one keyframe");
        let t0 = std::time::Instant::now();
        let mut pacer = crate::pace::Pacer::new(t0);
        // Sending 1 Mbit/s with a queue building (the round trip went from 20 to 400 ms):
        // an estimate of 750 kbit/s is congestion, and 30 % loss cuts.
        pacer.on_rtt(t0, std::time::Duration::from_millis(20));
        fb.set_rtt(std::time::Duration::from_millis(400));
        pacer.on_sent(t0, 125_000);
        pacer.observe(t0, &fb);
        assert!(pacer.target_bps() <= 750_000, "{}", pacer.target_bps());
        assert!(pacer.target_bps() > 500_000, "{}", pacer.target_bps());
    }

    #[test]
    fn a_receiver_report_tells_what_is_still_on_the_way() {
        use super::*;
        use webrtc::rtcp::reception_report::ReceptionReport;
        let fb = Feedback::default();
        let sent = Arc::new(std::sync::Mutex::new(SentLog::default()));
        let now = std::time::Instant::now();
        let t0 = now
            .checked_sub(std::time::Duration::from_millis(600))
            .unwrap_or(now);
        if let Ok(mut log) = sent.lock() {
            for seq in 0..100u16 {
                log.on_sent(t0, seq, 1_200);
            }
        }
        let mut heard = Heard {
            ssrc: 2,
            meter: pace::DeliveryMeter::default(),
            sent,
        };
        // The viewer has packets up to 39: 60 of 1 200 bytes are on the way.
        let rr = ReceiverReport {
            ssrc: 1,
            reports: vec![ReceptionReport {
                ssrc: 2,
                last_sequence_number: 39,
                ..Default::default()
            }],
            ..Default::default()
        };
        read_feedback(&rr, &fb, &mut heard);
        // 72 KB on the way while the path carries 1 Mbit/s: a queue of about half a
        // second, which caps the rate and is owed before the next picture.
        let mut pacer = crate::pace::Pacer::new(t0);
        fb.set_delivered(1_000_000);
        pacer.observe(now, &fb);
        assert_eq!(pacer.target_bps(), 850_000);
        assert!(!pacer.may_send(now + std::time::Duration::from_millis(300)));
    }
}
