//! The viewer's files, embedded at compile time so the relay is one binary.

use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use include_dir::{Dir, include_dir};

static VIEWER: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../viewer");

/// Serves `/` as the viewer page and other paths from the viewer folder.
pub async fn serve(uri: Uri) -> Response {
    let path = uri.path().trim_start_matches('/');
    let path = match path {
        "" => "index.html",
        "set-password" => "set-password.html",
        other => other,
    };
    // Only the app itself: not its tests or notes that live in the same folder.
    let public = path == "index.html"
        || path == "set-password.html"
        || path == "style.css"
        || path.starts_with("src/")
        || path.starts_with("fonts/");
    match VIEWER
        .get_file(path)
        .filter(|_| public && !path.contains(".."))
    {
        Some(file) => (
            [
                (header::CONTENT_TYPE, content_type(path)),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            file.contents(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("woff2") => "font/woff2",
        _ => "application/octet-stream",
    }
}
