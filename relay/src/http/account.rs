//! Sign-in, sign-out, "who am I" and set-password routes, with the session cookie and
//! CSRF rules. The decisions (lock-out, sessions, password policy) live in `auth`; this
//! file only moves them to and from HTTP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::auth::attempts::{Attempts, Refusal, Ticket};
use crate::auth::forms::{LoginForm, PasswordForm};
use crate::auth::lockout::Shared;
use crate::auth::{self, password};
use crate::metrics::SignIn;
use crate::signaling::caseworker::SignInCheck;
use crate::store::accounts::Account;
use crate::store::audit::{AuditEvent, Record};
use crate::store::relays::SignInCount;
use crate::store::time::unix_now;

/// The session cookie's name.
pub use crate::auth::forms::COOKIE;
/// The header carrying the CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An HTTP failure with a stable code the viewer translates.
#[derive(Debug)]
pub enum AppError {
    /// 400: a field is missing, malformed or too long.
    BadRequest(&'static str),
    /// 401: not signed in, or wrong login or password.
    Unauthorized(&'static str),
    /// 403: signed in but not allowed (missing CSRF token, disabled, foreign origin).
    Forbidden(&'static str),
    /// 429: locked out for this many seconds.
    Locked(u64),
    /// 429: another sign-in for this login or address is being checked, or every core
    /// is hashing; try again in a second.
    Busy,
    /// 503: the audit log cannot be written.
    AuditDown,
    /// 500: logged here, never detailed to the client.
    Internal(String),
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            AppError::BadRequest(code) => (StatusCode::BAD_REQUEST, json!({ "error": code })),
            AppError::Unauthorized(code) => (StatusCode::UNAUTHORIZED, json!({ "error": code })),
            AppError::Forbidden(code) => (StatusCode::FORBIDDEN, json!({ "error": code })),
            AppError::Locked(secs) => (
                StatusCode::TOO_MANY_REQUESTS,
                json!({ "error": "locked", "wait_secs": secs }),
            ),
            AppError::Busy => (
                StatusCode::TOO_MANY_REQUESTS,
                json!({ "error": "busy", "wait_secs": 1 }),
            ),
            AppError::AuditDown => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "error": "audit_unavailable" }),
            ),
            AppError::Internal(cause) => {
                tracing::error!(%cause, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "error": "internal" }),
                )
            }
        };
        (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        AppError::Internal(e.to_string())
    }
}

/// The cookie value of `__Host-acote_session`, if sent (see [`auth::forms::session_cookie`]).
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    auth::forms::session_cookie(
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
}

fn set_cookie(token: &str) -> HeaderValue {
    let v = format!("{COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static(
        "__Host-acote_session=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0",
    )
}

/// The signed-in caseworker behind a request's cookie, if the session is alive and the
/// account still enabled. Also used by the WebSocket upgrade.
pub async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(Account, auth::sessions::WebSession)>, AppError> {
    match session_cookie(headers) {
        Some(token) => signed_in_token(state, &token).await,
        None => Ok(None),
    }
}

/// [`signed_in`] for a cookie value.
async fn signed_in_token(
    state: &AppState,
    token: &str,
) -> Result<Option<(Account, auth::sessions::WebSession)>, AppError> {
    let token = token.to_string();
    let hash = auth::token_hash(&token);
    if !state.auth_state().sessions.knows(&token) {
        // Not in memory: perhaps signed in before a restart of the relay.
        restore_session(state, &hash).await?;
    }
    let session = state.auth_state().sessions.touch(Instant::now(), &token);
    let Some(session) = session else {
        state.store.forget_web_session(&hash).await?;
        return Ok(None);
    };
    state.store.touch_web_session(&hash, unix_now()).await?;
    match state.store.account(&session.login).await? {
        Some(account) if !account.disabled && account.password_hash.is_some() => {
            Ok(Some((account, session)))
        }
        _ => {
            end_session(state, &token).await?;
            state.signed_out(&session.login);
            Ok(None)
        }
    }
}

/// How a caseworker's signaling socket checks, again and again, that its caseworker is
/// still signed in: the cookie it was opened with must still have a live session, of
/// the same login, on an enabled account with a password.
pub struct ViewerCheck {
    /// The shared state.
    pub state: Arc<AppState>,
    /// The cookie value presented at the upgrade (compared hashed, never logged).
    pub token: String,
    /// Whose it was.
    pub login: String,
}

#[async_trait::async_trait]
impl SignInCheck for ViewerCheck {
    fn login(&self) -> &str {
        &self.login
    }

