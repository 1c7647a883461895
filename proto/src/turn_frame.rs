//! TURN over a byte stream (RFC 8656 §12.5, RFC 6062's framing): a stream carries STUN
//! messages and ChannelData one after the other, with no other framing; each one's length
//! is in its first four bytes. ChannelData is padded to a multiple of four bytes on a
//! stream (not always on UDP). The relay's TCP and TLS listeners cut frames with this, and
//! so does the agent's bridge that carries its TURN client's datagrams over TCP or TLS.

/// The first four bytes of a frame do not start a STUN message or ChannelData.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not TURN framing (first byte {0:#04x})")]
pub struct NotTurn(pub u8);

/// Where one frame ends, from its first four bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Bytes the frame takes on the stream, its first four included.
    pub total: usize,
    /// Bytes of the message itself (ChannelData without its padding).
    pub keep: usize,
}

/// Bytes before a frame's length is known.
pub const HEAD: usize = 4;

/// The span of the frame starting with `head`.
pub fn span(head: [u8; HEAD]) -> Result<Span, NotTurn> {
    let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
    match head[0] {
        // STUN: a 20-byte header, then `len` bytes of attributes (a multiple of 4).
        0x00..=0x3f => Ok(Span {
            total: 20 + len,
            keep: 20 + len,
        }),
        // ChannelData: channel numbers 0x4000–0x4FFF (RFC 8656 §12), then `len` bytes.
        0x40..=0x4f => Ok(Span {
            total: HEAD + len.div_ceil(4) * 4,
            keep: HEAD + len,
        }),
        other => Err(NotTurn(other)),
    }
}

/// A datagram as it goes on a stream: ChannelData padded to a multiple of four bytes, a
/// STUN message as it is. Refused when it is neither, or shorter than its own length says.
pub fn for_stream(datagram: &[u8]) -> Result<Vec<u8>, NotTurn> {
    let head: [u8; HEAD] = datagram
        .get(..HEAD)
        .and_then(|h| h.try_into().ok())
        .ok_or(NotTurn(datagram.first().copied().unwrap_or(0)))?;
    let s = span(head)?;
    let Some(message) = datagram.get(..s.keep) else {
        return Err(NotTurn(head[0]));
    };
    let mut frame = Vec::with_capacity(s.total);
    frame.extend_from_slice(message);
    frame.resize(s.total, 0);
    Ok(frame)
}

/// Cuts whole frames out of a stream read in pieces of any size. It holds at most one
/// frame and the piece last pushed.
#[derive(Debug, Default)]
pub struct Deframer {
    buf: Vec<u8>,
}

impl Deframer {
    /// Adds bytes read from the stream.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame's message (ChannelData without its padding); `Ok(None)` until
    /// enough bytes have come. After an error the stream is not TURN: drop it.
    pub fn next_frame(&mut self) -> Result<Option<Vec<u8>>, NotTurn> {
        let Some(head) = self
            .buf
            .get(..HEAD)
            .and_then(|h| <[u8; HEAD]>::try_from(h).ok())
        else {
            return Ok(None);
        };
        let s = span(head)?;
        if self.buf.len() < s.total {
            return Ok(None);
        }
        let frame = self.buf[..s.keep].to_vec();
        self.buf.drain(..s.total);
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stun_and_channel_data_spans() {
        assert_eq!(
            span([0x00, 0x01, 0x00, 0x04]),
            Ok(Span {
                total: 24,
                keep: 24
            })
        );
        assert_eq!(
            span([0x40, 0x00, 0x00, 0x05]),
            Ok(Span { total: 12, keep: 9 }),
            "five data bytes, three of padding"
        );
        assert_eq!(
            span([0x4f, 0xff, 0x00, 0x00]),
            Ok(Span { total: 4, keep: 4 })
        );
        assert_eq!(span(*b"get "), Err(NotTurn(b'g')), "text is not TURN");
        assert_eq!(
            span([0x50, 0, 0, 0]),
            Err(NotTurn(0x50)),
            "reserved channels"
        );
    }

    #[test]
    fn datagrams_are_padded_for_the_stream_and_checked() {
        let data = [0x40, 0x01, 0x00, 0x03, 7, 8, 9];
        assert_eq!(
            for_stream(&data),
            Ok(vec![0x40, 0x01, 0x00, 0x03, 7, 8, 9, 0])
        );
        // Already padded (webrtc-rs pads on UDP too): unchanged.
        let padded = [0x40, 0x01, 0x00, 0x03, 7, 8, 9, 0];
        assert_eq!(for_stream(&padded), Ok(padded.to_vec()));
        let mut stun = vec![0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42];
        stun.extend_from_slice(&[1; 12]);
        assert_eq!(for_stream(&stun), Ok(stun.clone()));
        assert!(for_stream(&stun[..19]).is_err(), "shorter than it says");
        assert!(for_stream(&[0x40, 0x01]).is_err(), "no length");
        assert!(for_stream(&[]).is_err());
        assert_eq!(for_stream(b"hello"), Err(NotTurn(b'h')));
    }

    #[test]
    fn frames_come_out_whole_whatever_the_pieces() {
        let mut wire = vec![0x00, 0x01, 0x00, 0x04, 0x21, 0x12, 0xa4, 0x42];
        wire.extend_from_slice(&[7u8; 12]);
        wire.extend_from_slice(&[1, 2, 3, 4]);
        wire.extend_from_slice(&[0x40, 0x00, 0x00, 0x05, 9, 9, 9, 9, 9, 0, 0, 0]);
        for piece in [1, 3, 7, wire.len()] {
            let mut d = Deframer::default();
            let mut frames = Vec::new();
            for chunk in wire.chunks(piece) {
                d.push(chunk);
                while let Some(f) = d.next_frame().unwrap() {
                    frames.push(f);
                }
            }
            assert_eq!(frames.len(), 2, "pieces of {piece}");
            assert_eq!(frames[0].len(), 24);
            assert_eq!(frames[1], vec![0x40, 0x00, 0x00, 0x05, 9, 9, 9, 9, 9]);
            assert!(d.buf.is_empty(), "nothing left over");
        }
        let mut d = Deframer::default();
        d.push(&[0x16, 0x03, 0x01, 0x00]);
        assert_eq!(
            d.next_frame(),
            Ok(None),
            "a TLS record head reads as a STUN header"
        );
        let mut d = Deframer::default();
        d.push(&[0x80, 0x60, 0x00, 0x01]);
        assert_eq!(d.next_frame(), Err(NotTurn(0x80)), "RTP is not TURN");
    }
}
