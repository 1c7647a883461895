//! Issue 16 item 11: passkeys (WebAuthn) after the password, driven through the axum
//! `Router` (`oneshot`) with a software authenticator (`passkey/soft.rs`): enrolment,
//! sign-in, and the error paths (an answer to another challenge, a replayed answer, an
//! unknown credential, a required passkey missing, failed passkeys locking out as wrong
//! passwords do, a reset clearing the passkeys).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

#[path = "passkey/soft.rs"]
mod soft;

use std::net::SocketAddr;
use std::sync::Arc;

use acote_relay::Relay;
use acote_relay::config::Config;
use acote_relay::http::{AppState, app};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::json;
use soft::SoftKey;
use tower::ServiceExt;

const PASSWORD: &str = "cheval agrafe batterie";
const HOST: &str = "localhost:8443";
const ORIGIN: &str = "https://localhost:8443";
const RP_ID: &str = "localhost";

struct Setup {
    state: Arc<AppState>,
    dir: std::path::PathBuf,
    _relay: Relay,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn setup(name: &str, extra: &str) -> Setup {
    let dir = std::env::temp_dir().join(format!("acote-passkey-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut config = Config::parse(&format!("[turn]\nenabled = false\n{extra}")).unwrap();
    config.server.listen = "127.0.0.1:0".parse().unwrap();
    config.server.data_dir = dir.clone();
    let relay = Relay::start(&config).await.unwrap();
    let hash = acote_relay::auth::password::hash(PASSWORD).unwrap();
    for login in ["marie", "paul"] {
        relay
            .store()
            .add_account(
                login,
                "Marie Dupont",
                "CHRS Les Lilas",
                Some(&hash),
                None,
                0,
            )
            .await
            .unwrap();
    }
    Setup {
        state: relay.state(),
        dir,
        _relay: relay,
    }
}

struct Reply {
    status: StatusCode,
    cookie: Option<String>,
    json: serde_json::Value,
    text: String,
}

async fn call(s: &Setup, mut req: Request<Body>) -> Reply {
    let peer: SocketAddr = "192.0.2.1:5000".parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    let res = app(s.state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Reply {
        status,
        cookie,
        json: serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
        text,
    }
}

fn post(path: &str, body: serde_json::Value, session: Option<(&str, &str)>) -> Request<Body> {
    let mut b = Request::post(path)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, ORIGIN)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some((cookie, csrf)) = session {
        b = b
            .header(header::COOKIE, cookie)
            .header("x-csrf-token", csrf);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::HOST, HOST)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap()
}

async fn password(s: &Setup, login: &str) -> Reply {
    call(
        s,
        post(
            "/api/login",
            json!({ "login": login, "password": PASSWORD }),
            None,
        ),
    )
    .await
}

/// Signs `login` in with its password alone (it has no passkey): (cookie, csrf).
async fn signed_in(s: &Setup, login: &str) -> (String, String) {
    let r = password(s, login).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    (
        r.cookie.unwrap(),
        r.json["csrf"].as_str().unwrap().to_string(),
    )
}

/// Enrols `key` on the signed-in session.
async fn enrol(s: &Setup, session: (&str, &str), key: &SoftKey) -> Reply {
    let begun = call(
        s,
        post("/api/passkeys/enrol/begin", json!({}), Some(session)),
    )
    .await;
    assert_eq!(begun.status, StatusCode::OK, "{}", begun.text);
    let answer = key.create(&begun.json["options"], RP_ID, ORIGIN);
    call(
        s,
        post(
            "/api/passkeys/enrol/finish",
            json!({ "credential": answer }),
            Some(session),
        ),
    )
    .await
}

/// An account of `s` with `key` enrolled.
async fn with_passkey(s: &Setup, login: &str, key: &SoftKey) {
    let (cookie, csrf) = signed_in(s, login).await;
    let r = enrol(s, (&cookie, &csrf), key).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["passkeys"].as_array().unwrap().len(), 1);
}

/// The password step of an account with a passkey: (token, options).
async fn challenge(s: &Setup, login: &str) -> (String, serde_json::Value) {
    let r = password(s, login).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.cookie.is_none(), "a password alone gave a cookie");
    (
        r.json["passkey"].as_str().unwrap().to_string(),
        r.json["options"].clone(),
    )
}

async fn answer(s: &Setup, token: &str, credential: &serde_json::Value) -> Reply {
    call(
        s,
        post(
            "/api/passkey/sign-in",
            json!({ "token": token, "credential": credential }),
            None,
        ),
    )
    .await
}

async fn events(s: &Setup) -> Vec<String> {
    s.state
        .store
        .entries_between(0, i64::MAX)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {} {}", e.record.event, e.record.actor, e.record.detail))
        .collect()
}

#[tokio::test]
async fn issue16_11_an_enrolled_passkey_is_asked_after_the_password_and_signs_in() {
    let s = setup("happy", "").await;
    let mut key = SoftKey::new();
    with_passkey(&s, "marie", &key).await;
    let (token, options) = challenge(&s, "marie").await;
    let r = answer(&s, &token, &key.get(&options, RP_ID, ORIGIN)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let cookie = r.cookie.unwrap();
    assert_eq!(
        call(&s, get("/api/me", &cookie)).await.status,
        StatusCode::OK
    );
    let listed = call(&s, get("/api/passkeys", &cookie)).await;
    assert!(
        listed.json["passkeys"][0]["last_used_at"].is_i64(),
        "{}",
        listed.text
    );
    let log = events(&s).await;
    assert!(
        log.iter().any(|e| e.starts_with("passkey_added marie")),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|e| e.starts_with("login_ok marie") && e.contains("method=passkey")),
        "{log:?}"
    );
    // No secret in the log: neither the token nor the challenge nor the key.
    let text = log.join("\n");
    let challenge = options["publicKey"]["challenge"].as_str().unwrap();
    assert!(!text.contains(&token) && !text.contains(challenge));
    // Removing it: the password alone signs in again (the site does not require them).
    let csrf = call(&s, get("/api/me", &cookie)).await.json["csrf"]
        .as_str()
        .unwrap()
        .to_string();
    let id = listed.json["passkeys"][0]["id"].clone();
    let r = call(
        &s,
        post(
            "/api/passkeys/remove",
            json!({ "id": id }),
            Some((&cookie, &csrf)),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        events(&s)
            .await
            .iter()
            .any(|e| e.starts_with("passkey_removed marie"))
    );
    assert!(password(&s, "marie").await.cookie.is_some());
}

#[tokio::test]
async fn issue16_11_an_answer_to_another_challenge_is_refused() {
    let s = setup("wrong-challenge", "").await;
    let mut key = SoftKey::new();
    with_passkey(&s, "marie", &key).await;
    let (_first, first_options) = challenge(&s, "marie").await;
    let (second, _) = challenge(&s, "marie").await;
    let r = answer(&s, &second, &key.get(&first_options, RP_ID, ORIGIN)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
    assert_eq!(r.json["error"], "passkey_failed");
    assert!(r.cookie.is_none());
    // An enrolment answered for another challenge is refused too.
    let (cookie, csrf) = signed_in(&s, "paul").await;
    let other = SoftKey::new();
    let begun = call(
        &s,
        post(
            "/api/passkeys/enrol/begin",
            json!({}),
            Some((&cookie, &csrf)),
        ),
    )
    .await;
    let mut options = begun.json["options"].clone();
    options["publicKey"]["challenge"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let r = call(
        &s,
        post(
            "/api/passkeys/enrol/finish",
            json!({ "credential": other.create(&options, RP_ID, ORIGIN) }),
            Some((&cookie, &csrf)),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(s.state.store.passkeys("paul").await.unwrap().len(), 0);
}

#[tokio::test]
async fn issue16_11_a_replayed_answer_is_refused() {
    let s = setup("replay", "").await;
    let mut key = SoftKey::new();
    with_passkey(&s, "marie", &key).await;
    let (token, options) = challenge(&s, "marie").await;
    let credential = key.get(&options, RP_ID, ORIGIN);
    assert_eq!(answer(&s, &token, &credential).await.status, StatusCode::OK);
    // The same answer again, with its token or with a fresh one: refused.
    let again = answer(&s, &token, &credential).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{}", again.text);
    let (fresh, _) = challenge(&s, "marie").await;
    let again = answer(&s, &fresh, &credential).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{}", again.text);
    assert!(again.cookie.is_none());
}

#[tokio::test]
async fn issue16_11_an_unknown_credential_is_refused() {
    let s = setup("unknown", "").await;
    let key = SoftKey::new();
    with_passkey(&s, "marie", &key).await;
    // Paul's own passkey, or one never enrolled, cannot answer for Marie.
    let mut pauls = SoftKey::new();
    with_passkey(&s, "paul", &pauls).await;
    let mut stranger = SoftKey::new();
    for other in [&mut pauls, &mut stranger] {
        let (token, options) = challenge(&s, "marie").await;
        let r = answer(&s, &token, &other.get(&options, RP_ID, ORIGIN)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text);
        assert!(r.cookie.is_none());
    }
    assert!(
        events(&s)
            .await
            .iter()
            .any(|e| e.starts_with("login_failed marie") && e.contains("reason=passkey")),
    );
}

#[tokio::test]
async fn issue16_11_failed_passkeys_lock_out_as_wrong_passwords_do() {
    let s = setup("lockout", "").await;
    let key = SoftKey::new();
    with_passkey(&s, "marie", &key).await;
    let mut stranger = SoftKey::new();
    for _ in 0..5 {
        let (token, options) = challenge(&s, "marie").await;
        let r = answer(&s, &token, &stranger.get(&options, RP_ID, ORIGIN)).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = password(&s, "marie").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text);
}

#[tokio::test]
async fn issue16_11_required_passkeys_refuse_a_password_alone() {
    let s = setup("required", "[sign_in]\npasskeys = \"required\"\n").await;
    let r = password(&s, "marie").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.json["error"], "passkey_required");
    assert!(r.cookie.is_none());
    assert!(
        events(&s)
            .await
            .iter()
            .any(|e| e.starts_with("login_failed marie") && e.contains("reason=passkey_missing")),
    );
}

#[tokio::test]
async fn issue16_11_a_reset_clears_the_accounts_passkeys() {
    let s = setup("reset", "").await;
    let key = SoftKey::new();
    with_passkey(&s, "marie", &key).await;
    s.state
        .store
        .reset_account("marie", "0".repeat(64).as_str(), i64::MAX)
        .await
        .unwrap();
    assert!(s.state.store.passkeys("marie").await.unwrap().is_empty());
}

#[tokio::test]
async fn issue16_11_when_required_the_set_password_link_enrols_the_first_passkey() {
    use acote_relay::auth::{new_token, token_hash};
    let s = setup("required-link", "[sign_in]\npasskeys = \"required\"\n").await;
    let link = new_token();
    s.state
        .store
        .reset_account("marie", &token_hash(&link), i64::MAX)
        .await
        .unwrap();
    let r = call(
        &s,
        post(
            "/api/password",
            json!({ "token": link, "password": PASSWORD }),
            None,
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let ticket = r.json["enrol"].as_str().unwrap().to_string();
    let with_ticket = |path: &str, body: serde_json::Value| {
        let mut req = post(path, body, None);
        req.headers_mut()
            .insert("x-enrol-ticket", ticket.parse().unwrap());
        req
    };
    let mut key = SoftKey::new();
    let begun = call(&s, with_ticket("/api/passkeys/enrol/begin", json!({}))).await;
    assert_eq!(begun.status, StatusCode::OK, "{}", begun.text);
    let credential = key.create(&begun.json["options"], RP_ID, ORIGIN);
    let done = call(
        &s,
        with_ticket(
            "/api/passkeys/enrol/finish",
            json!({ "credential": credential }),
        ),
    )
    .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    // The ticket is spent; the password and the passkey now sign in.
    let again = call(&s, with_ticket("/api/passkeys/enrol/begin", json!({}))).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{}", again.text);
    let (token, options) = challenge(&s, "marie").await;
    let r = answer(&s, &token, &key.get(&options, RP_ID, ORIGIN)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // A ticket is no session: it reads nothing else.
    let me = Request::get("/api/me")
        .header(header::HOST, HOST)
        .header("x-enrol-ticket", ticket.as_str())
        .body(Body::empty())
        .unwrap();
    assert_eq!(call(&s, me).await.status, StatusCode::UNAUTHORIZED);
}
