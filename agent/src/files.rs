//! Files between the caseworker and the resident, on the agent's side: the transfers of
//! a session, driven by the data channel's `file_*` messages and the resident's answers.
//! The order of bytes, the window and the checksum are [`acote_proto::files`]' state
//! machines; this adds the questions, the Downloads folder ([`Store`]) and what the
//! resident and the caseworker are told. No sockets here: the driver sends what
//! [`Effect::Send`] says and shows what the other effects say.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use acote_proto::channel::{AgentMessage, ViewerMessage};
use acote_proto::files::{
    FileAccept, FileChunk, FileEnd, FileOffer, FileStatus, Incoming, MAX_OPEN_TRANSFERS, Outgoing,
    Received, clean_file_name, new_transfer_id,
};
use sha2::{Digest, Sha256};

/// Where received files go, and how the resident's own files are read.
pub trait Store: Send {
    /// Starts (or starts again) the partial file of transfer `id`.
    fn create(&mut self, id: &str) -> io::Result<()>;
    /// Appends to the partial file of `id`.
    fn append(&mut self, id: &str, bytes: &[u8]) -> io::Result<()>;
    /// The partial file of `id` is whole and checked: it gets its name (made unique in
    /// the folder), and its final path is returned.
    fn keep(&mut self, id: &str, name: &str) -> io::Result<PathBuf>;
    /// Removes the partial file of `id`, if any.
    fn discard(&mut self, id: &str);
    /// Reads `len` bytes at `offset` of a file the resident chose to send.
    fn read(&mut self, path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>>;
}

/// The resident's Downloads folder, holding partial files as hidden `.ID.acote-part`
/// until they are whole and checked.
pub struct Downloads {
    dir: PathBuf,
    open: HashMap<String, File>,
}

impl Downloads {
    /// The store for `dir` (created when the first file comes).
    pub fn new(dir: PathBuf) -> Self {
        Downloads {
            dir,
            open: HashMap::new(),
        }
    }

    /// The platform's Downloads folder: the user's known folder where the system says
    /// one (Windows, XDG user dirs), else `~/Downloads`.
    pub fn folder() -> Option<PathBuf> {
        dirs::download_dir().or_else(|| dirs::home_dir().map(|h| h.join("Downloads")))
    }

    fn partial(&self, id: &str) -> PathBuf {
        self.dir.join(format!(".{id}.acote-part"))
    }
}

impl Store for Downloads {
    fn create(&mut self, id: &str) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let file = File::create(self.partial(id))?;
        self.open.insert(id.to_string(), file);
        Ok(())
    }

    fn append(&mut self, id: &str, bytes: &[u8]) -> io::Result<()> {
        let file = self
            .open
            .get_mut(id)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no partial file"))?;
        file.write_all(bytes)
    }

    fn keep(&mut self, id: &str, name: &str) -> io::Result<PathBuf> {
        let file = self
            .open
            .remove(id)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no partial file"))?;
        // On disk before it is called saved: a full disk shows here at the latest.
        file.sync_all()?;
        drop(file);
        let target = unique_path(&self.dir, name);
        std::fs::rename(self.partial(id), &target)?;
        Ok(target)
    }

    fn discard(&mut self, id: &str) {
        self.open.remove(id);
        let _ = std::fs::remove_file(self.partial(id));
    }

    fn read(&mut self, path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut buf = vec![0; len];
        file.read_exact(&mut buf)?;
        Ok(buf)
    }
}

/// `dir/name`, or `dir/stem (2).ext` and so on when taken: a received file never
/// replaces one the resident already has.
fn unique_path(dir: &Path, name: &str) -> PathBuf {
    let first = dir.join(name);
    if !first.exists() {
        return first;
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
        _ => (name, String::new()),
    };
    (2..10_000)
        .map(|n| dir.join(format!("{stem} ({n}){ext}")))
        .find(|p| !p.exists())
        .unwrap_or(first)
}

