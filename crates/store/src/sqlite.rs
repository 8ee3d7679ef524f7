use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::de::DeserializeOwned;
use shopshield_model::{Decision, Qualification, Right, RightsHolder, Role};

use crate::{ApiKey, Page, Result, RightRecord, Screened, Store, StoreError, StoredListing};

/// Schema migrations, applied in order; `PRAGMA user_version` records how
/// many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_foundation.sql"),
    include_str!("../migrations/0002_enforcement.sql"),
    include_str!("../migrations/0003_qualifications.sql"),
];

/// The embedded store: one SQLite file in write-ahead-log mode.
///
/// Commits are fsynced (`synchronous = FULL`), so whatever a caller was told
/// is stored survives a crash of the process or the machine.
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let conn = Connection::open(path)?;
        Self::init(conn)
    }

    /// A private in-memory database, for tests and benchmarks.
    pub fn in_memory() -> Result<SqliteStore> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(mut conn: Connection) -> Result<SqliteStore> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let applied: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let applied = usize::try_from(applied).unwrap_or(0);
        if applied > MIGRATIONS.len() {
            return Err(StoreError::Database(format!(
                "the database has schema version {applied}, newer than this binary knows ({})",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
            tx.commit()?;
            tracing::info!(version = i + 1, "applied schema migration");
        }
        Ok(SqliteStore {
            conn: Mutex::new(conn),
        })
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave a half-done
        // transaction behind (rusqlite rolls back on drop), so a poisoned
        // lock is safe to keep using.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub(crate) fn parse_ts(what: &str, s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt {
            what: what.to_string(),
            reason: e.to_string(),
        })
}

pub(crate) fn from_json<T: DeserializeOwned>(what: &str, doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(|e| StoreError::Corrupt {
        what: what.to_string(),
        reason: e.to_string(),
    })
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(format!("cannot encode: {e}")))
}

fn bump_registry(tx: &rusqlite::Transaction<'_>) -> Result<u64> {
    let v: String = tx.query_row(
        "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) \
         WHERE key = 'registry_version' RETURNING value",
        [],
        |r| r.get(0),
    )?;
    v.parse().map_err(|_| StoreError::Corrupt {
        what: "meta.registry_version".into(),
        reason: format!("{v:?} is not a number"),
    })
}

pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

fn row_holder(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn holder_from(t: (String, String, String)) -> Result<RightsHolder> {
    let created_at = parse_ts("holders.created_at", &t.2)?;
    Ok(RightsHolder {
        id: t.0,
        name: t.1,
        created_at,
    })
}

fn write_right(tx: &rusqlite::Transaction<'_>, rec: &RightRecord, replace: bool) -> Result<()> {
    let r = &rec.right;
    let doc = to_json(r)?;
    let sql = if replace {
        "INSERT INTO rights (id, holder_id, kind, enabled, doc, image, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
         ON CONFLICT(id) DO UPDATE SET holder_id = excluded.holder_id, kind = excluded.kind, \
         enabled = excluded.enabled, doc = excluded.doc, image = excluded.image, \
         updated_at = excluded.updated_at"
    } else {
        "INSERT INTO rights (id, holder_id, kind, enabled, doc, image, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
    };
    tx.execute(
        sql,
        params![
            r.id,
            r.holder_id,
            r.kind.as_str(),
            r.enabled,
            doc,
            rec.image,
            ts(r.updated_at)
        ],
    )
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!(
                "right {:?} already exists, or holder {:?} does not",
                r.id, r.holder_id
            ))
        } else {
            e.into()
        }
    })?;
    Ok(())
}

