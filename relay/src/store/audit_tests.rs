//! Tests of the audit chain: in memory for tampering, on disk for retention.

use super::*;

fn chain(n: i64) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    for seq in 1..=n {
        let prev = out.last().map_or(GENESIS.to_string(), |e| e.hash.clone());
        let record = Record::new("session_created").session(&format!("s{seq}"));
        let hash = chain_hash(seq, 1000 + seq, &record, &prev);
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
    let v = verify_entries(&chain(5));
    assert_eq!(v.records, 5);
    assert!(v.problems.is_empty(), "{:?}", v.problems);
}

#[test]
fn an_altered_row_is_named() {
    let mut c = chain(5);
    c[2].record.actor = "someone-else".into();
    assert_eq!(
        verify_entries(&c).problems,
        vec![Problem::Altered { seq: 3 }]
    );
}

#[test]
fn a_deleted_row_is_named() {
    let mut c = chain(5);
    c.remove(3);
    assert_eq!(
        verify_entries(&c).problems,
        vec![Problem::Missing { from: 4, to: 4 }]
    );
    let mut c = chain(5);
    c.remove(0);
    assert_eq!(
        verify_entries(&c).problems,
        vec![Problem::MissingStart { first: 2 }]
    );
}

#[test]
fn a_rehashed_forgery_still_breaks_the_link() {
    // Editing a row and recomputing its own hash leaves the next row pointing at the
    // old one.
    let mut c = chain(4);
    c[1].record.detail = "forged=1".into();
    c[1].hash = chain_hash(c[1].seq, c[1].at, &c[1].record, &c[1].prev_hash);
    assert_eq!(
        verify_entries(&c).problems,
        vec![Problem::Unlinked { seq: 3 }]
    );
}

#[test]
fn fields_are_cleaned_and_csv_is_safe() {
    let r = Record::new("login_failed")
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
        let r = Record::new("session_created").session(&format!("s{i}"));
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
            s.append(i, &Record::new("login_ok").actor(who))
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