/// Size and SHA-256 of a file the resident chose to send (read once, before the offer).
pub fn measure(path: &Path) -> io::Result<(u64, String)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, acote_proto::files::digest_hex(hasher)))
}

/// A file transfer as the resident sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The transfer's id.
    pub id: String,
    /// The file's name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// True when the resident sends, false when they receive.
    pub outgoing: bool,
}

/// What the driver does for the transfers.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send this to the caseworker.
    Send(AgentMessage),
    /// Ask the resident whether to save this file.
    Ask(FileReport),
    /// The resident's file is offered to the caseworker.
    Sending(FileReport),
    /// The question about this file is withdrawn (the caseworker cancelled).
    Withdraw(String),
    /// Bytes moved so far.
    Progress {
        /// The transfer.
        id: String,
        /// Bytes written (receiving) or acknowledged (sending).
        done: u64,
        /// Size in bytes.
        size: u64,
    },
    /// The transfer is over; `saved_to` is the file's place when one was received.
    Ended {
        /// The transfer.
        file: FileReport,
        /// How it ended.
        status: FileStatus,
        /// Where a received file was saved.
        saved_to: Option<PathBuf>,
    },
}

struct In {
    incoming: Incoming,
    /// Still waiting for the resident's answer.
    asking: bool,
}

struct Out {
    outgoing: Outgoing,
    report: FileReport,
    offer: FileOffer,
    path: PathBuf,
}

/// The transfers of a session, both ways.
pub struct Transfers {
    max_bytes: u64,
    store: Box<dyn Store>,
    incoming: Vec<In>,
    outgoing: Vec<Out>,
}

impl Transfers {
    /// No transfers yet; files up to `max_bytes` (0: none) go to and from `store`.
    pub fn new(max_bytes: u64, store: Box<dyn Store>) -> Self {
        Transfers {
            max_bytes,
            store,
            incoming: Vec::new(),
            outgoing: Vec::new(),
        }
    }

    /// The relay said the site's limit.
    pub fn set_limit(&mut self, max_bytes: u64) {
        self.max_bytes = max_bytes;
    }

    /// The site's limit, in bytes (0: files are off).
    pub fn limit(&self) -> u64 {
        self.max_bytes
    }

    /// Whether a file question waits for the resident.
    pub fn is_asking(&self) -> bool {
        self.incoming.iter().any(|t| t.asking)
    }

    /// A `file_*` message from the caseworker; other messages give nothing.
    pub fn on_message(&mut self, msg: ViewerMessage) -> Vec<Effect> {
        match msg {
            ViewerMessage::FileOffer(offer) => self.offered(offer),
            ViewerMessage::FileChunk(chunk) => self.chunk(&chunk),
            ViewerMessage::FileAccept(FileAccept { id, offset }) => {
                let Some(t) = self.outgoing.iter_mut().find(|t| t.report.id == id) else {
                    return Vec::new();
                };
                match t.outgoing.accept(offset) {
                    Ok(()) => self.pump(),
                    Err(_) => self.end_outgoing(&id, FileStatus::Failed, true),
                }
            }
            ViewerMessage::FileAck(ack) => {
                let Some(t) = self.outgoing.iter_mut().find(|t| t.report.id == ack.id) else {
                    return Vec::new();
                };
                match t.outgoing.ack(ack.offset) {
                    Ok(()) => {
                        let (done, size) = t.outgoing.progress();
                        let mut effects = vec![Effect::Progress {
                            id: ack.id.clone(),
                            done,
                            size,
                        }];
                        effects.extend(self.pump());
                        effects
                    }
                    Err(_) => self.end_outgoing(&ack.id, FileStatus::Failed, true),
                }
            }
            ViewerMessage::FileEnd(FileEnd { id, status }) => {
                let mut effects = self.end_outgoing(&id, status, false);
                effects.extend(self.end_incoming(&id, status, false));
                effects
            }
            _ => Vec::new(),
        }
    }

