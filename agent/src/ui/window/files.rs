//! The files window's glue: the IO-free [`Files`](super::Files) model's view copied into
//! the Slint `FilesWindow`, and the resident's presses turned into [`UiEvent`]s.

use slint::{ComponentHandle, LogicalPosition, ModelRc, SharedString, VecModel};

use super::{App, FileRow, FilesView, FilesWindow, UiEvent, keep_on_top, later};
use crate::ui::files::{recent_files, usual_folders};

/// The files window's size (ui/window.slint).
const FILES_SIZE: (f32, f32) = (560.0, 600.0);

impl App {
    /// The resident pressed Files: the window comes up, in front.
    pub(super) fn on_files_button(&mut self) {
        self.files_shown = None;
        if let Some(w) = self.files_window.take() {
            let _ = w.hide();
        }
        self.files.open();
        self.render();
    }

    fn on_files_answer(&mut self, yes: bool) {
        if !self.files.is_asking() {
            return;
        }
        self.files.answered(yes);
        self.send(UiEvent::SaveFile(yes));
        self.render();
    }

    fn on_files_send(&mut self) {
        // A short listing of a few folders: quick enough for the UI thread.
        self.files.pick(recent_files(&usual_folders()));
        self.render();
    }

    fn on_files_picked(&mut self, index: Option<usize>) {
        if let Some(path) = self.files.picked(index) {
            self.send(UiEvent::SendFile(path));
        }
        self.render();
    }

    fn on_files_open_folder(&mut self) {
        if let Some(dir) = crate::files::Downloads::folder() {
            crate::platform::open_folder(&dir);
        }
    }

    fn on_files_close(&mut self) {
        self.files.close();
        self.render();
    }

    pub(super) fn show_files(&mut self, files: &FilesView) {
        if self.files_window.is_none() {
            match self.new_files() {
                Ok(w) => self.files_window = Some(w),
                Err(e) => {
                    tracing::error!(error = %e, "cannot open the files window");
                    return;
                }
            }
        }
        let Some(w) = &self.files_window else { return };
        if self.files_shown.as_ref() == Some(files) {
            return;
        }
        self.files_shown = Some(files.clone());
        let rows: Vec<FileRow> = files
            .rows
            .iter()
            .map(|r| FileRow {
                title: r.title.as_str().into(),
                detail: r.detail.as_str().into(),
                permille: r.permille,
                failed: r.failed,
                rtl: r.rtl,
            })
            .collect();
        let candidates: Vec<SharedString> =
            files.candidates.iter().map(|c| c.as_str().into()).collect();
        w.set_rtl(self.strings.lang().is_rtl());
        w.set_heading(files.title.as_str().into());
        w.set_question(files.question.as_str().into());
        w.set_save_text(files.save.as_str().into());
        w.set_skip_text(files.skip.as_str().into());
        w.set_empty(files.empty.as_str().into());
        w.set_rows(ModelRc::new(VecModel::from(rows)));
        w.set_send_text(files.send.as_str().into());
        w.set_open_text(files.open_folder.as_str().into());
        w.set_close_text(files.close.as_str().into());
        w.set_picking(files.picking);
        w.set_pick_title(files.pick_title.as_str().into());
        w.set_pick_empty(files.pick_empty.as_str().into());
        w.set_candidates(ModelRc::new(VecModel::from(candidates)));
        w.set_back_text(files.back.as_str().into());
    }

    fn new_files(&self) -> Result<FilesWindow, slint::PlatformError> {
        let w = FilesWindow::new()?;
        w.on_answer(|yes| later(move |app| app.on_files_answer(yes)));
        w.on_send_clicked(|| later(App::on_files_send));
        w.on_open_clicked(|| later(App::on_files_open_folder));
        w.on_close_clicked(|| later(App::on_files_close));
        w.on_picked(|i| later(move |app| app.on_files_picked(usize::try_from(i).ok())));
        w.on_back_clicked(|| later(|app| app.on_files_picked(None)));
        w.window().on_close_requested(|| {
            later(App::on_files_close);
            slint::CloseRequestResponse::KeepWindowShown
        });
        // Under the bar, at the screen's other end from the chat window.
        let (sw, _) = self.screen_size.unwrap_or((1024, 768));
        let edge = f32::from(crate::ui::border::THICKNESS) + 4.0;
        let x = if self.strings.lang().is_rtl() {
            (f32::from(sw) - FILES_SIZE.0 - edge).max(0.0)
        } else {
            edge
        };
        let y = edge + super::BAR_SIZE.1 + 8.0;
        w.window().set_position(LogicalPosition::new(x, y));
        w.show()?;
        keep_on_top(w.as_weak(), |w: &FilesWindow, on| w.set_on_top(on));
        Ok(w)
    }
}
