//! The store on a real PostgreSQL (issue 19): `[store] url = "postgres://…"` keeps
//! accounts, web sessions, resumable sessions, passkeys and the audit chain there, with
//! the same migrations and queries as SQLite. Two relays sharing the database keep one
//! audit chain that verifies, and a caseworker signed in on one relay is signed in on the
//! other. The server is Debian's PostgreSQL, started by the tests (tests/common/postgres.rs).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::path::PathBuf;

use acote_relay::store::audit::{Problem, Record};
use acote_relay::store::audit_event::AuditEvent;
use acote_relay::store::carry_over::{ResumableRow, WebSessionRow};
use acote_relay::store::{Backend, Store, StoreError};
use common::TestRelay;
use common::postgres::Postgres;
use sqlx::Connection;

fn data_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("acote-pg-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn every_table_of_the_store_works_on_postgresql() {
    let url = Postgres::shared().database("tables").await;
    let dir = data_dir("tables");
    let store = Store::open_at(&dir, Some(&url)).await.unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    assert!(!dir.join("acote.db").exists(), "nothing written to SQLite");
    store.writable().await.unwrap();

    // Accounts: add, taken, list, counters, disable, set-password links.
    let a = store
        .add_account(
            "amina",
            "Amina K.",
            "Centre A",
            Some("$argon2id$x"),
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!((a.id, a.login.as_str(), a.disabled), (1, "amina", false));
    let b = store
        .add_account(
            "bruno",
            "Bruno L.",
            "Centre B",
            None,
            Some(("tokenhash", 500)),
            11,
        )
        .await
        .unwrap();
    assert_eq!((b.id, b.password_hash), (2, None));
    assert!(matches!(
        store.add_account("amina", "x", "y", None, None, 12).await,
        Err(StoreError::LoginTaken(_))
    ));
    let logins: Vec<_> = store
        .accounts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.login)
        .collect();
    assert_eq!(logins, ["amina", "bruno"]);
    store.count_failed_login("amina").await.unwrap();
    store.count_failed_login("amina").await.unwrap();
    store.count_wrong_code("amina").await.unwrap();
    store.record_login("amina", 99).await.unwrap();
    let a = store.account("amina").await.unwrap().unwrap();
    assert_eq!(
        (a.failed_logins, a.wrong_codes, a.last_login_at),
        (2, 1, Some(99))
    );
    store.set_disabled("amina", true).await.unwrap();
    assert!(store.account("amina").await.unwrap().unwrap().disabled);
    store.set_disabled("amina", false).await.unwrap();
    let a = store.account("amina").await.unwrap().unwrap();
    assert_eq!(
        (a.disabled, a.failed_logins, a.wrong_codes),
        (false, 0, 0),
        "enabling clears the counters"
    );
    assert!(matches!(
        store.set_disabled("nobody", true).await,
        Err(StoreError::UnknownLogin(_))
    ));
    assert_eq!(
        store
            .login_for_setup_token("tokenhash", 400)
            .await
            .unwrap()
            .as_deref(),
        Some("bruno")
    );
    assert_eq!(
        store.login_for_setup_token("tokenhash", 600).await.unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store
            .set_password_with_token("tokenhash", "$argon2id$y", 400)
            .await
            .unwrap(),
        "bruno"
    );
    assert!(
        matches!(
            store
                .set_password_with_token("tokenhash", "$argon2id$z", 401)
                .await,
            Err(StoreError::BadSetupToken)
        ),
        "a link works once"
    );

    // Passkeys: enrol, one credential id once across accounts, use, remove.
    assert!(
        store
            .add_passkey("amina", "cred-1", "{\"k\":1}", 20)
            .await
            .unwrap()
    );
    assert!(
        !store
            .add_passkey("bruno", "cred-1", "{\"k\":2}", 21)
            .await
            .unwrap()
    );
    let keys = store.passkeys("amina").await.unwrap();
    assert_eq!(keys.len(), 1);
    store
        .passkey_used(keys[0].id, "{\"k\":3}", 30)
        .await
        .unwrap();
    let keys = store.passkeys("amina").await.unwrap();
    assert_eq!(
        (keys[0].passkey.as_str(), keys[0].last_used_at),
        ("{\"k\":3}", Some(30))
    );
    assert!(store.remove_passkey("amina", keys[0].id).await.unwrap());
    assert!(store.passkeys("amina").await.unwrap().is_empty());

    // What a restart carries over.
    let web = WebSessionRow {
        token_hash: "cookiehash".into(),
        login: "amina".into(),
        csrf: "csrf".into(),
        created_at: 100,
        last_seen_at: 100,
    };
    store.save_web_session(&web, 0, 0).await.unwrap();
    store.touch_web_session("cookiehash", 150).await.unwrap();
    assert_eq!(
        store
            .web_session("cookiehash")
            .await
            .unwrap()
            .unwrap()
            .last_seen_at,
        150
    );
    store.forget_web_sessions_of("amina").await.unwrap();
    assert_eq!(store.web_session("cookiehash").await.unwrap(), None);
    let resumable = ResumableRow {
        session: "s1".into(),
        agent_hash: "a".into(),
        viewer_hash: "v".into(),
        login: "amina".into(),
        relay: "r1".into(),
    };
    store.save_resumable(&resumable).await.unwrap();
    store
        .save_resumable(&ResumableRow {
            agent_hash: "a2".into(),
            ..resumable.clone()
        })
        .await
        .unwrap();
    assert_eq!(store.take_resumables().await.unwrap()[0].agent_hash, "a2");
    assert!(
        store.take_resumables().await.unwrap().is_empty(),
        "taken once"
    );
    store.alive(1_000).await.unwrap();
    store.alive(1_005).await.unwrap();
    assert_eq!(store.last_alive().await.unwrap(), Some(1_005));

    // The audit chain: append, verify, retention, and tampering found.
    let day = 86_400;
    for i in 0..6 {
        let r = Record::new(AuditEvent::SessionCreated).session(&format!("s{i}"));
        assert_eq!(store.append(i * day, &r).await.unwrap(), i + 1);
    }
    assert_eq!(store.apply_retention(6 * day, 3).await.unwrap(), 3);
    let v = store.verify().await.unwrap();
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!(v.records, 4, "three kept plus the retention record");
    assert_eq!(
        store.entries_between(4 * day, 6 * day).await.unwrap().len(),
        2
    );
    let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE audit SET actor = 'nobody' WHERE seq = 5")
        .execute(&mut db)
        .await
        .unwrap();
    assert_eq!(
        store.verify().await.unwrap().problems,
        vec![Problem::Altered { seq: 5 }]
    );
    db.close().await.unwrap();
    store.close().await;

    // Opened again: the migrations are not applied twice and nothing is lost.
    let again = Store::open_at(&dir, Some(&url)).await.unwrap();
    assert_eq!(again.accounts().await.unwrap().len(), 2);
    assert_eq!(again.entries().await.unwrap().len(), 4);
    again.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn relays_sharing_postgresql_append_to_one_chain() {
    // Two relays are two stores with their own pools and in-process locks; only the
    // database's advisory lock keeps them in turn.
    let url = Postgres::shared().database("chain").await;
    let dir = data_dir("chain");
    let relays: Vec<Store> = vec![
        Store::open_at(&dir, Some(&url)).await.unwrap(),
        Store::open_at(&dir, Some(&url)).await.unwrap(),
        Store::open_at(&dir, Some(&url)).await.unwrap(),
    ];
    let write = |s: Store, who: &'static str| async move {
        for i in 0..30 {
            s.append(i, &Record::new(AuditEvent::LoginOk).actor(who))
                .await
                .unwrap();
        }
    };
    tokio::join!(
        write(relays[0].clone(), "a"),
        write(relays[1].clone(), "b"),
        write(relays[2].clone(), "c"),
        async { relays[0].apply_retention(1_000_000, 1).await.unwrap() },
    );
    let v = relays[1].verify().await.unwrap();
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    let entries = relays[2].entries().await.unwrap();
    let seqs: Vec<i64> = entries.iter().map(|e| e.seq).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "one chain, no gap: {seqs:?}"
    );
    let written = |who: &str| entries.iter().filter(|e| e.record.actor == who).count();
    let retained = entries
        .iter()
        .any(|e| e.record.event == AuditEvent::Retention);
    let deleted: usize = if retained { 90 + 1 - entries.len() } else { 0 };
    assert_eq!(
        written("a") + written("b") + written("c") + deleted,
        90,
        "every append is kept or accounted for by retention"
    );
    assert_eq!(
        relays.iter().map(Store::audit_write_errors).sum::<u64>(),
        0,
        "no relay was refused"
    );
    for s in &relays {
        s.close().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn two_relays_on_one_postgresql_share_sign_ins_and_the_audit_log() {
    let url = Postgres::shared().database("relays").await;
    let store = format!("[store]\nurl = \"{url}\"\n");
    let mut a = TestRelay::start_with("pg-a", &store).await;
    assert_eq!(a.store.backend(), Backend::Postgres);
    let key = a.data_dir.join(acote_relay::store::AUDIT_KEY_FILE);
    let mut b = TestRelay::start_sharing("pg-b", &store, Some(&key)).await;

    // Signed in on relay A; the same cookie is recognised by relay B (behind a
    // load balancer without stickiness, the next request may reach either).
    let me = b
        .request("GET", "/api/me", &[("cookie", &a.cookie)], "")
        .await;
    assert_eq!(me.status, 200, "{me:?}");
    assert!(me.body.contains(common::LOGIN), "{}", me.body);
    let unknown = b
        .request(
            "GET",
            "/api/me",
            &[("cookie", "__Host-acote_session=forged")],
            "",
        )
        .await;
    assert_eq!(unknown.status, 401);

    // Both relays wrote to one audit chain (the sign-ins of start_with), which verifies
    // from either side.
    let entries = a.store.entries().await.unwrap();
    let sign_ins = entries
        .iter()
        .filter(|e| e.record.event == AuditEvent::LoginOk)
        .count();
    assert_eq!(sign_ins, 2, "one sign-in on each relay: {entries:?}");
    let v = b.store.verify().await.unwrap();
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    a.shutdown();
    b.shutdown();
}

#[tokio::test]
async fn a_guesser_locked_out_on_one_relay_is_locked_out_on_the_others() {
    let url = Postgres::shared().database("lockout").await;
    let store = format!("[store]\nurl = \"{url}\"\n");
    let mut a = TestRelay::start_with("lock-a", &store).await;
    let key = a.data_dir.join(acote_relay::store::AUDIT_KEY_FILE);
    let mut b = TestRelay::start_sharing("lock-b", &store, Some(&key)).await;
    for _ in 0..acote_relay::auth::lockout::FREE_PER_ACCOUNT {
        assert_eq!(a.sign_in(common::LOGIN, "wrong guess").await.status, 401);
    }
    // Locked on relay a: even the right password waits...
    assert_eq!(a.sign_in(common::LOGIN, common::PASSWORD).await.status, 429);
    // ...and on relay b, which saw none of the guesses.
    let locked = b.sign_in(common::LOGIN, common::PASSWORD).await;
    assert_eq!(locked.status, 429, "{locked:?}");
    assert!(locked.body.contains("wait_secs"), "{}", locked.body);
    // The keys are not in the database in clear (a login field may hold a password).
    let mut db = sqlx::PgConnection::connect(&url).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as("SELECT tag FROM sign_in_counts")
        .fetch_all(&mut db)
        .await
        .unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|(tag,)| !tag.contains(common::LOGIN) && !tag.contains("127.0.0.1"))
    );
    db.close().await.unwrap();
    a.shutdown();
    b.shutdown();
}