    fn offered(&mut self, offer: FileOffer) -> Vec<Effect> {
        // The same id again: the caseworker's side came back after a drop.
        if let Some(t) = self
            .incoming
            .iter_mut()
            .find(|t| t.incoming.offer().id == offer.id)
        {
            if t.asking {
                return Vec::new();
            }
            return vec![Effect::Send(AgentMessage::FileAccept(t.incoming.accept()))];
        }
        let id = offer.id.clone();
        let end = |status| {
            vec![Effect::Send(AgentMessage::FileEnd(FileEnd {
                id: id.clone(),
                status,
            }))]
        };
        if self.incoming.len() >= MAX_OPEN_TRANSFERS {
            return end(FileStatus::Busy);
        }
        match Incoming::new(offer, self.max_bytes) {
            Ok(incoming) => {
                let report = FileReport {
                    id: id.clone(),
                    name: incoming.name().to_string(),
                    size: incoming.offer().size,
                    outgoing: false,
                };
                self.incoming.push(In {
                    incoming,
                    asking: true,
                });
                vec![Effect::Ask(report)]
            }
            Err(status) => end(status),
        }
    }

    /// The resident answered the oldest open file question.
    pub fn answer(&mut self, yes: bool) -> Vec<Effect> {
        let Some(t) = self.incoming.iter_mut().find(|t| t.asking) else {
            return Vec::new();
        };
        let id = t.incoming.offer().id.clone();
        if !yes {
            return self.end_incoming(&id, FileStatus::Refused, true);
        }
        t.asking = false;
        let accept = t.incoming.accept();
        if let Err(e) = self.store.create(&id) {
            return self.end_incoming(&id, status_of(&e), true);
        }
        let mut effects = vec![Effect::Send(AgentMessage::FileAccept(accept))];
        // An empty file is whole at once.
        if self
            .incoming
            .iter()
            .any(|t| t.incoming.offer().id == id && t.incoming.complete())
        {
            effects.extend(self.finish(&id));
        }
        effects
    }

    fn chunk(&mut self, chunk: &FileChunk) -> Vec<Effect> {
        let Some(t) = self
            .incoming
            .iter_mut()
            .find(|t| t.incoming.offer().id == chunk.id && !t.asking)
        else {
            return Vec::new();
        };
        let size = t.incoming.offer().size;
        match t.incoming.chunk(chunk) {
            Ok(Received::Duplicate) => Vec::new(),
            Ok(Received::Write {
                bytes,
                ack,
                complete,
            }) => {
                let done = t.incoming.written();
                if let Err(e) = self.store.append(&chunk.id, &bytes) {
                    return self.end_incoming(&chunk.id, status_of(&e), true);
                }
                let mut effects = Vec::new();
                if let Some(ack) = ack {
                    effects.push(Effect::Send(AgentMessage::FileAck(ack)));
                    effects.push(Effect::Progress {
                        id: chunk.id.clone(),
                        done,
                        size,
                    });
                }
                if complete {
                    effects.extend(self.finish(&chunk.id));
                }
                effects
            }
            Err(e) => {
                tracing::debug!(error = %e, "a file chunk broke its transfer");
                self.end_incoming(&chunk.id, FileStatus::Failed, true)
            }
        }
    }

    /// Every byte came: checked, named and kept, or removed.
    fn finish(&mut self, id: &str) -> Vec<Effect> {
        let Some(t) = self.incoming.iter().find(|t| t.incoming.offer().id == id) else {
            return Vec::new();
        };
        let status = t.incoming.verify();
        if status != FileStatus::Saved {
            return self.end_incoming(id, status, true);
        }
        let name = t.incoming.name().to_string();
        match self.store.keep(id, &name) {
            Ok(path) => {
                let mut effects = self.end_incoming(id, FileStatus::Saved, true);
                if let Some(Effect::Ended { saved_to, .. }) = effects.last_mut() {
                    *saved_to = Some(path);
                }
                effects
            }
            Err(e) => self.end_incoming(id, status_of(&e), true),
        }
    }