    /// The session must be alive (this counts as activity) and the account usable; a
    /// store failure answers no.
    async fn may_redeem(&self) -> bool {
        match signed_in_token(&self.state, &self.token).await {
            Ok(Some((account, _))) => account.login == self.login,
            Ok(None) => false,
            Err(_) => false,
        }
    }

    /// The session must still exist (an open socket is not idleness) and the account be
    /// usable; a store failure answers yes.
    async fn still_signed_in(&self) -> bool {
        if !self.state.auth_state().sessions.knows(&self.token) {
            return false;
        }
        match self.state.store.account(&self.login).await {
            Ok(Some(a)) => !a.disabled && a.password_hash.is_some(),
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "cannot check a caseworker's account");
                true
            }
        }
    }
}

/// Reads a web session back from the store into memory, ages included.
async fn restore_session(state: &AppState, hash: &str) -> Result<(), AppError> {
    let Some(row) = state.store.web_session(hash).await? else {
        return Ok(());
    };
    let now = unix_now();
    let secs = |t: i64| std::time::Duration::from_secs(u64::try_from(now - t).unwrap_or(0));
    state.auth_state().sessions.restore(
        Instant::now(),
        row.token_hash,
        row.login,
        row.csrf,
        secs(row.created_at),
        secs(row.last_seen_at),
    );
    Ok(())
}

/// Ends the web session of a cookie value, in memory and in the store.
async fn end_session(state: &AppState, token: &str) -> Result<(), AppError> {
    state.auth_state().sessions.remove(token);
    state
        .store
        .forget_web_session(&auth::token_hash(token))
        .await?;
    Ok(())
}

pub(super) async fn audit(state: &AppState, record: Record) -> Result<(), AppError> {
    // Sign-ins are counted here, where each outcome is recorded (a lock-out where it is
    // decided: its records are thinned out).
    match record.event {
        AuditEvent::LoginOk => state.metrics.sign_in(SignIn::Ok),
        AuditEvent::LoginFailed => state.metrics.sign_in(SignIn::Failed),
        _ => {}
    }
    state.store.append(unix_now(), &record).await.map_err(|e| {
        tracing::error!(error = %e, "cannot write to the audit log");
        AppError::AuditDown
    })?;
    Ok(())
}

fn me_body(account: &Account, csrf: &str) -> Json<serde_json::Value> {
    Json(json!({
        "login": account.login,
        "name": account.display_name,
        "site": account.site,
        "csrf": csrf,
    }))
}

/// `GET /api/me`: who is signed in (and their CSRF token), or 401.
pub async fn me(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    match signed_in(&state, &headers).await? {
        Some((account, session)) => Ok((
            [(header::CACHE_CONTROL, "no-store")],
            me_body(&account, &session.csrf),
        )
            .into_response()),
        None => Err(AppError::Unauthorized("signed_out")),
    }
}

/// A sign-in attempt being checked; dropping it lets the next one for that login and
/// address go, whatever path the handler leaves by.
struct InFlight<'a> {
    state: &'a AppState,
    ticket: Option<Ticket>,
}

impl InFlight<'_> {
    /// The password matched.
    fn succeeded(&self) {
        if let Some(t) = &self.ticket {
            self.state.auth_state().attempts.succeeded(t);
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(t) = self.ticket.take() {
            self.state.auth_state().attempts.finish(t);
        }
    }
}

/// With relays sharing a PostgreSQL database: takes in their counts of the keys an
/// attempt of `login` from `addr` touches, so a guesser spreading tries over relays is
/// counted as one. Nothing to do on SQLite (one relay).
pub(super) async fn pull_counts(state: &AppState, login: &str, addr: std::net::IpAddr) {
    if state.store.backend() != crate::store::Backend::Postgres {
        return;
    }
    let counts = Attempts::counts_of(login, addr);
    let keys: Vec<(&str, &str)> = counts
        .iter()
        .map(|(c, k)| (c.as_str(), k.as_str()))
        .collect();
    let shared = match state.store.sign_in_counts(&keys).await {
        Ok(shared) => shared,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the sign-in counts of the other relays");
            return;
        }
    };
    let (now, now_unix) = (Instant::now(), unix_now());
    let mut auth = state.auth_state();
    for ((count, key), row) in counts.iter().zip(shared) {
        if let Some(row) = row {
            let shared = Shared {
                failures: u32::try_from(row.failures).unwrap_or(u32::MAX),
                last: row.last_at,
                locked_until: row.locked_until,
            };
            auth.attempts.import(*count, key, shared, now, now_unix);
        }
    }
}

