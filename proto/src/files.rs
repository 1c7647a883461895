//! Files on the data channel, both ways: the caseworker hands the resident a form to
//! fill, the resident sends back the scan of an ID. No IO: the messages, their checks,
//! and the two halves of a transfer as plain state machines ([`Outgoing`], [`Incoming`])
//! that the agent and the viewer drive with bytes they read and write themselves.
//!
//! A transfer: the sender offers (`file_offer`: id, name, size, SHA-256 of the whole
//! file); the receiver asks its person, then accepts from an offset (`file_accept`) or
//! ends it (`file_end`). Chunks of at most [`FILE_CHUNK_BYTES`] follow in order, base64
//! in JSON like every other message; the receiver acknowledges what it has written
//! (`file_ack`) and the sender keeps at most [`FILE_WINDOW_BYTES`] unacknowledged, so a
//! file never queues more than a fraction of a second of the link in front of the
//! caseworker's clicks. When the last byte is written the receiver checks the SHA-256
//! and ends the transfer with `saved` or `checksum`.
//!
//! After a drop the sender offers the same id again; a receiver still holding the
//! partial file accepts from what it has (no second question), so only the rest is sent.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Raw bytes in one `file_chunk` (base64 makes it about 11 KiB of JSON).
pub const FILE_CHUNK_BYTES: usize = 8 * 1024;

/// Bytes a sender may have sent but not yet seen acknowledged.
pub const FILE_WINDOW_BYTES: u64 = 64 * 1024;

/// The receiver acknowledges at least this often (and at the end).
pub const FILE_ACK_EVERY: u64 = 16 * 1024;

/// Longest file name kept, in characters (the extension is kept whole).
pub const MAX_FILE_NAME_CHARS: usize = 100;

/// Transfers open at once in each direction; more offers are ended with `busy`.
pub const MAX_OPEN_TRANSFERS: usize = 4;

/// The default limit on a file's size when the relay's configuration does not set one
/// (25 MB, what online procedures accept for an attachment and more).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 25_000_000;

/// Sender → receiver: a file is on offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileOffer {
    /// The transfer's id: 32 lowercase hex digits, chosen at random by the sender.
    pub id: String,
    /// The file's name, without any folder (see [`clean_file_name`]).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the whole file, 64 lowercase hex digits.
    pub sha256: String,
}

/// Receiver → sender: send from `offset` (0, or what a partial file already holds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileAccept {
    /// The transfer.
    pub id: String,
    /// First byte wanted.
    pub offset: u64,
}

/// Sender → receiver: bytes of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChunk {
    /// The transfer.
    pub id: String,
    /// Where these bytes go in the file.
    pub offset: u64,
    /// At most [`FILE_CHUNK_BYTES`] bytes, standard base64 with padding.
    pub data: String,
}

/// Receiver → sender: everything before `offset` is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileAck {
    /// The transfer.
    pub id: String,
    /// Bytes written so far.
    pub offset: u64,
}

/// Either side: the transfer is over, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEnd {
    /// The transfer.
    pub id: String,
    /// How it ended.
    pub status: FileStatus,
}

/// How a transfer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Received whole, checksum right, saved (receiver).
    Saved,
    /// The receiving person said no (receiver).
    Refused,
    /// Over the site's limit (receiver).
    TooLarge,
    /// No room left on the receiver's disk; the partial file was removed.
    DiskFull,
    /// The SHA-256 did not match; the file was removed (receiver).
    Checksum,
    /// Stopped by either person, or by the end of the session.
    Cancelled,
    /// Too many transfers open at once (receiver).
    Busy,
    /// File transfer is turned off on this site (receiver).
    Off,
    /// The file could not be read or written, or the other side broke the protocol.
    Failed,
    /// A status sent by a newer version.
    #[serde(other)]
    Other,
}

impl FileStatus {
    /// The status as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Saved => "saved",
            FileStatus::Refused => "refused",
            FileStatus::TooLarge => "too_large",
            FileStatus::DiskFull => "disk_full",
            FileStatus::Checksum => "checksum",
            FileStatus::Cancelled => "cancelled",
            FileStatus::Busy => "busy",
            FileStatus::Off => "off",
            FileStatus::Failed => "failed",
            FileStatus::Other => "other",
        }
    }
}