    /// Ends a transfer to the resident; `tell` sends `file_end` to the caseworker.
    fn end_incoming(&mut self, id: &str, status: FileStatus, tell: bool) -> Vec<Effect> {
        let Some(i) = self
            .incoming
            .iter()
            .position(|t| t.incoming.offer().id == id)
        else {
            return Vec::new();
        };
        let t = self.incoming.remove(i);
        if status != FileStatus::Saved {
            self.store.discard(id);
        }
        let mut effects = Vec::new();
        if tell {
            effects.push(Effect::Send(AgentMessage::FileEnd(FileEnd {
                id: id.to_string(),
                status,
            })));
        }
        if t.asking {
            effects.push(Effect::Withdraw(id.to_string()));
        }
        effects.push(Effect::Ended {
            file: FileReport {
                id: id.to_string(),
                name: t.incoming.name().to_string(),
                size: t.incoming.offer().size,
                outgoing: false,
            },
            status,
            saved_to: None,
        });
        effects
    }

    /// The resident sends a file they chose (measured with [`measure`]).
    pub fn send(&mut self, path: PathBuf, size: u64, sha256: String) -> Vec<Effect> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .and_then(|n| clean_file_name(&n))
            .unwrap_or_else(|| "file".into());
        let report = FileReport {
            id: new_transfer_id(),
            name,
            size,
            outgoing: true,
        };
        let refuse = |status| {
            vec![Effect::Ended {
                file: report.clone(),
                status,
                saved_to: None,
            }]
        };
        if self.max_bytes == 0 {
            return refuse(FileStatus::Off);
        }
        if size > self.max_bytes {
            return refuse(FileStatus::TooLarge);
        }
        if self.outgoing.len() >= MAX_OPEN_TRANSFERS {
            return refuse(FileStatus::Busy);
        }
        let offer = FileOffer {
            id: report.id.clone(),
            name: report.name.clone(),
            size,
            sha256,
        };
        self.outgoing.push(Out {
            outgoing: Outgoing::new(report.id.clone(), size),
            report: report.clone(),
            offer: offer.clone(),
            path,
        });
        vec![
            Effect::Sending(report),
            Effect::Send(AgentMessage::FileOffer(offer)),
        ]
    }

    /// The chunks the window allows now, read from the resident's files.
    fn pump(&mut self) -> Vec<Effect> {
        let mut effects = Vec::new();
        let mut failed = Vec::new();
        for t in &mut self.outgoing {
            while let Some((offset, len)) = t.outgoing.next_chunk() {
                match self.store.read(&t.path, offset, len) {
                    Ok(bytes) => effects.push(Effect::Send(AgentMessage::FileChunk(
                        FileChunk::new(&t.report.id, offset, &bytes),
                    ))),
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read a file the resident sends");
                        failed.push(t.report.id.clone());
                        break;
                    }
                }
            }
        }
        for id in failed {
            effects.extend(self.end_outgoing(&id, FileStatus::Failed, true));
        }
        effects
    }

    fn end_outgoing(&mut self, id: &str, status: FileStatus, tell: bool) -> Vec<Effect> {
        let Some(i) = self.outgoing.iter().position(|t| t.report.id == id) else {
            return Vec::new();
        };
        let t = self.outgoing.remove(i);
        let mut effects = Vec::new();
        if tell {
            effects.push(Effect::Send(AgentMessage::FileEnd(FileEnd {
                id: id.to_string(),
                status,
            })));
        }
        effects.push(Effect::Ended {
            file: t.report,
            status,
            saved_to: None,
        });
        effects
    }

    /// A (new) data channel opened: whatever was in flight on an old one is lost, so
    /// each unfinished file the resident sends is offered again under its id, and the
    /// caseworker's side says where to go on from.
    pub fn channel_open(&mut self) -> Vec<Effect> {
        self.outgoing
            .iter_mut()
            .map(|t| {
                t.outgoing.interrupted();
                Effect::Send(AgentMessage::FileOffer(t.offer.clone()))
            })
            .collect()
    }

    /// The session is over: every transfer stops, partial files are removed.
    pub fn end_all(&mut self) -> Vec<Effect> {
        let ids: Vec<String> = self
            .incoming
            .iter()
            .map(|t| t.incoming.offer().id.clone())
            .chain(self.outgoing.iter().map(|t| t.report.id.clone()))
            .collect();
        let mut effects = Vec::new();
        for id in ids {
            effects.extend(self.end_incoming(&id, FileStatus::Cancelled, false));
            effects.extend(self.end_outgoing(&id, FileStatus::Cancelled, false));
        }
        effects
    }
}

