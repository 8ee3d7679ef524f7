//! The embedded store: one SQLite file in write-ahead-log mode.
//!
//! One writer connection (SQLite has one writer at a time anyway) and a few
//! reader connections, which WAL lets read while the writer commits.
//! Commits are fsynced (`synchronous = FULL`), so whatever a caller was
//! told is stored survives a crash of the process or the machine. Every
//! writing transaction starts `IMMEDIATE`, taking SQLite's write lock
//! first, so checks made inside it (a listing's latest version, the log
//! head, a lease) hold against writers in other processes too. Statements
//! are prepared once per connection and cached. A file store copies its
//! log back into the database on a thread of its own (`Checkpointer`), so
//! commits do not pay for it; that thread works only after this process
//! wrote, so an idle server or a reading command does not poll the file.

mod access;
mod authorization;
mod catalog;
mod content;
mod enforcement;
mod notice;
mod outbox;
mod registry;
mod sweep;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, TransactionBehavior};
use serde::de::DeserializeOwned;

use crate::{ChangeFeed, Result, Store, StoreError};

/// Schema migrations, applied in order; `PRAGMA user_version` records how
/// many have run.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_foundation.sql"),
    include_str!("../../migrations/sqlite/0002_enforcement.sql"),
    include_str!("../../migrations/sqlite/0003_qualifications.sql"),
    include_str!("../../migrations/sqlite/0004_scale_out.sql"),
    include_str!("../../migrations/sqlite/0005_after_listing.sql"),
    include_str!("../../migrations/sqlite/0006_content.sql"),
    include_str!("../../migrations/sqlite/0007_notices.sql"),
    include_str!("../../migrations/sqlite/0008_authorizations.sql"),
    include_str!("../../migrations/sqlite/0009_proof_of_rights.sql"),
    include_str!("../../migrations/sqlite/0010_terms_on_listing.sql"),
];

/// How often the checkpoint thread looks whether there is log to copy into
/// the database (it copies only after this process wrote).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// The log's size in pages (4 KiB) at which the writer checkpoints itself
/// (SQLite's default is 1,000).
const WRITER_CHECKPOINT_PAGES: i64 = 10_000;
/// Reader connections beside the writer, for a file database.
const READERS: usize = 4;
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 96;
/// How long a connection waits for another process's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often [`ChangeFeed::wait_registry_change`] looks at the version.
const POLL: Duration = Duration::from_millis(100);

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        if is_unique_violation(&e) {
            StoreError::Conflict(e.to_string())
        } else {
            StoreError::Database(e.to_string())
        }
    }
}

/// The embedded store.
pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    /// Set when the writer connection is handed back: the log may hold
    /// pages the checkpoint thread has not copied yet.
    wrote: Arc<AtomicBool>,
    checkpointer: Option<Checkpointer>,
}

/// The writer connection, lent out by [`SqliteStore::write`]; giving it
/// back tells the checkpoint thread there may be log to copy.
pub(crate) struct Writer<'a> {
    conn: MutexGuard<'a, Connection>,
    wrote: &'a AtomicBool,
}

impl std::ops::Deref for Writer<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
    }
}

impl std::ops::DerefMut for Writer<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        self.wrote.store(true, Ordering::Release);
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

