//! What monitoring reads: `/metrics` (Prometheus), `/healthz` (the process answers) and
//! `/readyz` (it can do its work: the database takes writes, the hub runs, TURN is up
//! when configured). `/healthz` and `/readyz` are on the public port too; all three on
//! the `[metrics] listen` address, plain HTTP, for a monitoring system on loopback or
//! its own network.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use crate::metrics::{self, Snapshot};

/// The monitoring address's routes.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

/// The process is up and answering.
pub async fn healthz() -> &'static str {
    "ok"
}

/// 200 `ready` when the relay can pair and audit; 503 with what is wrong otherwise, one
/// problem a line (no secrets: the database's own message is logged, not sent).
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    let mut problems = Vec::new();
    if let Err(e) = state.store.writable().await {
        tracing::warn!(error = %e, "readiness: the database does not take writes");
        problems.push("database: not writable");
    }
    if state.hub.stats().await.is_none() {
        problems.push("signaling: stopped");
    }
    if state.turn_enabled && state.turn.is_none() {
        problems.push("turn: not running");
    }
    if *state.shutdown.borrow() {
        problems.push("shutting down");
    }
    if problems.is_empty() {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        let mut body = problems.join("\n");
        body.push('\n');
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

/// Every metric, read now.
async fn scrape(State(state): State<Arc<AppState>>) -> Response {
    let hub = state.hub.stats().await;
    let web_sessions = state.auth_state().sessions.len();
    let registry = state.turn.as_ref().map(|t| t.registry());
    let body = state.metrics.render(&Snapshot {
        hub,
        turn: registry.as_ref().map(|r| &r.stats),
        audit_write_errors: state.store.audit_write_errors(),
        web_sessions,
        resident_memory_bytes: metrics::resident_memory_bytes(),
    });
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], body).into_response()
}
