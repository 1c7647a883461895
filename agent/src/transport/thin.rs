//! Fewer RTCP reports on a quiet session: webrtc-rs's report interceptors send a sender
//! report for every stream we could send on and a receiver report for every stream the
//! viewer declared, each second, whether anything moved or not. On a still screen with no
//! call that was 1.7 kbit/s out of 9: a sender report for the silent voice track, a
//! receiver report for the caseworker's silent microphone, and the picture's own sender
//! report with nothing sent since the last one.
//!
//! [`Thinning`] (IO-free) keeps a report only when it tells something new: a sender
//! report once packets went out since the last one kept, a receiver report once packets
//! came in. [`ThinBuilder`] puts it in front of the transport, under every other
//! interceptor. Feedback (NACK, PLI) and everything else passes untouched.
//!
//! From the same place it notes each video packet as it leaves, for
//! [`crate::backlog::SentLog`]: what goes to the transport, resends included (the log
//! counts those once).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use webrtc::interceptor::stream_info::StreamInfo;
use webrtc::interceptor::{
    Attributes, Interceptor, InterceptorBuilder, RTCPReader, RTCPWriter, RTPReader, RTPWriter,
};
use webrtc::rtcp::packet::Packet as RtcpPacket;
use webrtc::rtcp::receiver_report::ReceiverReport;
use webrtc::rtcp::sender_report::SenderReport;
use webrtc::util::MarshalSize;

use crate::backlog::SentLog;

/// Bytes a packet adds on the wire beyond its RTP bytes: SRTP's tag, UDP and IPv4.
const WIRE_OVERHEAD: usize = 10 + 8 + 20;

/// Which reports are worth sending; keyed by the stream they describe.
#[derive(Debug, Default)]
pub struct Thinning {
    /// Packets sent, as told by the last sender report kept, per our SSRC.
    sent: HashMap<u32, u32>,
    /// Highest sequence number received, as told by the last receiver report kept, per
    /// the viewer's SSRC.
    received: HashMap<u32, u32>,
}

impl Thinning {
    /// Whether `packet` should go out; remembers what a kept report told.
    pub fn keep(&mut self, packet: &(dyn RtcpPacket + Send + Sync)) -> bool {
        let any = packet.as_any();
        if let Some(sr) = any.downcast_ref::<SenderReport>() {
            // A sender report also carries reception blocks when we receive: keep it
            // then, as a receiver report would be.
            let fresh_blocks = sr
                .reports
                .iter()
                .any(|r| self.moved(r.ssrc, r.last_sequence_number));
            let told = self.sent.get(&sr.ssrc).copied();
            let fresh = sr.packet_count > 0 && told != Some(sr.packet_count);
            if fresh || fresh_blocks {
                self.sent.insert(sr.ssrc, sr.packet_count);
                self.remember(&sr.reports);
                return true;
            }
            return false;
        }
        if let Some(rr) = any.downcast_ref::<ReceiverReport>() {
            if rr
                .reports
                .iter()
                .any(|r| self.moved(r.ssrc, r.last_sequence_number))
            {
                self.remember(&rr.reports);
                return true;
            }
            return false;
        }
        true
    }

    fn moved(&self, ssrc: u32, highest: u32) -> bool {
        // Nothing ever received reads as 0 and is not news.
        highest != 0 && self.received.get(&ssrc) != Some(&highest)
    }

    fn remember(&mut self, reports: &[webrtc::rtcp::reception_report::ReceptionReport]) {
        for r in reports {
            self.received.insert(r.ssrc, r.last_sequence_number);
        }
    }
}

/// Builds the interceptor that applies [`Thinning`] to outgoing RTCP and fills a
/// [`SentLog`] shared with the RTCP reader.
pub struct ThinBuilder {
    /// Where the video packets are noted.
    pub sent: Arc<Mutex<SentLog>>,
}

impl InterceptorBuilder for ThinBuilder {
    fn build(
        &self,
        _id: &str,
    ) -> Result<Arc<dyn Interceptor + Send + Sync>, webrtc::interceptor::Error> {
        Ok(Arc::new(Thin {
            thinning: Arc::default(),
            sent: Arc::clone(&self.sent),
        }))
    }
}

struct Thin {
    thinning: Arc<Mutex<Thinning>>,
    sent: Arc<Mutex<SentLog>>,
}

/// The value behind `mutex`; a panic elsewhere while holding it leaves nothing half-done
/// here (counters and a log), so a poisoned lock is used as it is.
pub fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Notes each packet of the picture before passing it on.
struct TapWriter {
    sent: Arc<Mutex<SentLog>>,
    next: Arc<dyn RTPWriter + Send + Sync>,
}