#[tokio::test]
async fn an_accounts_wrong_codes_count_on_every_relay() {
    use acote_proto::{ErrorCode, Role, SignalMessage};
    let url = Postgres::shared().database("wrongcodes").await;
    let store = format!("[store]\nurl = \"{url}\"\n");
    let mut a = TestRelay::start_with("codes-a", &store).await;
    let key = a.data_dir.join(acote_relay::store::AUDIT_KEY_FILE);
    let mut b = TestRelay::start_sharing("codes-b", &store, Some(&key)).await;
    let redeem = |code: &str| SignalMessage::Redeem {
        code: code.into(),
        procedure: None,
    };
    let refusal = |msg: Option<SignalMessage>| match msg {
        Some(SignalMessage::Error { code, .. }) => code,
        other => panic!("expected an error, got {other:?}"),
    };
    // The account's burst of wrong codes, all on relay a.
    let mut on_a = a.connect_viewer().await;
    on_a.hello(Role::Viewer).await;
    for code in ["111111", "222222", "333333"] {
        on_a.send(&redeem(code)).await;
        assert_eq!(refusal(on_a.recv().await), ErrorCode::InvalidCode);
    }
    on_a.send(&redeem("444444")).await;
    assert_eq!(refusal(on_a.recv().await), ErrorCode::RateLimited);
    // Relay b takes them in at its next heartbeat (every 2 s) and refuses the account
    // too. Two tries at most: alone, b would let three wrong codes through.
    let mut on_b = b.connect_viewer().await;
    on_b.hello(Role::Viewer).await;
    let mut answers = Vec::new();
    for _ in 0..2 {
        tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
        on_b.send(&redeem("555555")).await;
        answers.push(refusal(on_b.recv().await));
        if answers.last() == Some(&ErrorCode::RateLimited) {
            break;
        }
    }
    assert_eq!(answers.last(), Some(&ErrorCode::RateLimited), "{answers:?}");
    a.shutdown();
    b.shutdown();
}