/// ...and gives them this relay's counts of those keys after an attempt changed them.
pub(super) async fn push_counts(state: &AppState, login: &str, addr: std::net::IpAddr) {
    if state.store.backend() != crate::store::Backend::Postgres {
        return;
    }
    let counts = Attempts::counts_of(login, addr);
    let (now, now_unix) = (Instant::now(), unix_now());
    let values: Vec<Option<SignInCount>> = {
        let mut auth = state.auth_state();
        counts
            .iter()
            .map(|(count, key)| {
                auth.attempts
                    .export(*count, key, now, now_unix)
                    .map(|s| SignInCount {
                        failures: i64::from(s.failures),
                        last_at: s.last,
                        locked_until: s.locked_until,
                    })
            })
            .collect()
    };
    let rows: Vec<(&str, &str, Option<SignInCount>)> = counts
        .iter()
        .zip(values)
        .map(|((c, k), v)| (c.as_str(), k.as_str(), v))
        .collect();
    if let Err(e) = state.store.save_sign_in_counts(&rows).await {
        tracing::warn!(error = %e, "cannot share the sign-in counts with the other relays");
    }
}

/// `POST /api/login`: checks the password (with lock-out), rotates the session cookie.
pub async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(form): Json<LoginForm>,
) -> Result<Response, AppError> {
    let login = form.check().map_err(|e| AppError::BadRequest(e.code()))?;
    // A place for the hash first: when every core is hashing, the excess is refused at
    // once rather than queued (and is not counted as a failure).
    let Ok(place) = state.hashing.clone().try_acquire_owned() else {
        return Err(AppError::Busy);
    };
    // Counted as a failure before the hash, and alone for this login and this address
    // while it is checked: attempts sent together cannot all pass the lock-out.
    let source = crate::conn_limit::source_key(peer.ip());
    pull_counts(&state, &login, source).await;
    let begun = state
        .auth_state()
        .attempts
        .begin(Instant::now(), &login, source);
    if begun.is_ok() {
        // Counted before the check: the other relays see this failure at once.
        push_counts(&state, &login, source).await;
    }
    let ticket = match begun {
        Ok(ticket) => InFlight {
            state: &state,
            ticket: Some(ticket),
        },
        Err(Refusal::Busy) => return Err(AppError::Busy),
        Err(Refusal::Locked(wait)) => {
            state.metrics.sign_in(SignIn::Locked);
            let secs = wait.as_secs().max(1);
            // Unauthenticated: written (and synced) once a minute per login and address
            // and thirty a minute in all; the rest are counted into the next record.
            let report = state.auth_state().attempts.report_refusal(
                Instant::now(),
                &login,
                crate::conn_limit::source_key(peer.ip()),
            );
            if let Some(unwritten) = report {
                let record = Record::new(AuditEvent::LoginLocked)
                    .actor(&acote_proto::Redacted(&login).to_string())
                    .with("addr", peer.ip())
                    .with("wait_s", secs)
                    .with("unwritten_before", unwritten);
                audit(&state, record).await?;
            }
            return Err(AppError::Locked(secs));
        }
    };
    let account = state.store.account(&login).await?;
    let hash = account.as_ref().and_then(|a| a.password_hash.clone());
    let password = form.password;
    let matches = tokio::task::spawn_blocking(move || {
        let _place = place;
        password::verify(&password, hash.as_deref())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let known = account.is_some();
    let Some(account) = account.filter(|_| matches) else {
        drop(ticket);
        state.store.count_failed_login(&login).await?;
        // A login no account has is whatever a stranger typed, perhaps a password in
        // the wrong field: only its first character and length are kept.
        let actor = if known {
            login.clone()
        } else {
            acote_proto::Redacted(&login).to_string()
        };
        audit(
            &state,
            Record::new(AuditEvent::LoginFailed)
                .actor(&actor)
                .with("addr", peer.ip()),
        )
        .await?;
        tracing::info!(login = %acote_proto::Redacted(&login), "sign-in refused");
        return Err(AppError::Unauthorized("bad_credentials"));
    };
    // With a passkey to ask for, the failure counted in advance stands until it answers.
    let second = super::passkey::second_step(&state, &account).await?;
    if second.is_none() {
        ticket.succeeded();
    }
    drop(ticket);
    push_counts(&state, &login, source).await;
    if account.disabled {
        audit(
            &state,
            Record::new(AuditEvent::LoginFailed)
                .actor(&login)
                .with("reason", "disabled"),
        )
        .await?;
        return Err(AppError::Forbidden("account_disabled"));
    }
    if let Some(second) = second {
        return super::passkey::ask(&state, &account, peer.ip(), second).await;
    }
    open_session(&state, &headers, &account, peer.ip(), "password").await
}

/// Signs `account` in from `addr` (the checks are done): audit record, a new session
/// and its cookie, the old one of this browser ended.
pub(super) async fn open_session(
    state: &AppState,
    headers: &HeaderMap,
    account: &Account,
    addr: std::net::IpAddr,
    method: &str,
) -> Result<Response, AppError> {
    let login = account.login.clone();
    audit(
        state,
        Record::new(AuditEvent::LoginOk)
            .actor(&login)
            .with("addr", addr)
            .with("method", method),
    )
    .await?;
    state.store.record_login(&login, unix_now()).await?;
    let (token, csrf) = (auth::new_token(), auth::new_token());
    state
        .auth_state()
        .sessions
        .create(Instant::now(), &login, &token, csrf.clone());
    // Rotation: whatever session this browser had is ended, a new cookie is issued.
    if let Some(old) = session_cookie(headers) {
        end_session(state, &old).await?;
    }
    let now = unix_now();
    let row = crate::store::carry_over::WebSessionRow {
        token_hash: auth::token_hash(&token),
        login: login.clone(),
        csrf: csrf.clone(),
        created_at: now,
        last_seen_at: now,
    };
    let idle = i64::try_from(auth::sessions::IDLE_TIMEOUT.as_secs()).unwrap_or(i64::MAX);
    let max = i64::try_from(auth::sessions::MAX_AGE.as_secs()).unwrap_or(i64::MAX);
    state
        .store
        .save_web_session(&row, now.saturating_sub(idle), now.saturating_sub(max))
        .await?;
    let mut response = me_body(account, &csrf).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&token));
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The signed-in account behind a state-changing request, its CSRF token checked.
pub(super) async fn signed_in_csrf(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(Account, String), AppError> {
    let Some((account, session)) = signed_in(state, headers).await? else {
        return Err(AppError::Unauthorized("signed_out"));
    };
    let presented = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !session.csrf_ok(presented) {
        return Err(AppError::Forbidden("csrf"));
    }
    let cookie = session_cookie(headers).unwrap_or_default();
    Ok((account, cookie))
}

/// `POST /api/logout`: needs the session and its CSRF token.
pub async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (account, cookie) = signed_in_csrf(&state, &headers).await?;
    end_session(&state, &cookie).await?;
    // Its signaling sockets close too: a signed-out caseworker redeems nothing.
    state.signed_out(&account.login);
    audit(
        &state,
        Record::new(AuditEvent::Logout).actor(&account.login),
    )
    .await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, clear_cookie())],
    )
        .into_response())
}

