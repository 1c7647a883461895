//! Tests of the audit chain: in memory for tampering, on disk for retention.

use super::*;

fn key() -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, &[7; 32])
}

fn verify(entries: &[Entry]) -> Verification {
    verify_entries(&key(), entries, None)
}

fn chain(n: i64) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for seq in 1..=n {
        let prev = out.last().map_or(GENESIS.to_string(), |e| e.hash.clone());
        let record = Record::new(AuditEvent::SessionCreated).session(&format!("s{seq}"));
        let hash = chain_hash(&key(), seq, 1000 + seq, &record, &prev);
        out.push(Entry {
            seq,
            at: 1000 + seq,
            record,
            prev_hash: prev,
            hash,
        });
    }
    out
}

#[test]
fn an_intact_chain_verifies() {
    let v = verify(&chain(5));
    assert_eq!(v.records, 5);
    assert!(v.problems.is_empty(), "{:?}", v.problems);
}

#[test]
fn an_altered_row_is_named() {
    let mut c = chain(5);
    c[2].record.actor = "someone-else".into();
    assert_eq!(verify(&c).problems, vec![Problem::Altered { seq: 3 }]);
}

#[test]
fn a_deleted_row_is_named() {
    let mut c = chain(5);
    c.remove(3);
    assert_eq!(
        verify(&c).problems,
        vec![Problem::Missing { from: 4, to: 4 }]
    );
    let mut c = chain(5);
    c.remove(0);
    assert_eq!(
        verify(&c).problems,
        vec![Problem::MissingStart { first: 2 }]
    );
}

#[test]
fn a_rehashed_forgery_still_breaks_the_link() {
    // Editing a row and recomputing its own hash leaves the next row pointing at the
    // old one.
    let mut c = chain(4);
    c[1].record.detail = "forged=1".into();
    c[1].hash = chain_hash(&key(), c[1].seq, c[1].at, &c[1].record, &c[1].prev_hash);
    assert_eq!(verify(&c).problems, vec![Problem::Unlinked { seq: 3 }]);
}

