//! Files in the resident's window, as plain data: the session's transfers both ways with
//! their progress, the open "Save it?" questions (oldest first), and the list of the
//! resident's recent files to choose one to send. IO-free except [`recent_files`]; the
//! Slint glue (`ui/window.rs`) copies a [`FilesView`] into the files window.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use acote_proto::Requester;
use acote_proto::files::FileStatus;

use super::chat::reads_right_to_left;
use super::i18n::{Arg, Strings};
use super::text;
use crate::files::FileReport;

/// Transfers listed; older finished ones drop off.
const KEPT: usize = 50;

/// Files offered to choose from.
pub const RECENT: usize = 40;

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Waiting for the resident's answer.
    Asking,
    /// Bytes moving (or, sending, waiting for the caseworker to accept).
    Moving { done: u64 },
    /// Over.
    Ended { status: FileStatus },
}

#[derive(Debug, Clone)]
struct Item {
    file: FileReport,
    state: State,
}

/// A file the resident may choose to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Where it is.
    pub path: PathBuf,
    /// Its name.
    pub name: String,
    /// The folder it is in, as the system names it ("Downloads").
    pub folder: String,
    /// Size in bytes.
    pub size: u64,
}

/// The session's files, for the files window.
#[derive(Debug, Default)]
pub struct Files {
    items: Vec<Item>,
    open: bool,
    /// The resident is choosing a file to send, from these.
    picking: Option<Vec<Candidate>>,
}

/// One transfer as shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowView {
    /// "attestation.pdf, 240 kB".
    pub title: String,
    /// Where it stands ("Receiving… 40 %", "attestation.pdf is saved in Downloads.").
    pub detail: String,
    /// Done, in thousandths (a progress bar), while bytes move.
    pub permille: i32,
    /// It went wrong (the detail is shown in red).
    pub failed: bool,
    /// The name reads right to left.
    pub rtl: bool,
}

/// The files window's words, ready to show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilesView {
    /// The bar's button ("Files", "Files (1)" while a question waits).
    pub button: String,
    /// A question waits: the button stands out.
    pub asking: bool,
    /// "Files with Marie Dupont".
    pub title: String,
    /// The oldest open question, or empty.
    pub question: String,
    /// Its yes button.
    pub save: String,
    /// Its no button.
    pub skip: String,
    /// Shown while there is no transfer.
    pub empty: String,
    /// The transfers, newest first.
    pub rows: Vec<RowView>,
    /// "Send a file".
    pub send: String,
    /// "Open Downloads".
    pub open_folder: String,
    /// "Close".
    pub close: String,
    /// Choosing a file: the heading, the files and the back button.
    pub picking: bool,
    /// "Choose the file to send".
    pub pick_title: String,
    /// Shown when no file was found.
    pub pick_empty: String,
    /// The files to choose from: "scan.pdf · 1.2 MB · Downloads".
    pub candidates: Vec<String>,
    /// "Back".
    pub back: String,
}

impl Files {
    /// The caseworker offers a file: the question waits in the list, and the window
    /// comes up (a question must be seen to be answered).
    pub fn offered(&mut self, file: &FileReport) {
        self.push(Item {
            file: file.clone(),
            state: State::Asking,
        });
        self.open = true;
    }

    /// The resident answered the oldest question (the driver is told separately).
    pub fn answered(&mut self, yes: bool) {
        if let Some(item) = self.items.iter_mut().find(|i| i.state == State::Asking) {
            item.state = if yes {
                State::Moving { done: 0 }
            } else {
                State::Ended {
                    status: FileStatus::Refused,
                }
            };
        }
    }

    /// The resident chose a file to send; it is listed once the driver offers it.
    pub fn sending(&mut self, file: &FileReport) {
        self.push(Item {
            file: file.clone(),
            state: State::Moving { done: 0 },
        });
    }

    /// Bytes moved.
    pub fn progress(&mut self, id: &str, done: u64) {
        if let Some(item) = self.items.iter_mut().find(|i| i.file.id == id) {
            item.state = State::Moving { done };
        }
    }

    /// A transfer is over (a question withdrawn ends as cancelled).
    pub fn ended(&mut self, file: &FileReport, status: FileStatus) {
        match self.items.iter_mut().find(|i| i.file.id == file.id) {
            Some(item) => item.state = State::Ended { status },
            None => self.push(Item {
                file: file.clone(),
                state: State::Ended { status },
            }),
        }
    }