impl SqliteStore {
    /// Opens (creating if needed, readable by its owner only) the database
    /// at `path` and migrates it. Several processes may open the same file
    /// at once, a fresh one included.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        create_private(path)?;
        let writer = configure(Connection::open(path)?)?;
        migrate(&writer)?;
        // The writer checkpoints only when the thread below falls far behind.
        writer.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_PAGES)?;
        let wrote = Arc::new(AtomicBool::new(false));
        let checkpointer = Checkpointer::start(path, wrote.clone())?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let conn = Connection::open(path)?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            // Readers never write; SQLite enforces it.
            conn.pragma_update(None, "query_only", "ON")?;
            readers.push(Mutex::new(conn));
        }
        Ok(SqliteStore {
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            wrote,
            checkpointer: Some(checkpointer),
        })
    }

    /// A private in-memory database, for tests and benchmarks.
    pub fn in_memory() -> Result<SqliteStore> {
        let conn = configure(Connection::open_in_memory()?)?;
        migrate(&conn)?;
        Ok(SqliteStore {
            writer: Mutex::new(conn),
            readers: Vec::new(),
            next_reader: AtomicUsize::new(0),
            wrote: Arc::new(AtomicBool::new(false)),
            checkpointer: None,
        })
    }

    /// The writer connection.
    pub(crate) fn write(&self) -> Writer<'_> {
        // A panic while holding the lock cannot leave a half-done
        // transaction behind (rusqlite rolls back on drop), so a poisoned
        // lock is safe to keep using.
        Writer {
            conn: self.writer.lock().unwrap_or_else(|p| p.into_inner()),
            wrote: &self.wrote,
        }
    }

    /// Checkpoints the checkpoint thread has run since the store opened
    /// (0 for an in-memory store): for tests of its idling.
    #[doc(hidden)]
    pub fn checkpoints_run(&self) -> u64 {
        self.checkpointer
            .as_ref()
            .map_or(0, |c| c.runs.load(Ordering::Relaxed))
    }

    /// A connection to read with: a free reader if there is one.
    pub(crate) fn read(&self) -> MutexGuard<'_, Connection> {
        if self.readers.is_empty() {
            // In memory: the writer is the only connection, and there is no log to copy.
            return self.writer.lock().unwrap_or_else(|p| p.into_inner());
        }
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..self.readers.len() {
            let r = &self.readers[(start + i) % self.readers.len()];
            if let Ok(guard) = r.try_lock() {
                return guard;
            }
        }
        self.readers[start % self.readers.len()]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

impl ChangeFeed for SqliteStore {
    fn wait_registry_change(&self, known: u64, timeout: Duration) -> Result<u64> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let v = crate::RegistryStore::registry_version(self)?;
            if v != known {
                return Ok(v);
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Ok(v);
            }
            std::thread::sleep(POLL.min(deadline - now));
        }
    }
}

/// Copies the write-ahead log back into the database file on a thread of
/// its own, so the thread that commits does not pay for it (SQLite's
/// automatic checkpoint runs inside the commit that crosses its threshold).
/// Every [`CHECKPOINT_EVERY`] it looks at `wrote`, set each time the writer
/// connection is handed back, and checkpoints only when it was set: a
/// process that does not write (an idle server, a reading command) never
/// touches the file. A passive checkpoint never waits for readers or the
/// writer; when it could not copy the whole log, it tries again at the next
/// tick.
struct Checkpointer {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    runs: Arc<AtomicU64>,
}