fn read_stored_listing(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, u32, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn stored_listing_from(t: (String, u32, String, String)) -> Result<StoredListing> {
    Ok(StoredListing {
        listing: from_json("listing_versions.doc", &t.0)?,
        version: t.1,
        content_hash: t.2,
        submitted_at: parse_ts("listing_versions.submitted_at", &t.3)?,
    })
}

fn api_key_from(t: RawKey) -> Result<ApiKey> {
    let role = Role::parse(&t.1).ok_or_else(|| StoreError::Corrupt {
        what: "api_keys.role".into(),
        reason: format!("unknown role {:?}", t.1),
    })?;
    Ok(ApiKey {
        key_hash: t.0,
        role,
        holder_id: t.2,
        shop_id: t.3,
        label: t.4,
        created_at: parse_ts("api_keys.created_at", &t.5)?,
        creator_id: t.6,
    })
}

const KEY_COLUMNS: &str = "key_hash, role, holder_id, shop_id, label, created_at, creator_id";

type RawKey = (
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
);

fn row_key(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawKey> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}

fn limit(page: &Page) -> i64 {
    i64::try_from(page.limit.clamp(1, 10_000)).unwrap_or(10_000)
}

impl Store for SqliteStore {
    fn registry_version(&self) -> Result<u64> {
        let v: String = self.conn().query_row(
            "SELECT value FROM meta WHERE key = 'registry_version'",
            [],
            |r| r.get(0),
        )?;
        v.parse().map_err(|_| StoreError::Corrupt {
            what: "meta.registry_version".into(),
            reason: format!("{v:?} is not a number"),
        })
    }

    fn holder(&self, id: &str) -> Result<Option<RightsHolder>> {
        self.conn()
            .query_row(
                "SELECT id, name, created_at FROM holders WHERE id = ?1",
                [id],
                row_holder,
            )
            .optional()?
            .map(holder_from)
            .transpose()
    }

    fn holder_by_name(&self, name: &str) -> Result<Option<RightsHolder>> {
        self.conn()
            .query_row(
                "SELECT id, name, created_at FROM holders WHERE name = ?1",
                [name],
                row_holder,
            )
            .optional()?
            .map(holder_from)
            .transpose()
    }

    fn holders(&self) -> Result<Vec<RightsHolder>> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT id, name, created_at FROM holders ORDER BY id")?;
        let rows = st.query_map([], row_holder)?;
        rows.map(|r| holder_from(r?)).collect()
    }

    fn insert_holder(&self, h: &RightsHolder) -> Result<()> {
        self.conn()
            .execute(
                "INSERT INTO holders (id, name, created_at) VALUES (?1, ?2, ?3)",
                params![h.id, h.name, ts(h.created_at)],
            )
            .map_err(|e| {
                if is_unique_violation(&e) {
                    StoreError::Conflict(format!(
                        "a holder with id {:?} or name {:?} already exists",
                        h.id, h.name
                    ))
                } else {
                    e.into()
                }
            })?;
        Ok(())
    }

    fn insert_right(&self, rec: &RightRecord) -> Result<u64> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        write_right(&tx, rec, false)?;
        let v = bump_registry(&tx)?;
        tx.commit()?;
        Ok(v)
    }

    fn import_rights(&self, holders: &[RightsHolder], rights: &[RightRecord]) -> Result<u64> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for h in holders {
            tx.execute(
                "INSERT INTO holders (id, name, created_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
                params![h.id, h.name, ts(h.created_at)],
            )?;
        }
        for rec in rights {
            let existing: Option<String> = tx
                .query_row(
                    "SELECT doc FROM rights WHERE id = ?1",
                    [&rec.right.id],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(doc) = existing {
                let old: Right = from_json("rights.doc", &doc)?;
                let mut kept = rec.clone();
                kept.right.created_at = old.created_at;
                write_right(&tx, &kept, true)?;
            } else {
                write_right(&tx, rec, true)?;
            }
        }
        let v = bump_registry(&tx)?;
        tx.commit()?;
        Ok(v)
    }

    fn right(&self, id: &str) -> Result<Option<RightRecord>> {
        let row: Option<(String, Option<Vec<u8>>)> = self
            .conn()
            .query_row("SELECT doc, image FROM rights WHERE id = ?1", [id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        row.map(|(doc, image)| {
            Ok(RightRecord {
                right: from_json("rights.doc", &doc)?,
                image,
            })
        })
        .transpose()
    }

    fn rights(&self, holder_id: Option<&str>) -> Result<Vec<Right>> {
        let conn = self.conn();
        let mut st =
            conn.prepare("SELECT doc FROM rights WHERE ?1 IS NULL OR holder_id = ?1 ORDER BY id")?;
        let rows = st.query_map([holder_id], |r| r.get::<_, String>(0))?;
        rows.map(|d| from_json("rights.doc", &d?)).collect()
    }

    fn right_records(&self) -> Result<Vec<RightRecord>> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT doc, image FROM rights ORDER BY id")?;
        let rows = st.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<Vec<u8>>>(1)?))
        })?;
        rows.map(|row| {
            let (doc, image) = row?;
            Ok(RightRecord {
                right: from_json("rights.doc", &doc)?,
                image,
            })
        })
        .collect()
    }

    fn set_right_enabled(
        &self,
        id: &str,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<(Right, u64)>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let doc: Option<String> = tx
            .query_row("SELECT doc FROM rights WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        let Some(doc) = doc else { return Ok(None) };
        let mut right: Right = from_json("rights.doc", &doc)?;
        right.enabled = enabled;
        right.updated_at = now;
        tx.execute(
            "UPDATE rights SET enabled = ?2, doc = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, enabled, to_json(&right)?, ts(now)],
        )?;
        let v = bump_registry(&tx)?;
        tx.commit()?;
        Ok(Some((right, v)))
    }

    fn latest_listing(&self, id: &str) -> Result<Option<StoredListing>> {
        self.conn()
            .query_row(
                "SELECT v.doc, v.version, v.content_hash, v.submitted_at \
                 FROM listings l JOIN listing_versions v \
                 ON v.listing_id = l.id AND v.version = l.version WHERE l.id = ?1",
                [id],
                read_stored_listing,
            )
            .optional()?
            .map(stored_listing_from)
            .transpose()
    }

    fn listing_history(&self, id: &str) -> Result<Vec<StoredListing>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT doc, version, content_hash, submitted_at FROM listing_versions \
             WHERE listing_id = ?1 ORDER BY version",
        )?;
        let rows = st.query_map([id], read_stored_listing)?;
        rows.map(|r| stored_listing_from(r?)).collect()
    }

    fn record_screenings(&self, batch: &[Screened]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for s in batch {
            let id = &s.listing.id;
            let current: Option<u32> = tx
                .query_row("SELECT version FROM listings WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?;
            let expected = current.unwrap_or(0) + 1;
            if s.version != expected {
                return Err(StoreError::Conflict(format!(
                    "listing {id:?} is at version {}, cannot store version {}",
                    current.unwrap_or(0),
                    s.version
                )));
            }
            let at = ts(s.decision.decided_at);
            tx.execute(
                "INSERT INTO listing_versions (listing_id, version, content_hash, doc, submitted_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![id, s.version, s.content_hash, to_json(&s.listing)?, at],
            )?;
            tx.execute(
                "INSERT INTO listings (id, shop_id, version, content_hash, action, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT(id) DO UPDATE SET shop_id = excluded.shop_id, version = excluded.version, \
                 content_hash = excluded.content_hash, action = excluded.action, updated_at = excluded.updated_at",
                params![id, s.listing.shop_id, s.version, s.content_hash, s.decision.action.as_str(), at],
            )?;
            tx.execute(
                "INSERT INTO decisions (decision_id, listing_id, version, action, score, doc, decided_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    s.decision.decision_id,
                    id,
                    s.version,
                    s.decision.action.as_str(),
                    s.decision.score,
                    to_json(&s.decision)?,
                    at
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn listings_by_shop(&self, shop_id: &str, page: &Page) -> Result<Vec<StoredListing>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT v.doc, v.version, v.content_hash, v.submitted_at \
             FROM listings l JOIN listing_versions v ON v.listing_id = l.id AND v.version = l.version \
             WHERE l.shop_id = ?1 AND (?2 IS NULL OR l.id > ?2) ORDER BY l.id LIMIT ?3",
        )?;
        let rows = st.query_map(
            params![shop_id, page.after, limit(page)],
            read_stored_listing,
        )?;
        rows.map(|r| stored_listing_from(r?)).collect()
    }

    fn decision(&self, decision_id: &str) -> Result<Option<Decision>> {
        let doc: Option<String> = self
            .conn()
            .query_row(
                "SELECT doc FROM decisions WHERE decision_id = ?1",
                [decision_id],
                |r| r.get(0),
            )
            .optional()?;
        doc.map(|d| from_json("decisions.doc", &d)).transpose()
    }

    fn decisions_for_listing(&self, listing_id: &str) -> Result<Vec<Decision>> {
        let conn = self.conn();
        let mut st =
            conn.prepare("SELECT doc FROM decisions WHERE listing_id = ?1 ORDER BY version")?;
        let rows = st.query_map([listing_id], |r| r.get::<_, String>(0))?;
        rows.map(|d| from_json("decisions.doc", &d?)).collect()
    }

    fn decisions(&self, page: &Page) -> Result<Vec<Decision>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT doc FROM decisions WHERE (?1 IS NULL OR rowid > \
             (SELECT rowid FROM decisions WHERE decision_id = ?1)) ORDER BY rowid LIMIT ?2",
        )?;
        let rows = st.query_map(params![page.after, limit(page)], |r| r.get::<_, String>(0))?;
        rows.map(|d| from_json("decisions.doc", &d?)).collect()
    }

    fn put_qualification(&self, q: &Qualification, now: DateTime<Utc>) -> Result<()> {
        self.conn().execute(
            "INSERT INTO qualifications (shop_id, qualification, region, doc, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(shop_id, qualification, region) \
             DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
            params![
                q.shop_id,
                q.qualification,
                q.region.as_str(),
                to_json(q)?,
                ts(now)
            ],
        )?;
        Ok(())
    }

    fn qualifications(&self, shop_id: &str) -> Result<Vec<Qualification>> {
        let conn = self.conn();
        let mut st = conn.prepare(
            "SELECT doc FROM qualifications WHERE shop_id = ?1 ORDER BY qualification, region",
        )?;
        let rows = st.query_map([shop_id], |r| r.get::<_, String>(0))?;
        rows.map(|d| from_json("qualifications.doc", &d?)).collect()
    }

    fn insert_api_key(&self, k: &ApiKey) -> Result<()> {
        self.conn().execute(
            "INSERT INTO api_keys (key_hash, role, holder_id, shop_id, label, created_at, creator_id) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                k.key_hash,
                k.role.as_str(),
                k.holder_id,
                k.shop_id,
                k.label,
                ts(k.created_at),
                k.creator_id
            ],
        )?;
        Ok(())
    }

    fn api_key(&self, key_hash: &str) -> Result<Option<ApiKey>> {
        self.conn()
            .query_row(
                &format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE key_hash = ?1"),
                [key_hash],
                row_key,
            )
            .optional()?
            .map(api_key_from)
            .transpose()
    }

    fn api_keys(&self) -> Result<Vec<ApiKey>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!(
            "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at"
        ))?;
        let rows = st.query_map([], row_key)?;
        rows.map(|r| api_key_from(r?)).collect()
    }
}