    /// A question is open.
    pub fn is_asking(&self) -> bool {
        self.items.iter().any(|i| i.state == State::Asking)
    }

    /// The resident opened the files window.
    pub fn open(&mut self) {
        self.open = true;
    }

    /// The resident closed it (an open question stays, and the button says so).
    pub fn close(&mut self) {
        self.open = false;
        self.picking = None;
    }

    /// Whether the files window is up.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// The resident wants to send a file: choose among these.
    pub fn pick(&mut self, candidates: Vec<Candidate>) {
        self.picking = Some(candidates);
    }

    /// The resident chose the `index`th file (or went back with `None`).
    pub fn picked(&mut self, index: Option<usize>) -> Option<PathBuf> {
        let chosen = self.picking.take()?;
        index.and_then(|i| chosen.get(i)).map(|c| c.path.clone())
    }

    /// The session is over: the list is forgotten.
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    fn push(&mut self, item: Item) {
        if self.items.len() == KEPT
            && let Some(i) = self
                .items
                .iter()
                .position(|i| matches!(i.state, State::Ended { .. }))
        {
            self.items.remove(i);
        }
        self.items.push(item);
    }

    /// The words for the files window and the bar's button, in `s`'s language.
    pub fn view(&self, s: &Strings, by: Option<&Requester>) -> FilesView {
        let nobody = Requester {
            name: None,
            site: String::new(),
        };
        let by = by.unwrap_or(&nobody);
        let name = text::name(s, by);
        let asking = self
            .items
            .iter()
            .filter(|i| i.state == State::Asking)
            .count();
        let question = self
            .items
            .iter()
            .find(|i| i.state == State::Asking)
            .map(|i| text::file_offered(s, by, &i.file.name, i.file.size))
            .unwrap_or_default();
        let rows = self.items.iter().rev().map(|i| row(s, by, i)).collect();
        let picking = self.picking.as_ref();
        FilesView {
            button: if asking > 0 {
                let n = u64::try_from(asking).unwrap_or(u64::MAX);
                s.with("files-button-asking", &[("n", Arg::Num(n))])
            } else {
                s.get("files-button")
            },
            asking: asking > 0,
            title: s.with("files-title", &[("name", Arg::Text(&name))]),
            question,
            save: s.get("files-save"),
            skip: s.get("files-skip"),
            empty: s.with("files-empty", &[("name", Arg::Text(&name))]),
            rows,
            send: s.get("files-send"),
            open_folder: s.get("files-open-folder"),
            close: s.get("close"),
            picking: picking.is_some(),
            pick_title: s.get("files-pick-title"),
            pick_empty: s.get("files-pick-empty"),
            candidates: picking
                .map(|list| {
                    list.iter()
                        .map(|c| {
                            format!(
                                "{} · {} · {}",
                                text::clean_name(&c.name),
                                text::data_amount(s, c.size),
                                c.folder
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            back: s.get("files-back"),
        }
    }
}

fn row(s: &Strings, by: &Requester, item: &Item) -> RowView {
    let file = &item.file;
    let title = format!(
        "{}, {}",
        text::clean_name(&file.name),
        text::data_amount(s, file.size)
    );
    let percent = |done: u64| {
        done.saturating_mul(100)
            .checked_div(file.size)
            .unwrap_or(100)
    };
    let (detail, permille, failed) = match &item.state {
        State::Asking => (s.get("files-asking"), 0, false),
        State::Moving { done } => {
            let key = if file.outgoing {
                "files-sending"
            } else {
                "files-receiving"
            };
            let permille = done
                .saturating_mul(1000)
                .checked_div(file.size)
                .and_then(|p| i32::try_from(p).ok())
                .unwrap_or(1000);
            (
                s.with(key, &[("percent", Arg::Num(percent(*done)))]),
                permille,
                false,
            )
        }
        State::Ended { status } => (
            text::file_ended(s, by, &file.name, file.outgoing, *status),
            0,
            *status != FileStatus::Saved,
        ),
    };
    RowView {
        title,
        detail,
        permille,
        failed,
        rtl: reads_right_to_left(&file.name),
    }
}

/// The resident's recent files in `folders` (Downloads, Documents, Desktop, Pictures):
/// plain files, not hidden, newest first, at most [`RECENT`]. Unreadable folders are
/// skipped.
pub fn recent_files(folders: &[PathBuf]) -> Vec<Candidate> {
    let mut found: Vec<(SystemTime, Candidate)> = Vec::new();
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(folder) else {
            continue;
        };
        let folder_name = folder_label(folder);
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') || name.ends_with(".acote-part") {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            found.push((
                modified,
                Candidate {
                    path: entry.path(),
                    name,
                    folder: folder_name.clone(),
                    size: meta.len(),
                },
            ));
        }
    }
    found.sort_by_key(|c| std::cmp::Reverse(c.0));
    found.into_iter().take(RECENT).map(|(_, c)| c).collect()
}

fn folder_label(folder: &Path) -> String {
    folder
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

/// The folders the resident's files are usually in, as the platform names them.
pub fn usual_folders() -> Vec<PathBuf> {
    [
        dirs::download_dir(),
        dirs::document_dir(),
        dirs::desktop_dir(),
        dirs::picture_dir(),
    ]
    .into_iter()
    .flatten()
    .chain(dirs::home_dir().map(|h| h.join("Downloads")))
    .fold(Vec::new(), |mut v, p| {
        if !v.contains(&p) {
            v.push(p);
        }
        v
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::i18n::Lang;

    fn report(id: &str, outgoing: bool) -> FileReport {
        FileReport {
            id: id.into(),
            name: "attestation.pdf".into(),
            size: 240_000,
            outgoing,
        }
    }

    fn marie() -> Requester {
        Requester {
            name: Some("Marie Dupont".into()),
            site: "CHRS Les Lilas".into(),
        }
    }

    #[test]
    fn an_offer_opens_the_window_with_the_question() {
        let s = Strings::new(Lang::En, false);
        let mut f = Files::default();
        f.offered(&report("a", false));
        assert!(f.is_open() && f.is_asking());
        let v = f.view(&s, Some(&marie()));
        assert_eq!(
            v.question,
            "Marie Dupont sends you attestation.pdf, 240 KB. Save it?"
        );
        assert_eq!(v.button, "Files (1)");
        assert!(v.asking);
        f.close();
        assert!(f.is_asking(), "closing does not answer");
        f.answered(true);
        f.progress("a", 120_000);
        let v = f.view(&s, Some(&marie()));
        assert_eq!(v.question, "");
        assert_eq!(v.rows[0].detail, "Receiving… 50 %");
        assert_eq!(v.rows[0].permille, 500);
        f.ended(&report("a", false), FileStatus::Saved);
        let v = f.view(&s, Some(&marie()));
        assert_eq!(v.rows[0].detail, "attestation.pdf is saved in Downloads.");
        assert!(!v.rows[0].failed);
    }

    #[test]
    fn a_full_disk_and_a_refusal_say_so_in_french() {
        let s = Strings::new(Lang::Fr, false);
        let mut f = Files::default();
        f.offered(&report("a", false));
        f.offered(&report("b", false));
        f.answered(false);
        f.ended(&report("b", false), FileStatus::DiskFull);
        let v = f.view(&s, Some(&marie()));
        assert!(v.rows.iter().all(|r| r.failed));
        assert!(
            v.rows[0].detail.contains("disque est plein"),
            "{}",
            v.rows[0].detail
        );
        assert!(v.rows[1].detail.contains("n'a pas été enregistré"));
    }

    #[test]
    fn recent_files_are_newest_first_without_hidden_or_partial_ones() {
        let dir = std::env::temp_dir().join(format!(
            "acote-recent-{}",
            acote_proto::files::new_transfer_id()
        ));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("old.pdf"), b"1").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.join("new.pdf"), b"22").unwrap();
        std::fs::write(dir.join(".hidden"), b"x").unwrap();
        std::fs::write(dir.join(".abc.acote-part"), b"x").unwrap();
        let found = recent_files(&[dir.clone(), dir.join("missing")]);
        let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["new.pdf", "old.pdf"]);
        assert_eq!(found[0].size, 2);
        let mut f = Files::default();
        f.pick(found);
        assert_eq!(f.picked(Some(1)), Some(dir.join("old.pdf")));
        assert_eq!(f.picked(Some(0)), None, "one choice per pick");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