impl Checkpointer {
    fn start(path: &Path, wrote: Arc<AtomicBool>) -> Result<Checkpointer> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let runs = Arc::new(AtomicU64::new(0));
        let counted = runs.clone();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    stopped.recv_timeout(CHECKPOINT_EVERY)
                {
                    if !wrote.swap(false, Ordering::Acquire) {
                        continue;
                    }
                    counted.fetch_add(1, Ordering::Relaxed);
                    // (busy, frames in the log, frames copied)
                    let copied = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                        ))
                    });
                    match copied {
                        Ok((busy, log, done)) if busy != 0 || done < log => {
                            wrote.store(true, Ordering::Release);
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::warn!(error = %e, "checkpoint failed");
                            wrote.store(true, Ordering::Release);
                        }
                    }
                }
            })
            .map_err(|e| {
                StoreError::Database(format!("cannot start the checkpoint thread: {e}"))
            })?;
        Ok(Checkpointer {
            stop: Some(stop),
            thread: Some(thread),
            runs,
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Creates the database file readable and writable by its owner only.
fn create_private(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        // Another process created it first: fine.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Database(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

/// The page cache of each connection, in KiB (SQLite's `cache_size`).
const PAGE_CACHE_KIB: i64 = -65_536;

fn configure(conn: Connection) -> Result<Connection> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Switching to WAL needs a moment alone with the file; another process
    // opening it at the same time makes it busy, so try a few times.
    let mut tries = 0;
    loop {
        match conn.pragma_update(None, "journal_mode", "WAL") {
            Ok(()) => break,
            Err(e) if tries < 50 && is_busy(&e) => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e.into()),
        }
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // SQLite's default page cache is 2 MB. A bulk scan inserts into the
    // sweep index's term tree at random places, so with the default most
    // inserts first read a page back from the OS; 64 MB per connection
    // keeps the hot part of the trees in memory (negative: KiB).
    conn.pragma_update(None, "cache_size", PAGE_CACHE_KIB)?;
    Ok(conn)
}

/// Applies the migrations not yet applied. The version is read inside an
/// exclusive transaction, so two processes opening a fresh file at once
/// cannot both run a migration.
fn migrate(conn: &Connection) -> Result<()> {
    conn.execute_batch("BEGIN EXCLUSIVE")?;
    let result = (|| -> Result<()> {
        let applied: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let applied = usize::try_from(applied).unwrap_or(0);
        if applied > MIGRATIONS.len() {
            return Err(StoreError::Database(format!(
                "the database has schema version {applied}, newer than this binary knows ({})",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            conn.execute_batch(sql)?;
            if i + 1 == 4 {
                access::fill_principals(conn)?;
            }
            conn.pragma_update(None, "user_version", (i + 1) as i64)?;
            tracing::info!(version = i + 1, "applied schema migration");
        }
        Ok(())
    })();
    match result {
        Ok(()) => conn.execute_batch("COMMIT")?,
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
    }
    Ok(())
}

/// Starts a writing transaction that holds SQLite's write lock from the
/// start.
pub(crate) fn begin(conn: &mut Connection) -> Result<rusqlite::Transaction<'_>> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

pub(crate) fn parse_ts(what: &str, s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt(what, e.to_string()))
}

pub(crate) fn from_json<T: DeserializeOwned>(what: &str, doc: &str) -> Result<T> {
    serde_json::from_str(doc).map_err(|e| corrupt(what, e.to_string()))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(format!("cannot encode: {e}")))
}

pub(crate) fn corrupt(what: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what: what.to_string(),
        reason: reason.into(),
    }
}

/// A sequence number as SQLite's integer.
pub(crate) fn seq_i64(seq: u64) -> Result<i64> {
    i64::try_from(seq).map_err(|_| StoreError::Conflict(format!("sequence number {seq} too large")))
}

/// A stored non-negative integer.
pub(crate) fn to_u64(what: &str, v: i64) -> Result<u64> {
    u64::try_from(v).map_err(|_| corrupt(what, format!("{v} is negative")))
}

pub(crate) fn limit_i64(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.code == rusqlite::ErrorCode::ConstraintViolation)
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// Maps a unique-key violation to a `Conflict` with a message of ours.
pub(crate) fn conflict_or(e: rusqlite::Error, message: impl FnOnce() -> String) -> StoreError {
    if is_unique_violation(&e) {
        StoreError::Conflict(message())
    } else {
        e.into()
    }
}

/// A counter in `meta`, bumped by `by` inside the caller's transaction;
/// returns the new value.
pub(crate) fn bump_counter(tx: &rusqlite::Transaction<'_>, key: &str, by: u64) -> Result<u64> {
    let v: String = tx
        .prepare_cached(
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + ?2 AS TEXT) \
             WHERE key = ?1 RETURNING value",
        )?
        .query_row(rusqlite::params![key, seq_i64(by)?], |r| r.get(0))?;
    v.parse()
        .map_err(|_| corrupt(&format!("meta.{key}"), format!("{v:?} is not a number")))
}

/// A counter in `meta`.
pub(crate) fn counter(conn: &Connection, key: &str) -> Result<u64> {
    let v: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    match v {
        None => Ok(0),
        Some(v) => v
            .parse()
            .map_err(|_| corrupt(&format!("meta.{key}"), format!("{v:?} is not a number"))),
    }
}
