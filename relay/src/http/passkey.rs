//! Passkey routes (issue 16 item 11): the second step of a sign-in, and a signed-in
//! caseworker's list of passkeys (enrol, remove). The ceremonies themselves are in
//! `auth::passkeys`; this file moves them to and from HTTP and the store, and writes the
//! audit records (`passkey_added`, `passkey_removed`, `login_ok method=passkey`; never a
//! key, a challenge or a token).
//!
//! `POST /api/login` answers an account with a passkey (or any account when the site
//! requires them) with `{"passkey": TOKEN, "options": …}` and no cookie; the browser
//! asks its authenticator and sends `POST /api/passkey/sign-in {token, credential}`.
//! When the site requires passkeys, a password set from an admin's link (`caseworker
//! add` or `reset`) comes back with `{"enrol": TICKET}`: that page enrols the first
//! passkey with the ticket in `x-enrol-ticket` instead of a session.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use webauthn_rs::prelude::{Passkey, PublicKeyCredential, RegisterPublicKeyCredential};

use super::AppState;
use super::account::{AppError, audit, open_session, signed_in, signed_in_csrf};
use crate::auth::passkeys::PasskeyError;
use crate::store::accounts::Account;
use crate::store::audit::{AuditEvent, Record};
use crate::store::passkeys::PasskeyRow;
use crate::store::time::unix_now;

/// Passkeys an account may hold.
pub const MAX_PER_ACCOUNT: usize = 10;

/// What the password step found the account needs next.
pub(super) enum Second {
    /// Its passkeys (at least one): ask for one.
    Passkeys(Vec<Passkey>),
    /// The site requires a passkey and the account has none.
    Missing,
    /// It has passkeys but the relay cannot check them (no usable relying party id).
    Unavailable,
}

fn decode(rows: &[PasskeyRow]) -> Vec<Passkey> {
    rows.iter()
        .filter_map(|r| serde_json::from_str(&r.passkey).ok())
        .collect()
}

/// After a matching password: whether a passkey must follow.
pub(super) async fn second_step(
    state: &AppState,
    account: &Account,
) -> Result<Option<Second>, AppError> {
    let rows = state.store.passkeys(&account.login).await?;
    let required = state.passkeys_required;
    Ok(match (&state.passkeys, rows.is_empty()) {
        (None, true) if required => Some(Second::Unavailable),
        (None, true) => None,
        (None, false) => Some(Second::Unavailable),
        (Some(_), true) if required => Some(Second::Missing),
        (Some(_), true) => None,
        (Some(_), false) => Some(Second::Passkeys(decode(&rows))),
    })
}

/// Answers a matching password with the passkey challenge (or the reason there is none).
pub(super) async fn ask(
    state: &AppState,
    account: &Account,
    addr: IpAddr,
    second: Second,
) -> Result<Response, AppError> {
    let refuse = |reason: &'static str| {
        Record::new(AuditEvent::LoginFailed)
            .actor(&account.login)
            .with("addr", addr)
            .with("reason", reason)
    };
    match second {
        Second::Missing => {
            audit(state, refuse("passkey_missing")).await?;
            Err(AppError::Forbidden("passkey_required"))
        }
        Second::Unavailable => {
            audit(state, refuse("passkey_unavailable")).await?;
            Err(AppError::Forbidden("passkey_unavailable"))
        }
        Second::Passkeys(creds) => {
            let begun = state
                .passkeys_state(|p| p.begin_sign_in(Instant::now(), &account.login, addr, &creds));
            let (token, options) = match begun {
                Some(Ok(b)) => b,
                Some(Err(PasskeyError::Busy)) => return Err(AppError::Busy),
                Some(Err(e)) => return Err(AppError::Internal(e.to_string())),
                None => return Err(AppError::Forbidden("passkey_unavailable")),
            };
            Ok(no_store(Json(
                json!({ "passkey": token, "options": options }),
            )))
        }
    }
}

fn no_store(body: impl IntoResponse) -> Response {
    ([(axum::http::header::CACHE_CONTROL, "no-store")], body).into_response()
}

