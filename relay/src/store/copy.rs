//! Copies one store into another, row for row: how a site moves its SQLite `acote.db` to
//! PostgreSQL (`acote-relay admin store copy-to URL`). The audit rows keep their
//! positions and hashes, so the chain verifies in the new database with the same key.

use sqlx::Row;

use self::Kind::{Int as I, Text as T};
use super::{Store, StoreError};

/// Every table of the schema with its columns, parents before the rows that point to
/// them. A test checks this list against the migrated schema.
pub(crate) const TABLES: &[(&str, &[(&str, Kind)])] = &[
    (
        "accounts",
        &[
            ("id", I),
            ("login", T),
            ("display_name", T),
            ("site", T),
            ("password_hash", T),
            ("disabled", I),
            ("setup_token_hash", T),
            ("setup_expires_at", I),
            ("wrong_codes", I),
            ("failed_logins", I),
            ("created_at", I),
            ("last_login_at", I),
        ],
    ),
    (
        "passkeys",
        &[
            ("id", I),
            ("login", T),
            ("cred_id", T),
            ("passkey", T),
            ("created_at", I),
            ("last_used_at", I),
        ],
    ),
    (
        "web_sessions",
        &[
            ("token_hash", T),
            ("login", T),
            ("csrf", T),
            ("created_at", I),
            ("last_seen_at", I),
        ],
    ),
    (
        "resumptions",
        &[
            ("session", T),
            ("agent_hash", T),
            ("viewer_hash", T),
            ("login", T),
            ("relay", T),
        ],
    ),
    ("relay_clock", &[("id", I), ("alive_at", I)]),
    (
        "audit",
        &[
            ("seq", I),
            ("at", I),
            ("event", T),
            ("actor", T),
            ("session", T),
            ("detail", T),
            ("prev_hash", T),
            ("hash", T),
        ],
    ),
];

/// A column's type: every column of the schema is a BIGINT or a TEXT, NULL allowed.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// BIGINT.
    Int,
    /// TEXT.
    Text,
}
/// How many rows of each table were copied.
pub type Copied = Vec<(&'static str, u64)>;

impl Store {
    /// Copies every row of this store into `target`, in one transaction there. The
    /// target must hold no accounts and no audit records (a fresh database): nothing is
    /// merged or overwritten.
    pub async fn copy_into(&self, target: &Store) -> Result<Copied, StoreError> {
        let has = |table: &str| format!("SELECT 1 AS present FROM {table} LIMIT 1");
        for table in ["accounts", "audit"] {
            if sqlx::query(&has(table))
                .fetch_optional(target.pool())
                .await?
                .is_some()
            {
                return Err(StoreError::TargetNotEmpty(table));
            }
        }
        let mut tx = target.pool().begin().await?;
        let mut copied = Vec::new();
        for (table, columns) in TABLES {
            let list = columns.iter().map(|c| c.0).collect::<Vec<_>>().join(", ");
            let rows = sqlx::query(&format!("SELECT {list} FROM {table}"))
                .fetch_all(self.pool())
                .await?;
            let marks: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
            let insert = format!("INSERT INTO {table} ({list}) VALUES ({})", marks.join(", "));
            for row in &rows {
                let mut query = sqlx::query(&insert);
                for (column, kind) in columns.iter() {
                    query = match kind {
                        Kind::Int => query.bind(row.try_get::<Option<i64>, _>(*column)?),
                        Kind::Text => query.bind(row.try_get::<Option<String>, _>(*column)?),
                    };
                }
                query.execute(&mut *tx).await?;
            }
            copied.push((*table, rows.len() as u64));
        }
        tx.commit().await?;
        Ok(copied)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tables of the moment, not copied: which relays are alive, the codes they handed
    /// out, the mail between them, the sign-in counts they share (issue 19).
    const NOT_COPIED: &[&str] = &["codes", "relay_mail", "relays", "sign_in_counts"];

    #[tokio::test]
    async fn the_copy_list_is_the_whole_schema() {
        // A migration that adds a table or a column must add it here too, or a move to
        // PostgreSQL would silently leave it behind.
        let dir = std::env::temp_dir().join(format!("acote-copy-schema-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&dir).await.unwrap();
        let mut schema = Vec::new();
        let tables = sqlx::query(
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx_%' ORDER BY name",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        for table in tables {
            let name: String = table.try_get("name").unwrap();
            if NOT_COPIED.contains(&name.as_str()) {
                continue;
            }
            let columns = sqlx::query(&format!(
                "SELECT name, type FROM pragma_table_info('{name}')"
            ))
            .fetch_all(store.pool())
            .await
            .unwrap();
            for c in columns {
                let (column, kind): (String, String) =
                    (c.try_get("name").unwrap(), c.try_get("type").unwrap());
                schema.push(format!("{name}.{column} {kind}"));
            }
        }
        schema.sort();
        let mut listed: Vec<String> = TABLES
            .iter()
            .flat_map(|(table, columns)| {
                columns.iter().map(move |(column, kind)| {
                    let kind = match kind {
                        Kind::Int => "BIGINT",
                        Kind::Text => "TEXT",
                    };
                    format!("{table}.{column} {kind}")
                })
            })
            .collect();
        listed.sort();
        assert_eq!(listed, schema);
        store.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