/// `POST /api/password`: sets a password with a one-time link's token.
pub async fn set_password(
    State(state): State<Arc<AppState>>,
    Json(form): Json<PasswordForm>,
) -> Result<Response, AppError> {
    if form.check().is_err() {
        return Err(AppError::BadRequest("link_invalid"));
    }
    let token_hash = auth::token_hash(&form.token);
    let Some(login) = state
        .store
        .login_for_setup_token(&token_hash, unix_now())
        .await?
    else {
        return Err(AppError::BadRequest("link_invalid"));
    };
    if let Err(e) = password::check_policy(&form.password, &login) {
        return Err(AppError::BadRequest(e.code()));
    }
    let Ok(place) = state.hashing.clone().try_acquire_owned() else {
        return Err(AppError::Busy);
    };
    let password = form.password;
    let hash = tokio::task::spawn_blocking(move || {
        let _place = place;
        password::hash(&password)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    match state
        .store
        .set_password_with_token(&token_hash, &hash, unix_now())
        .await
    {
        Ok(login) => {
            // Whoever held a session of this account before the reset holds none now.
            state.auth_state().sessions.remove_login(&login);
            state.store.forget_web_sessions_of(&login).await?;
            state.signed_out(&login);
            audit(&state, Record::new(AuditEvent::PasswordSet).actor(&login)).await?;
            // The link vouches for the caseworker: when passkeys are required, the same
            // page enrols the first one.
            if state.passkeys_required
                && let Some(Ok(ticket)) =
                    state.passkeys_state(|p| p.issue_ticket(Instant::now(), &login))
            {
                return Ok(Json(json!({ "enrol": ticket })).into_response());
            }
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Err(crate::store::StoreError::BadSetupToken) => Err(AppError::BadRequest("link_invalid")),
        Err(e) => Err(e.into()),
    }
}