/// `POST /api/passkey/sign-in` body.
#[derive(Deserialize)]
pub struct SignInForm {
    /// The token `POST /api/login` gave.
    token: String,
    /// The authenticator's answer, as the browser serialised it.
    credential: PublicKeyCredential,
}

/// `POST /api/passkey/sign-in`: the second step; on success, the session cookie.
pub async fn sign_in(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(form): Json<SignInForm>,
) -> Result<Response, AppError> {
    let taken = state.passkeys_state(|p| p.take_sign_in(Instant::now(), &form.token));
    let Some(Ok(pending)) = taken else {
        // Unknown, used or expired: a replay lands here.
        tracing::info!("passkey sign-in refused: no such ceremony");
        return Err(AppError::Unauthorized("passkey_failed"));
    };
    let account = state.store.account(&pending.login).await?;
    let rows = state.store.passkeys(&pending.login).await?;
    let creds = decode(&rows);
    let checked = state.passkeys_state(|p| p.finish_sign_in(&pending, &form.credential, &creds));
    let (Some(account), Some(Ok(used))) = (account, checked) else {
        // The failure counted for the password step stands.
        state.store.count_failed_login(&pending.login).await?;
        audit(
            &state,
            Record::new(AuditEvent::LoginFailed)
                .actor(&pending.login)
                .with("addr", peer.ip())
                .with("reason", "passkey"),
        )
        .await?;
        tracing::info!(login = %acote_proto::Redacted(&pending.login), "passkey sign-in refused");
        return Err(AppError::Unauthorized("passkey_failed"));
    };
    if account.disabled || account.password_hash.is_none() {
        return Err(AppError::Forbidden("account_disabled"));
    }
    state
        .auth_state()
        .attempts
        .passkey_succeeded(&pending.login, pending.addr);
    super::account::push_counts(&state, &pending.login, pending.addr).await;
    if let Some(row) = rows.iter().find(|r| r.cred_id == cred_id_text(&used)) {
        let text = serde_json::to_string(&used).map_err(|e| AppError::Internal(e.to_string()))?;
        state.store.passkey_used(row.id, &text, unix_now()).await?;
    }
    open_session(&state, &headers, &account, peer.ip(), "passkey").await
}

/// A credential id as the store keys it: base64url without padding.
fn cred_id_text(p: &Passkey) -> String {
    use base64::Engine;
    base64::prelude::BASE64_URL_SAFE_NO_PAD.encode(p.cred_id().as_ref() as &[u8])
}

/// The header carrying the enrolment ticket that `POST /api/password` hands the page of
/// a set-password link when the site requires passkeys.
pub const ENROL_TICKET: &str = "x-enrol-ticket";

/// Who enrols: the page of a set-password link with its ticket, or a signed-in
/// caseworker (CSRF token checked). Returns the account and the key of its ceremony.
async fn enroller(state: &AppState, headers: &HeaderMap) -> Result<(Account, String), AppError> {
    let Some(ticket) = headers.get(ENROL_TICKET).and_then(|v| v.to_str().ok()) else {
        return signed_in_csrf(state, headers).await;
    };
    let login = state
        .passkeys_state(|p| p.ticket_login(Instant::now(), ticket))
        .flatten()
        .ok_or(AppError::Unauthorized("signed_out"))?;
    match state.store.account(&login).await? {
        Some(a) if !a.disabled => Ok((a, ticket.to_string())),
        _ => Err(AppError::Unauthorized("signed_out")),
    }
}

fn list_body(state: &AppState, rows: &[PasskeyRow]) -> Response {
    let keys: Vec<_> = rows
        .iter()
        .map(|r| json!({ "id": r.id, "created_at": r.created_at, "last_used_at": r.last_used_at }))
        .collect();
    no_store(Json(json!({
        "available": state.passkeys.is_some(),
        "required": state.passkeys_required,
        "passkeys": keys,
    })))
}

/// `GET /api/passkeys`: the signed-in caseworker's passkeys (ids and dates only).
pub async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some((account, _)) = signed_in(&state, &headers).await? else {
        return Err(AppError::Unauthorized("signed_out"));
    };
    let rows = state.store.passkeys(&account.login).await?;
    Ok(list_body(&state, &rows))
}