#[test]
fn fields_are_cleaned_and_csv_is_safe() {
    let r = Record::new(AuditEvent::LoginFailed)
        .actor("=cmd|' /C calc'!A0\n")
        .with("why", "bad password");
    assert_eq!(r.detail, "why=bad password");
    assert!(!r.actor.contains('\n'));
    let e = Entry {
        seq: 1,
        at: 0,
        record: r,
        prev_hash: GENESIS.into(),
        hash: String::new(),
    };
    let mut out = Vec::new();
    write_csv(&mut out, &[e]).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains(",'=cmd|' /C calc'!A0,"), "{text}");
    assert!(text.starts_with("seq,time_utc,event,actor,session,detail\n1,1970-01-01T00:00:00Z,"));
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("acote-audit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn tampering_on_disk_is_detected_and_retention_keeps_the_chain_valid() {
    let dir = temp_dir("disk");
    let store = Store::open(&dir).await.unwrap();
    let day = 86_400;
    for i in 0..6 {
        let r = Record::new(AuditEvent::SessionCreated).session(&format!("s{i}"));
        assert_eq!(store.append(i * day, &r).await.unwrap(), i + 1);
    }
    assert!(store.verify().await.unwrap().problems.is_empty());

    // Retention of 3 days at day 6 deletes the records of days 0, 1 and 2.
    let deleted = store.apply_retention(6 * day, 3).await.unwrap();
    assert_eq!(deleted, 3);
    let v = store.verify().await.unwrap();
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    assert_eq!(v.records, 4, "three kept plus the retention record");
    assert_eq!(store.apply_retention(6 * day, 3).await.unwrap(), 0);

    // Someone edits a row behind the relay's back.
    sqlx::query("UPDATE audit SET actor = 'nobody' WHERE seq = 5")
        .execute(store.pool())
        .await
        .unwrap();
    let v = store.verify().await.unwrap();
    assert_eq!(v.problems, vec![Problem::Altered { seq: 5 }]);
    sqlx::query("DELETE FROM audit WHERE seq = 5")
        .execute(store.pool())
        .await
        .unwrap();
    let v = store.verify().await.unwrap();
    assert_eq!(v.problems, vec![Problem::Missing { from: 5, to: 5 }]);
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn two_writers_on_one_database_keep_one_chain() {
    // The relay and the admin command are two processes; two stores on one file model
    // them (separate pools, separate in-process locks).
    let dir = temp_dir("writers");
    let (a, b) = (
        Store::open(&dir).await.unwrap(),
        Store::open(&dir).await.unwrap(),
    );
    let write = |s: Store, who: &'static str| async move {
        for i in 0..20 {
            s.append(i, &Record::new(AuditEvent::LoginOk).actor(who))
                .await
                .unwrap();
        }
    };
    tokio::join!(write(a.clone(), "a"), write(b.clone(), "b"));
    let v = a.verify().await.unwrap();
    assert_eq!(v.records, 40);
    assert!(v.problems.is_empty(), "{:?}", v.problems);
    a.close().await;
    b.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// What someone with write access to `acote.db` can compute: the chain's public formula
/// (SHA-256 over the length-prefixed fields), with no key.
fn plain_hash(seq: i64, at: i64, r: &Record, prev: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for field in [
        &seq.to_string(),
        &at.to_string(),
        &r.event.to_string(),
        &r.actor,
        &r.session,
        &r.detail,
        &prev.to_string(),
    ] {
        h.update(format!("{}:", field.len()).as_bytes());
        h.update(field.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

/// Issue 16 (6): an edit of row k followed by recomputing every hash from k on must
/// still fail verification: the chain is keyed with a secret the database does not hold.
#[tokio::test]
async fn issue16_an_edited_row_with_recomputed_hashes_fails_verification() {
    let dir = temp_dir("rehash");
    let store = Store::open(&dir).await.unwrap();
    for i in 0..5 {
        let r = Record::new(AuditEvent::LoginOk).actor(&format!("cw{i}"));
        store.append(1000 + i, &r).await.unwrap();
    }
    assert!(store.verify().await.unwrap().problems.is_empty());
    let mut entries = store.entries().await.unwrap();
    // Row 3 now says someone else signed in; rows 3.. are re-hashed and re-linked.
    entries[2].record.actor = "nobody".into();
    for k in 2..entries.len() {
        let prev = entries[k - 1].hash.clone();
        let e = &mut entries[k];
        e.prev_hash = prev;
        e.hash = plain_hash(e.seq, e.at, &e.record, &e.prev_hash);
        sqlx::query("UPDATE audit SET actor = $1, prev_hash = $2, hash = $3 WHERE seq = $4")
            .bind(&e.record.actor)
            .bind(&e.prev_hash)
            .bind(&e.hash)
            .bind(e.seq)
            .execute(store.pool())
            .await
            .unwrap();
    }
    let v = store.verify().await.unwrap();
    assert!(
        !v.problems.is_empty(),
        "a forgery with recomputed hashes verified"
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 16 (6): the database and its WAL are readable by their owner only.
#[cfg(unix)]
#[tokio::test]
async fn issue16_the_database_and_its_wal_are_private_to_the_relay() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("perms");
    let store = Store::open(&dir).await.unwrap();
    store
        .append(1, &Record::new(AuditEvent::SessionCreated))
        .await
        .unwrap();
    for name in [crate::store::DB_FILE, "acote.db-wal"] {
        let mode = std::fs::metadata(dir.join(name))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{name} is open to others: {mode:o}");
    }
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 16 (6): removing the newest records leaves a chain that verifies on its own;
/// the anchor kept from an earlier export shows it.
#[tokio::test]
async fn issue16_records_removed_from_the_end_are_caught_by_the_anchor() {
    let dir = temp_dir("anchor");
    let store = Store::open(&dir).await.unwrap();
    for i in 0..4 {
        store
            .append(1000 + i, &Record::new(AuditEvent::LoginOk).actor("cw"))
            .await
            .unwrap();
    }
    let (seq, anchor) = store.head().await.unwrap().unwrap();
    assert_eq!(seq, 4);
    assert!(
        store
            .verify_anchored(Some(&anchor))
            .await
            .unwrap()
            .problems
            .is_empty()
    );
    sqlx::query("DELETE FROM audit WHERE seq >= 3")
        .execute(store.pool())
        .await
        .unwrap();
    assert!(store.verify().await.unwrap().problems.is_empty());
    assert_eq!(
        store.verify_anchored(Some(&anchor)).await.unwrap().problems,
        vec![Problem::AnchorMissing]
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// An anchor deleted by retention is still found: the retention record holds its hash.
#[test]
fn an_anchor_removed_by_retention_is_vouched_for_by_its_record() {
    let mut c = chain(3);
    let anchor = c[1].hash.clone();
    let mut retention = Record::new(AuditEvent::Retention)
        .actor("relay")
        .with("deleted_through", 2)
        .with("last_hash", &anchor);
    retention.detail.push_str("; deleted=2");
    let prev = c[2].hash.clone();
    let hash = chain_hash(&key(), 4, 2000, &retention, &prev);
    c.push(Entry {
        seq: 4,
        at: 2000,
        record: retention,
        prev_hash: prev,
        hash,
    });
    c.drain(..2);
    let v = verify_entries(&key(), &c, Some(&anchor));
    assert!(v.problems.is_empty(), "{:?}", v.problems);
}