#[tokio::test]
async fn a_wrong_store_url_is_a_clear_error_that_names_no_password() {
    let dir = data_dir("wrong");
    // A server that is not there: the error says which database, without its password.
    let url = "postgres://acote:s3cret-pw@127.0.0.1:1/acote?connect_timeout=2";
    let err = Store::open_at(&dir, Some(url))
        .await
        .err()
        .expect("no server on port 1");
    let text = err.to_string();
    assert!(matches!(err, StoreError::Connect { .. }), "{text}");
    assert!(
        text.contains("127.0.0.1:1/acote") && !text.contains("s3cret-pw"),
        "{text}"
    );
    let err = Store::open_at(&dir, Some("mysql://x@localhost/db"))
        .await
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::BadUrl(_)), "{err}");
    // And the configuration refuses anything but postgres:// before the relay starts.
    let config = acote_relay::config::Config::parse("[store]\nurl = \"sqlite://x.db\"\n");
    assert!(config.is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_sites_sqlite_database_moves_to_postgresql_with_admin_store_copy_to() {
    use acote_relay::admin::{self, AdminCommand, StoreCommand};
    // A site's relay on SQLite: a caseworker with a password, one with a passkey, sign-ins,
    // a resumable session and its audit log.
    let dir = data_dir("move");
    let sqlite = Store::open(&dir).await.unwrap();
    let hash = acote_relay::auth::password::hash(common::PASSWORD).unwrap();
    sqlite
        .add_account(
            common::LOGIN,
            common::NAME,
            common::SITE,
            Some(&hash),
            None,
            5,
        )
        .await
        .unwrap();
    sqlite
        .add_account(
            "bruno",
            "Bruno L.",
            "Centre B",
            None,
            Some(("linkhash", 9_999_999_999)),
            6,
        )
        .await
        .unwrap();
    sqlite
        .add_passkey("bruno", "cred-9", "{\"k\":9}", 7)
        .await
        .unwrap();
    sqlite.record_login(common::LOGIN, 8).await.unwrap();
    sqlite.alive(9).await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for i in 0..5 {
        sqlite
            .append(
                now - 100 + i,
                &Record::new(AuditEvent::LoginOk).actor(common::LOGIN),
            )
            .await
            .unwrap();
    }
    let before = sqlite.entries().await.unwrap();
    sqlite.close().await;

    let mut config = acote_relay::config::Config::parse("").unwrap();
    config.server.data_dir = dir.clone();
    let url = Postgres::shared().database("moved").await;
    let copy = || AdminCommand::Store(StoreCommand::CopyTo { url: url.clone() });
    let mut out = Vec::new();
    admin::run(&config, copy(), &mut std::io::empty(), &mut out)
        .await
        .unwrap();
    let said = String::from_utf8(out).unwrap();
    assert!(
        said.contains("accounts: 2 rows copied") && said.contains("audit: 5 rows copied"),
        "{said}"
    );
    assert!(
        said.contains("audit log verified") && said.contains("5 records, chain intact"),
        "{said}"
    );

    // Everything is there, the chain row for row.
    let pg = Store::open_at(&dir, Some(&url)).await.unwrap();
    assert_eq!(pg.entries().await.unwrap(), before);
    let marie = pg.account(common::LOGIN).await.unwrap().unwrap();
    assert_eq!(
        (marie.last_login_at, marie.password_hash.as_deref()),
        (Some(8), Some(hash.as_str()))
    );
    assert_eq!(pg.passkeys("bruno").await.unwrap()[0].cred_id, "cred-9");
    assert_eq!(
        pg.login_for_setup_token("linkhash", 10)
            .await
            .unwrap()
            .as_deref(),
        Some("bruno"),
        "a pending link still works"
    );
    assert_eq!(pg.last_alive().await.unwrap(), Some(9));
    pg.close().await;

    // Copying again would merge two sites' data: refused, nothing changed.
    let mut out = Vec::new();
    let again = admin::run(&config, copy(), &mut std::io::empty(), &mut out)
        .await
        .unwrap_err();
    assert!(
        again.to_string().contains("already has accounts"),
        "{again}"
    );
    assert_eq!(again.exit_code(), 1);

    // The relay on PostgreSQL (same audit key): the caseworker signs in with her
    // password as before, and the chain goes on from the copied records.
    let store = format!("[store]\nurl = \"{url}\"\n");
    let mut relay = TestRelay::start_sharing(
        "moved",
        &store,
        Some(&dir.join(acote_relay::store::AUDIT_KEY_FILE)),
    )
    .await;
    let v = relay.store.verify().await.unwrap();
    assert!(v.problems.is_empty() && v.records > 5, "{v:?}");
    assert_eq!(
        relay.store.entries().await.unwrap()[..5],
        before[..],
        "the copied records come first"
    );
    relay.shutdown();

    // No SQLite database to copy: a usage error (exit 2) that says where it looked.
    config.server.data_dir = data_dir("empty");
    let err = admin::run(&config, copy(), &mut std::io::empty(), &mut Vec::new())
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 2, "{err}");
    assert!(err.to_string().contains("acote.db does not exist"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