#[async_trait::async_trait]
impl RTPWriter for TapWriter {
    async fn write(
        &self,
        pkt: &webrtc::rtp::packet::Packet,
        attributes: &Attributes,
    ) -> Result<usize, webrtc::interceptor::Error> {
        let size = pkt.marshal_size() + WIRE_OVERHEAD;
        locked(&self.sent).on_sent(Instant::now(), pkt.header.sequence_number, size);
        self.next.write(pkt, attributes).await
    }
}

struct ThinWriter {
    thinning: Arc<Mutex<Thinning>>,
    next: Arc<dyn RTCPWriter + Send + Sync>,
}

#[async_trait::async_trait]
impl RTCPWriter for ThinWriter {
    async fn write(
        &self,
        pkts: &[Box<dyn RtcpPacket + Send + Sync>],
        attributes: &Attributes,
    ) -> Result<usize, webrtc::interceptor::Error> {
        let kept: Vec<Box<dyn RtcpPacket + Send + Sync>> = {
            let mut thinning = locked(&self.thinning);
            pkts.iter()
                .filter(|p| thinning.keep(p.as_ref()))
                .map(|p| p.cloned())
                .collect()
        };
        if kept.is_empty() {
            return Ok(0);
        }
        self.next.write(&kept, attributes).await
    }
}

#[async_trait::async_trait]
impl Interceptor for Thin {
    async fn bind_rtcp_reader(
        &self,
        reader: Arc<dyn RTCPReader + Send + Sync>,
    ) -> Arc<dyn RTCPReader + Send + Sync> {
        reader
    }

    async fn bind_rtcp_writer(
        &self,
        writer: Arc<dyn RTCPWriter + Send + Sync>,
    ) -> Arc<dyn RTCPWriter + Send + Sync> {
        Arc::new(ThinWriter {
            thinning: Arc::clone(&self.thinning),
            next: writer,
        })
    }

    async fn bind_local_stream(
        &self,
        info: &StreamInfo,
        writer: Arc<dyn RTPWriter + Send + Sync>,
    ) -> Arc<dyn RTPWriter + Send + Sync> {
        // Only the picture: the voice is small and steady, and has its own numbering.
        if !info.mime_type.to_ascii_lowercase().starts_with("video/") {
            return writer;
        }
        Arc::new(TapWriter {
            sent: Arc::clone(&self.sent),
            next: writer,
        })
    }

    async fn unbind_local_stream(&self, _info: &StreamInfo) {}

    async fn bind_remote_stream(
        &self,
        _info: &StreamInfo,
        reader: Arc<dyn RTPReader + Send + Sync>,
    ) -> Arc<dyn RTPReader + Send + Sync> {
        reader
    }

    async fn unbind_remote_stream(&self, _info: &StreamInfo) {}

    async fn close(&self) -> Result<(), webrtc::interceptor::Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use webrtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
    use webrtc::rtcp::reception_report::ReceptionReport;

    fn sr(ssrc: u32, packet_count: u32) -> SenderReport {
        SenderReport {
            ssrc,
            packet_count,
            ..Default::default()
        }
    }

    fn rr(about: u32, highest: u32) -> ReceiverReport {
        ReceiverReport {
            ssrc: 1,
            reports: vec![ReceptionReport {
                ssrc: about,
                last_sequence_number: highest,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_sender_report_goes_only_after_packets_were_sent() {
        let mut t = Thinning::default();
        // The voice track before any call: nothing sent, never reported.
        assert!(!t.keep(&sr(7, 0)));
        assert!(!t.keep(&sr(7, 0)));
        // The picture: reported while it moves, not while the screen is still.
        assert!(t.keep(&sr(9, 120)));
        assert!(!t.keep(&sr(9, 120)));
        assert!(t.keep(&sr(9, 121)));
        // Each stream on its own.
        assert!(t.keep(&sr(7, 50)));
        assert!(!t.keep(&sr(7, 50)));
    }

    #[test]
    fn a_receiver_report_goes_only_after_packets_came_in() {
        let mut t = Thinning::default();
        // The caseworker's microphone before a call: declared, silent.
        assert!(!t.keep(&rr(5, 0)));
        assert!(t.keep(&rr(5, 1000)));
        assert!(!t.keep(&rr(5, 1000)));
        assert!(t.keep(&rr(5, 1050)));
        // A report with no blocks tells nothing.
        assert!(!t.keep(&ReceiverReport::default()));
    }

    #[test]
    fn feedback_always_goes() {
        let mut t = Thinning::default();
        let pli = PictureLossIndication {
            sender_ssrc: 1,
            media_ssrc: 2,
        };
        assert!(t.keep(&pli));
        assert!(t.keep(&pli));
    }
}