/// Why a file message or chunk was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// An id that is not 32 lowercase hex digits.
    #[error("a transfer id is 32 lowercase hex digits")]
    BadId,
    /// A SHA-256 that is not 64 lowercase hex digits.
    #[error("a SHA-256 is 64 lowercase hex digits")]
    BadChecksum,
    /// A name with nothing left once cleaned.
    #[error("the file has no usable name")]
    BadName,
    /// Chunk data that is not base64, or too long.
    #[error("chunk data must be base64 of at most {FILE_CHUNK_BYTES} bytes")]
    BadData,
    /// A chunk past the file's end, a gap, or an acknowledgement of unsent bytes.
    #[error("offset {0} does not follow the transfer")]
    BadOffset(u64),
    /// A chunk before the transfer was accepted, or after it ended.
    #[error("the transfer is not open")]
    NotOpen,
}

/// A fresh transfer id.
pub fn new_transfer_id() -> String {
    let bytes: [u8; 16] = rand::random();
    hex(&bytes)
}

/// SHA-256 of `data`, as the wire carries it.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

/// Lowercase hex of a finished SHA-256.
pub fn digest_hex(hasher: Sha256) -> String {
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks a transfer id.
pub fn check_id(id: &str) -> Result<(), FileError> {
    if is_hex(id, 32) {
        Ok(())
    } else {
        Err(FileError::BadId)
    }
}

impl FileOffer {
    /// Checks the id, the checksum and that the name is usable (the receiver saves it
    /// under [`clean_file_name`]'s version).
    pub fn check(&self) -> Result<(), FileError> {
        check_id(&self.id)?;
        if !is_hex(&self.sha256, 64) {
            return Err(FileError::BadChecksum);
        }
        clean_file_name(&self.name).ok_or(FileError::BadName)?;
        Ok(())
    }
}

impl FileChunk {
    /// The chunk's bytes, checked: base64, at most [`FILE_CHUNK_BYTES`].
    pub fn bytes(&self) -> Result<Vec<u8>, FileError> {
        // Checked before decoding, so a huge string costs nothing.
        if self.data.len() > FILE_CHUNK_BYTES.div_ceil(3) * 4 {
            return Err(FileError::BadData);
        }
        let bytes = BASE64.decode(&self.data).map_err(|_| FileError::BadData)?;
        if bytes.is_empty() || bytes.len() > FILE_CHUNK_BYTES {
            return Err(FileError::BadData);
        }
        Ok(bytes)
    }

    /// A chunk of `bytes` at `offset`.
    pub fn new(id: &str, offset: u64, bytes: &[u8]) -> Self {
        FileChunk {
            id: id.to_string(),
            offset,
            data: BASE64.encode(bytes),
        }
    }
}

/// The name a received file is saved under: the last path component only, without
/// control or bidirectional characters (a name must not disguise `exe` as `pdf`), nor
/// the characters Windows forbids, nor leading dots (no hidden files); Windows' device
/// names get a `_` in front; at most [`MAX_FILE_NAME_CHARS`] characters, the extension
/// kept. `None` when nothing is left.
pub fn clean_file_name(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last
        .chars()
        .filter(|&c| {
            !c.is_control()
                && !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
                && !matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*')
        })
        .collect();
    let trimmed = kept
        .trim_matches(|c: char| c.is_whitespace() || c == '.')
        .to_string();
    if trimmed.is_empty() {
        return None;
    }
    let (stem, ext) = match trimmed.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.chars().count() <= 10 => {
            (stem.to_string(), format!(".{ext}"))
        }
        _ => (trimmed.clone(), String::new()),
    };
    let room = MAX_FILE_NAME_CHARS.saturating_sub(ext.chars().count());
    let stem: String = stem.chars().take(room).collect();
    let stem = stem.trim_end().to_string();
    let device = stem
        .split('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let reserved = matches!(device.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (device.len() == 4
            && (device.starts_with("COM") || device.starts_with("LPT"))
            && device.as_bytes()[3].is_ascii_digit());
    let prefix = if reserved { "_" } else { "" };
    Some(format!("{prefix}{stem}{ext}"))
}

/// The sending half of a transfer: which bytes to read and send next.
#[derive(Debug, Clone)]
pub struct Outgoing {
    id: String,
    size: u64,
    /// Sent so far (the next chunk starts here).
    sent: u64,
    /// Acknowledged by the receiver.
    acked: u64,
    /// The receiver accepted; nothing is sent before.
    accepted: bool,
}

impl Outgoing {
    /// A transfer of `size` bytes under `id`, not yet accepted.
    pub fn new(id: String, size: u64) -> Self {
        Outgoing {
            id,
            size,
            sent: 0,
            acked: 0,
            accepted: false,
        }
    }