/// How a write error ends a transfer: a full disk (or quota) is said as such.
fn status_of(e: &io::Error) -> FileStatus {
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => FileStatus::DiskFull,
        _ => FileStatus::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use acote_proto::files::{FileAck, sha256_hex};

    /// Files in memory, with room for `room` bytes in all.
    #[derive(Default)]
    struct Memory {
        partial: HashMap<String, Vec<u8>>,
        kept: HashMap<String, Vec<u8>>,
        sources: HashMap<PathBuf, Vec<u8>>,
        room: Option<usize>,
    }

    struct Shared(std::sync::Arc<std::sync::Mutex<Memory>>);

    impl Store for Shared {
        fn create(&mut self, id: &str) -> io::Result<()> {
            let mut m = self.0.lock().unwrap();
            m.partial.insert(id.into(), Vec::new());
            Ok(())
        }
        fn append(&mut self, id: &str, bytes: &[u8]) -> io::Result<()> {
            let mut m = self.0.lock().unwrap();
            let used: usize = m.partial.values().map(Vec::len).sum();
            if m.room.is_some_and(|room| used + bytes.len() > room) {
                return Err(io::Error::from(io::ErrorKind::StorageFull));
            }
            m.partial.get_mut(id).unwrap().extend_from_slice(bytes);
            Ok(())
        }
        fn keep(&mut self, id: &str, name: &str) -> io::Result<PathBuf> {
            let mut m = self.0.lock().unwrap();
            let data = m.partial.remove(id).unwrap();
            m.kept.insert(name.into(), data);
            Ok(PathBuf::from("/Downloads").join(name))
        }
        fn discard(&mut self, id: &str) {
            self.0.lock().unwrap().partial.remove(id);
        }
        fn read(&mut self, path: &Path, offset: u64, len: usize) -> io::Result<Vec<u8>> {
            let m = self.0.lock().unwrap();
            let data = m.sources.get(path).ok_or(io::ErrorKind::NotFound)?;
            let at = usize::try_from(offset).unwrap();
            Ok(data[at..at + len].to_vec())
        }
    }

    fn transfers(room: Option<usize>) -> (Transfers, std::sync::Arc<std::sync::Mutex<Memory>>) {
        let memory = std::sync::Arc::new(std::sync::Mutex::new(Memory {
            room,
            ..Memory::default()
        }));
        let t = Transfers::new(25_000_000, Box::new(Shared(memory.clone())));
        (t, memory)
    }

    fn offer(data: &[u8]) -> FileOffer {
        FileOffer {
            id: "00112233445566778899aabbccddeeff".into(),
            name: "attestation.pdf".into(),
            size: data.len() as u64,
            sha256: sha256_hex(data),
        }
    }

    /// The caseworker's side: sends every chunk of `data` from `from`.
    fn send_all(t: &mut Transfers, data: &[u8], from: usize) -> Vec<Effect> {
        let mut effects = Vec::new();
        for (i, part) in data[from..].chunks(8192).enumerate() {
            let chunk = FileChunk::new(&offer(data).id, (from + i * 8192) as u64, part);
            effects.extend(t.on_message(ViewerMessage::FileChunk(chunk)));
        }
        effects
    }

    fn sent(effects: &[Effect]) -> Vec<AgentMessage> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send(m) => Some(m.clone()),
                _ => None,
            })
            .collect()
    }

    fn ended(effects: &[Effect]) -> Option<(FileStatus, Option<PathBuf>)> {
        effects.iter().find_map(|e| match e {
            Effect::Ended {
                status, saved_to, ..
            } => Some((*status, saved_to.clone())),
            _ => None,
        })
    }

    #[test]
    fn a_file_is_saved_only_after_the_resident_says_yes() {
        let data: Vec<u8> = (0..30_000u32).map(|i| (i % 249) as u8).collect();
        let (mut t, memory) = transfers(None);
        let asked = t.on_message(ViewerMessage::FileOffer(offer(&data)));
        assert!(
            matches!(&asked[..], [Effect::Ask(r)] if r.name == "attestation.pdf" && r.size == 30_000)
        );
        // Chunks before the yes are dropped: nothing is written without consent.
        assert!(send_all(&mut t, &data, 0).is_empty());
        assert!(memory.lock().unwrap().partial.is_empty());
        let accepted = t.answer(true);
        assert_eq!(
            sent(&accepted),
            vec![AgentMessage::FileAccept(FileAccept {
                id: offer(&data).id,
                offset: 0
            })]
        );
        let effects = send_all(&mut t, &data, 0);
        assert_eq!(
            ended(&effects),
            Some((
                FileStatus::Saved,
                Some(PathBuf::from("/Downloads/attestation.pdf"))
            ))
        );
        assert!(sent(&effects).contains(&AgentMessage::FileEnd(FileEnd {
            id: offer(&data).id,
            status: FileStatus::Saved
        })));
        assert_eq!(memory.lock().unwrap().kept["attestation.pdf"], data);
    }

    #[test]
    fn a_no_refuses_and_writes_nothing() {
        let (mut t, memory) = transfers(None);
        t.on_message(ViewerMessage::FileOffer(offer(b"hello")));
        let effects = t.answer(false);
        assert_eq!(ended(&effects).map(|e| e.0), Some(FileStatus::Refused));
        assert!(effects.contains(&Effect::Withdraw(offer(b"hello").id)));
        assert!(memory.lock().unwrap().partial.is_empty());
        assert!(!t.is_asking());
    }

    #[test]
    fn a_full_disk_ends_the_transfer_cleanly_and_removes_the_part() {
        let data = vec![7u8; 50_000];
        let (mut t, memory) = transfers(Some(20_000));
        t.on_message(ViewerMessage::FileOffer(offer(&data)));
        t.answer(true);
        let effects = send_all(&mut t, &data, 0);
        assert_eq!(ended(&effects).map(|e| e.0), Some(FileStatus::DiskFull));
        assert!(sent(&effects).contains(&AgentMessage::FileEnd(FileEnd {
            id: offer(&data).id,
            status: FileStatus::DiskFull
        })));
        let m = memory.lock().unwrap();
        assert!(m.partial.is_empty() && m.kept.is_empty());
    }

    #[test]
    fn too_large_busy_and_off_are_answered_without_asking() {
        let (mut t, _) = transfers(None);
        t.set_limit(4);
        let effects = t.on_message(ViewerMessage::FileOffer(offer(b"hello")));
        assert_eq!(
            sent(&effects),
            vec![AgentMessage::FileEnd(FileEnd {
                id: offer(b"hello").id,
                status: FileStatus::TooLarge
            })]
        );
        t.set_limit(0);
        let effects = t.on_message(ViewerMessage::FileOffer(offer(b"hello")));
        assert!(matches!(
            &sent(&effects)[..],
            [AgentMessage::FileEnd(FileEnd {
                status: FileStatus::Off,
                ..
            })]
        ));
        t.set_limit(1000);
        for n in 0..MAX_OPEN_TRANSFERS {
            let mut o = offer(b"hello");
            o.id = format!("{n:032x}");
            assert!(matches!(
                &t.on_message(ViewerMessage::FileOffer(o))[..],
                [Effect::Ask(_)]
            ));
        }
        let effects = t.on_message(ViewerMessage::FileOffer(offer(b"hello")));
        assert!(matches!(
            &sent(&effects)[..],
            [AgentMessage::FileEnd(FileEnd {
                status: FileStatus::Busy,
                ..
            })]
        ));
    }

    #[test]
    fn an_offer_again_after_a_drop_resumes_without_a_second_question() {
        let data: Vec<u8> = (0..40_000u32).map(|i| (i % 241) as u8).collect();
        let (mut t, memory) = transfers(None);
        t.on_message(ViewerMessage::FileOffer(offer(&data)));
        t.answer(true);
        let part = FileChunk::new(&offer(&data).id, 0, &data[..8192]);
        t.on_message(ViewerMessage::FileChunk(part.clone()));
        let again = t.on_message(ViewerMessage::FileOffer(offer(&data)));
        assert_eq!(
            sent(&again),
            vec![AgentMessage::FileAccept(FileAccept {
                id: offer(&data).id,
                offset: 8192
            })]
        );
        assert!(!t.is_asking());
        let effects = send_all(&mut t, &data, 8192);
        assert_eq!(ended(&effects).map(|e| e.0), Some(FileStatus::Saved));
        assert_eq!(memory.lock().unwrap().kept["attestation.pdf"], data);
    }

    #[test]
    fn the_resident_sends_within_the_window_and_hears_the_end() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 239) as u8).collect();
        let (mut t, memory) = transfers(None);
        let path = PathBuf::from("/home/r/scan.pdf");
        memory
            .lock()
            .unwrap()
            .sources
            .insert(path.clone(), data.clone());
        let offered = t.send(path, data.len() as u64, sha256_hex(&data));
        let [Effect::Sending(_), Effect::Send(AgentMessage::FileOffer(o))] = &offered[..] else {
            panic!("{offered:?}")
        };
        assert_eq!(o.name, "scan.pdf");
        let id = o.id.clone();
        let first = t.on_message(ViewerMessage::FileAccept(FileAccept {
            id: id.clone(),
            offset: 0,
        }));
        assert_eq!(sent(&first).len(), 8, "64 KiB window of 8 KiB chunks");
        let more = t.on_message(ViewerMessage::FileAck(FileAck {
            id: id.clone(),
            offset: 16_384,
        }));
        assert_eq!(sent(&more).len(), 2);
        // A new channel: the offer goes again, and the caseworker says where to go on.
        let again = t.channel_open();
        assert!(matches!(&sent(&again)[..], [AgentMessage::FileOffer(o)] if o.id == id));
        let resumed = t.on_message(ViewerMessage::FileAccept(FileAccept {
            id: id.clone(),
            offset: 16_384,
        }));
        let [AgentMessage::FileChunk(c), ..] = &sent(&resumed)[..] else {
            panic!()
        };
        assert_eq!(c.offset, 16_384);
        let end = t.on_message(ViewerMessage::FileEnd(FileEnd {
            id,
            status: FileStatus::Saved,
        }));
        assert_eq!(ended(&end).map(|e| e.0), Some(FileStatus::Saved));
    }

    #[test]
    fn files_over_the_limit_are_not_offered() {
        let (mut t, _) = transfers(None);
        t.set_limit(10);
        let effects = t.send(PathBuf::from("/x/big.iso"), 11, sha256_hex(b""));
        assert_eq!(ended(&effects).map(|e| e.0), Some(FileStatus::TooLarge));
        assert!(sent(&effects).is_empty());
    }

    #[test]
    fn a_received_name_never_replaces_a_file() {
        let dir = std::env::temp_dir().join(format!("acote-files-{}", new_transfer_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut store = Downloads::new(dir.clone());
        for _ in 0..2 {
            store.create("a").unwrap();
            store.append("a", b"x").unwrap();
            store.keep("a", "form.pdf").unwrap();
        }
        assert!(dir.join("form.pdf").exists());
        assert!(dir.join("form (2).pdf").exists());
        assert!(!dir.join(".a.acote-part").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