/// `POST /api/passkeys/enrol/begin`: the options for the browser's `create()`.
pub async fn enrol_begin(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (account, cookie) = enroller(&state, &headers).await?;
    let rows = state.store.passkeys(&account.login).await?;
    if rows.len() >= MAX_PER_ACCOUNT {
        return Err(AppError::BadRequest("too_many_passkeys"));
    }
    let existing = decode(&rows).iter().map(|p| p.cred_id().clone()).collect();
    let begun = state.passkeys_state(|p| {
        p.begin_enrolment(
            Instant::now(),
            &cookie,
            &account.login,
            account.id,
            &account.display_name,
            existing,
        )
    });
    match begun {
        Some(Ok(options)) => Ok(no_store(Json(json!({ "options": options })))),
        Some(Err(PasskeyError::Busy)) => Err(AppError::Busy),
        Some(Err(e)) => Err(AppError::Internal(e.to_string())),
        None => Err(AppError::Forbidden("passkey_unavailable")),
    }
}

/// `POST /api/passkeys/enrol/finish` body.
#[derive(Deserialize)]
pub struct EnrolForm {
    /// The authenticator's answer to `create()`.
    credential: RegisterPublicKeyCredential,
}

/// `POST /api/passkeys/enrol/finish`: checks and stores the new passkey.
pub async fn enrol_finish(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(form): Json<EnrolForm>,
) -> Result<Response, AppError> {
    let (account, cookie) = enroller(&state, &headers).await?;
    let finished = state.passkeys_state(|p| {
        p.finish_enrolment(Instant::now(), &cookie, &account.login, &form.credential)
    });
    let passkey = match finished {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            tracing::info!(error = %e, "passkey enrolment refused");
            return Err(AppError::BadRequest("passkey_failed"));
        }
        None => return Err(AppError::Forbidden("passkey_unavailable")),
    };
    let text = serde_json::to_string(&passkey).map_err(|e| AppError::Internal(e.to_string()))?;
    let now = unix_now();
    if !state
        .store
        .add_passkey(&account.login, &cred_id_text(&passkey), &text, now)
        .await?
    {
        return Err(AppError::BadRequest("passkey_known"));
    }
    if headers.contains_key(ENROL_TICKET) {
        state.passkeys_state(|p| p.burn_ticket(&cookie));
    }
    audit(
        &state,
        Record::new(AuditEvent::PasskeyAdded).actor(&account.login),
    )
    .await?;
    let rows = state.store.passkeys(&account.login).await?;
    Ok(list_body(&state, &rows))
}

/// `POST /api/passkeys/remove` body.
#[derive(Deserialize)]
pub struct RemoveForm {
    /// The passkey's id, as `GET /api/passkeys` lists it.
    id: i64,
}

/// `POST /api/passkeys/remove`: removes one of the caseworker's passkeys. When the site
/// requires passkeys, the last one stays (removing it would lock the account out).
pub async fn remove(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(form): Json<RemoveForm>,
) -> Result<Response, AppError> {
    let (account, _) = signed_in_csrf(&state, &headers).await?;
    let rows = state.store.passkeys(&account.login).await?;
    if state.passkeys_required && rows.len() == 1 && rows[0].id == form.id {
        return Err(AppError::BadRequest("last_passkey"));
    }
    if !state.store.remove_passkey(&account.login, form.id).await? {
        return Err(AppError::BadRequest("unknown_passkey"));
    }
    audit(
        &state,
        Record::new(AuditEvent::PasskeyRemoved).actor(&account.login),
    )
    .await?;
    let rows = state.store.passkeys(&account.login).await?;
    Ok(list_body(&state, &rows))
}

impl AppState {
    /// Runs `f` on the passkey ceremonies, if the relay can check passkeys. The lock
    /// is never held across an `.await`.
    pub(crate) fn passkeys_state<T>(
        &self,
        f: impl FnOnce(&mut crate::auth::passkeys::Passkeys) -> T,
    ) -> Option<T> {
        let p = self.passkeys.as_ref()?;
        let mut guard = p.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        Some(f(&mut guard))
    }
}