    /// The transfer's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The receiver wants the bytes from `offset` on (at first, or after a drop).
    pub fn accept(&mut self, offset: u64) -> Result<(), FileError> {
        if offset > self.size {
            return Err(FileError::BadOffset(offset));
        }
        self.accepted = true;
        self.sent = offset;
        self.acked = offset;
        Ok(())
    }

    /// The receiver has written everything before `offset`.
    pub fn ack(&mut self, offset: u64) -> Result<(), FileError> {
        if !self.accepted {
            return Err(FileError::NotOpen);
        }
        if offset < self.acked || offset > self.sent {
            return Err(FileError::BadOffset(offset));
        }
        self.acked = offset;
        Ok(())
    }

    /// The next chunk to read and send, as (offset, length), while the window allows;
    /// the caller sends it (it counts as sent).
    pub fn next_chunk(&mut self) -> Option<(u64, usize)> {
        if !self.accepted || self.sent >= self.size || self.sent - self.acked >= FILE_WINDOW_BYTES {
            return None;
        }
        let len = (self.size - self.sent).min(FILE_CHUNK_BYTES as u64);
        let at = self.sent;
        self.sent += len;
        // `len` is at most FILE_CHUNK_BYTES, so it fits.
        Some((at, usize::try_from(len).unwrap_or(FILE_CHUNK_BYTES)))
    }

    /// The connection dropped: nothing in flight counts; a new `file_accept` says where
    /// to go on from.
    pub fn interrupted(&mut self) {
        self.accepted = false;
        self.sent = self.acked;
    }

    /// Bytes acknowledged and the size, for a progress bar.
    pub fn progress(&self) -> (u64, u64) {
        (self.acked, self.size)
    }
}

/// What a received chunk asks of the receiver.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Bytes already written (the sender went back after a drop): nothing to do.
    Duplicate,
    /// Write these bytes at the end of the partial file, then send `ack` if there is one;
    /// when `complete`, check with [`Incoming::verify`] after writing.
    Write {
        /// The bytes.
        bytes: Vec<u8>,
        /// The acknowledgement to send once they are written.
        ack: Option<FileAck>,
        /// These were the last bytes.
        complete: bool,
    },
}

/// The receiving half of a transfer: checks the order of chunks and hashes them.
#[derive(Clone)]
pub struct Incoming {
    offer: FileOffer,
    /// The name to save under.
    name: String,
    written: u64,
    last_ack: u64,
    hasher: Sha256,
}

impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Incoming")
            .field("id", &self.offer.id)
            .field("size", &self.offer.size)
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl Incoming {
    /// A transfer on offer, if it may be received: a checked offer (else `failed`),
    /// within `max_bytes` (else `too_large`; `off` when the site allows no files).
    pub fn new(offer: FileOffer, max_bytes: u64) -> Result<Self, FileStatus> {
        if max_bytes == 0 {
            return Err(FileStatus::Off);
        }
        if offer.check().is_err() {
            return Err(FileStatus::Failed);
        }
        if offer.size > max_bytes {
            return Err(FileStatus::TooLarge);
        }
        let name = clean_file_name(&offer.name).ok_or(FileStatus::Failed)?;
        Ok(Incoming {
            offer,
            name,
            written: 0,
            last_ack: 0,
            hasher: Sha256::new(),
        })
    }

    /// The offer as it came.
    pub fn offer(&self) -> &FileOffer {
        &self.offer
    }

    /// The cleaned name to save under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The `file_accept` for now: from 0, or from what a partial file holds after a drop.
    pub fn accept(&mut self) -> FileAccept {
        self.last_ack = self.written;
        FileAccept {
            id: self.offer.id.clone(),
            offset: self.written,
        }
    }

    /// A chunk arrived. Chunks come in order; after a drop the sender may repeat some
    /// (they are skipped); a gap or bytes past the end break the transfer.
    pub fn chunk(&mut self, chunk: &FileChunk) -> Result<Received, FileError> {
        let bytes = chunk.bytes()?;
        let end = chunk.offset.saturating_add(bytes.len() as u64);
        if end > self.offer.size {
            return Err(FileError::BadOffset(chunk.offset));
        }
        if end <= self.written {
            return Ok(Received::Duplicate);
        }
        if chunk.offset != self.written {
            return Err(FileError::BadOffset(chunk.offset));
        }
        self.hasher.update(&bytes);
        self.written = end;
        let complete = end == self.offer.size;
        let ack = (complete || end - self.last_ack >= FILE_ACK_EVERY).then(|| {
            self.last_ack = end;
            FileAck {
                id: self.offer.id.clone(),
                offset: end,
            }
        });
        Ok(Received::Write {
            bytes,
            ack,
            complete,
        })
    }

    /// Whether every byte came.
    pub fn complete(&self) -> bool {
        self.written == self.offer.size
    }

    /// Once complete: `saved` if the bytes hash to the offer's SHA-256, else `checksum`.
    pub fn verify(&self) -> FileStatus {
        if !self.complete() {
            return FileStatus::Failed;
        }
        if digest_hex(self.hasher.clone()) == self.offer.sha256 {
            FileStatus::Saved
        } else {
            FileStatus::Checksum
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer_of(data: &[u8]) -> FileOffer {
        FileOffer {
            id: "0123456789abcdef0123456789abcdef".into(),
            name: "attestation.pdf".into(),
            size: data.len() as u64,
            sha256: sha256_hex(data),
        }
    }

    /// Runs a transfer through both halves (stopping after `stop_after` chunks if
    /// given); returns the bytes written and both halves.
    fn transfer(data: &[u8], stop_after: Option<usize>) -> (Vec<u8>, Outgoing, Incoming) {
        let offer = offer_of(data);
        let mut out = Outgoing::new(offer.id.clone(), offer.size);
        let mut inc = Incoming::new(offer, DEFAULT_MAX_FILE_BYTES).unwrap();
        out.accept(inc.accept().offset).unwrap();
        let mut written = Vec::new();
        let mut chunks = 0;
        while let Some((at, len)) = out.next_chunk() {
            let start = usize::try_from(at).unwrap();
            let chunk = FileChunk::new(out.id(), at, &data[start..start + len]);
            if let Received::Write { bytes, ack, .. } = inc.chunk(&chunk).unwrap() {
                written.extend_from_slice(&bytes);
                if let Some(ack) = ack {
                    out.ack(ack.offset).unwrap();
                }
            }
            chunks += 1;
            if Some(chunks) == stop_after {
                break;
            }
        }
        (written, out, inc)
    }

    #[test]
    fn a_file_goes_whole_and_its_checksum_is_right() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let (written, out, inc) = transfer(&data, None);
        assert_eq!(written, data);
        assert_eq!(inc.verify(), FileStatus::Saved);
        assert_eq!(out.progress(), (100_000, 100_000));
    }

    #[test]
    fn an_empty_file_needs_no_chunk() {
        let (written, _, inc) = transfer(&[], None);
        assert!(written.is_empty());
        assert!(inc.complete());
        assert_eq!(inc.verify(), FileStatus::Saved);
    }

    #[test]
    fn the_sender_stops_at_the_window_until_acknowledged() {
        let offer = offer_of(&[0; 200_000]);
        let mut out = Outgoing::new(offer.id.clone(), offer.size);
        assert_eq!(
            out.next_chunk(),
            None,
            "nothing before the receiver accepts"
        );
        out.accept(0).unwrap();
        let mut sent = 0;
        while out.next_chunk().is_some() {
            sent += 1;
        }
        assert_eq!(sent as u64 * FILE_CHUNK_BYTES as u64, FILE_WINDOW_BYTES);
        out.ack(16 * 1024).unwrap();
        assert!(out.next_chunk().is_some(), "an ack opens the window again");
        assert_eq!(out.ack(1_000_000), Err(FileError::BadOffset(1_000_000)));
        assert_eq!(
            out.ack(0),
            Err(FileError::BadOffset(0)),
            "acks never go back"
        );
    }

    #[test]
    fn after_a_drop_only_the_rest_is_sent() {
        let data: Vec<u8> = (0..60_000u32).map(|i| (i % 253) as u8).collect();
        let (mut written, mut out, mut inc) = transfer(&data, Some(3));
        assert_eq!(inc.written(), 3 * FILE_CHUNK_BYTES as u64);
        out.interrupted();
        assert_eq!(out.next_chunk(), None, "nothing until accepted again");
        // The sender offers again; the receiver accepts from what it holds.
        let accept = inc.accept();
        assert_eq!(accept.offset, inc.written());
        out.accept(accept.offset).unwrap();
        // The sender may repeat a chunk already written before the drop: skipped.
        let old = FileChunk::new(out.id(), 0, &data[..FILE_CHUNK_BYTES]);
        assert_eq!(inc.chunk(&old), Ok(Received::Duplicate));
        while let Some((at, len)) = out.next_chunk() {
            let start = usize::try_from(at).unwrap();
            let chunk = FileChunk::new(out.id(), at, &data[start..start + len]);
            if let Received::Write { bytes, ack, .. } = inc.chunk(&chunk).unwrap() {
                written.extend_from_slice(&bytes);
                if let Some(ack) = ack {
                    out.ack(ack.offset).unwrap();
                }
            }
        }
        assert_eq!(written, data);
        assert_eq!(inc.verify(), FileStatus::Saved);
    }

    #[test]
    fn wrong_bytes_fail_the_checksum() {
        let data = vec![1u8; 20_000];
        let mut offer = offer_of(&data);
        offer.sha256 = sha256_hex(b"something else");
        let mut inc = Incoming::new(offer, DEFAULT_MAX_FILE_BYTES).unwrap();
        inc.accept();
        let id = inc.offer().id.clone();
        for (i, part) in data.chunks(FILE_CHUNK_BYTES).enumerate() {
            let at = (i * FILE_CHUNK_BYTES) as u64;
            inc.chunk(&FileChunk::new(&id, at, part)).unwrap();
        }
        assert_eq!(inc.verify(), FileStatus::Checksum);
    }

    #[test]
    fn gaps_overruns_and_bad_data_are_refused() {
        let data = vec![9u8; 20_000];
        let mut inc = Incoming::new(offer_of(&data), DEFAULT_MAX_FILE_BYTES).unwrap();
        let id = inc.offer().id.clone();
        let gap = FileChunk::new(&id, 8192, &data[..100]);
        assert_eq!(inc.chunk(&gap), Err(FileError::BadOffset(8192)));
        let past = FileChunk::new(&id, 19_990, &data[..100]);
        assert_eq!(inc.chunk(&past), Err(FileError::BadOffset(19_990)));
        let junk = FileChunk {
            id: id.clone(),
            offset: 0,
            data: "not base64!".into(),
        };
        assert_eq!(inc.chunk(&junk), Err(FileError::BadData));
        let huge = FileChunk::new(&id, 0, &vec![0u8; FILE_CHUNK_BYTES + 1]);
        assert_eq!(inc.chunk(&huge), Err(FileError::BadData));
        assert_eq!(inc.written(), 0, "nothing was taken");
    }

    #[test]
    fn offers_over_the_limit_or_with_bad_fields_are_ended() {
        let offer = offer_of(&[0; 10]);
        assert_eq!(
            Incoming::new(offer.clone(), 9).err(),
            Some(FileStatus::TooLarge)
        );
        assert_eq!(Incoming::new(offer.clone(), 0).err(), Some(FileStatus::Off));
        let bad_id = FileOffer {
            id: "../../etc".into(),
            ..offer.clone()
        };
        assert_eq!(Incoming::new(bad_id, 100).err(), Some(FileStatus::Failed));
        let no_name = FileOffer {
            name: "../..".into(),
            ..offer
        };
        assert_eq!(no_name.check(), Err(FileError::BadName));
    }

    #[test]
    fn names_lose_folders_hidden_dots_and_disguises() {
        assert_eq!(
            clean_file_name("attestation.pdf").as_deref(),
            Some("attestation.pdf")
        );
        assert_eq!(clean_file_name("../../.bashrc").as_deref(), Some("bashrc"));
        assert_eq!(
            clean_file_name("C:\\Users\\x\\fiche de paie.pdf").as_deref(),
            Some("fiche de paie.pdf")
        );
        // A right-to-left override would show "invoice\u{202E}fdp.exe" as "invoiceexe.pdf".
        assert_eq!(
            clean_file_name("invoice\u{202E}fdp.exe").as_deref(),
            Some("invoicefdp.exe")
        );
        assert_eq!(clean_file_name("a<b>c:d?.txt").as_deref(), Some("abcd.txt"));
        assert_eq!(clean_file_name("CON.txt").as_deref(), Some("_CON.txt"));
        assert_eq!(clean_file_name("com1").as_deref(), Some("_com1"));
        assert_eq!(clean_file_name("   ...  "), None);
        assert_eq!(clean_file_name("a/"), None);
        let long = format!("{}.pdf", "x".repeat(300));
        let cleaned = clean_file_name(&long).unwrap();
        assert_eq!(cleaned.chars().count(), MAX_FILE_NAME_CHARS);
        assert!(cleaned.ends_with(".pdf"));
        assert_eq!(clean_file_name("وثيقة.pdf").as_deref(), Some("وثيقة.pdf"));
    }

    #[test]
    fn ids_are_fresh_hex() {
        let a = new_transfer_id();
        assert!(check_id(&a).is_ok());
        assert_ne!(a, new_transfer_id());
        assert_eq!(
            check_id("ABCDEF0123456789abcdef0123456789"),
            Err(FileError::BadId)
        );
    }
}
