//! One pooled connection with its prepared statements, the pool's manager,
//! transactions, and the mapping of PostgreSQL errors to [`StoreError`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use postgres::error::SqlState;
use postgres::types::{FromSql, ToSql};
use postgres::{Client, NoTls, Row, Statement};
use shopshield_store::{Result, StoreError};

/// Query parameters.
pub(crate) type Params<'a> = [&'a (dyn ToSql + Sync)];

/// A connection that was used this recently is handed out without a
/// round trip to check it; one idle for longer is checked first.
const FRESH: Duration = Duration::from_secs(5);

/// A database connection and the statements prepared on it.
pub(crate) struct Conn {
    client: Client,
    /// Statements by SQL text, prepared on first use (when caching).
    statements: HashMap<String, Statement>,
    cache: bool,
    last_used: Instant,
    /// A rollback failed: the session's state is unknown, so the pool
    /// drops the connection.
    broken: bool,
}

impl Conn {
    pub(crate) fn new(client: Client, cache: bool) -> Conn {
        Conn {
            client,
            statements: HashMap::new(),
            cache,
            last_used: Instant::now(),
            broken: false,
        }
    }

    /// The statement for `sql`: the cached one, or prepared now (and
    /// cached when caching).
    fn statement(&mut self, sql: &str) -> Result<Statement> {
        if let Some(st) = self.statements.get(sql) {
            return Ok(st.clone());
        }
        let st = self.client.prepare(sql).map_err(map_err)?;
        if self.cache {
            self.statements.insert(sql.to_string(), st.clone());
        }
        Ok(st)
    }

    /// Runs `f` with the statement for `sql`. A cached statement whose
    /// plan no longer fits the schema (another process migrated the
    /// database) is dropped, so the next call prepares it again.
    fn with<T>(
        &mut self,
        sql: &str,
        f: impl FnOnce(&mut Client, &Statement) -> std::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        self.last_used = Instant::now();
        let st = self.statement(sql)?;
        f(&mut self.client, &st).map_err(|e| {
            if e.code() == Some(&SqlState::FEATURE_NOT_SUPPORTED) {
                self.statements.remove(sql);
            }
            map_err(e)
        })
    }

    pub(crate) fn query(&mut self, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
        self.with(sql, |c, st| c.query(st, params))
    }

    /// At most one row.
    pub(crate) fn query_opt(&mut self, sql: &str, params: &Params<'_>) -> Result<Option<Row>> {
        self.with(sql, |c, st| c.query_opt(st, params))
    }

    /// Exactly one row.
    pub(crate) fn query_one(&mut self, sql: &str, params: &Params<'_>) -> Result<Row> {
        self.with(sql, |c, st| c.query_one(st, params))
    }

    /// Rows changed.
    pub(crate) fn execute(&mut self, sql: &str, params: &Params<'_>) -> Result<u64> {
        self.with(sql, |c, st| c.execute(st, params))
    }

    /// Runs SQL without parameters through the simple protocol.
    pub(crate) fn batch(&mut self, sql: &str) -> Result<()> {
        self.last_used = Instant::now();
        self.client.batch_execute(sql).map_err(map_err)
    }

    /// Starts a transaction (read committed), rolled back unless committed.
    pub(crate) fn begin(&mut self) -> Result<Tx<'_>> {
        self.batch("BEGIN")?;
        Ok(Tx {
            conn: self,
            open: true,
        })
    }
}

/// An open transaction on a [`Conn`]; dropped without
/// [`commit`](Tx::commit), it rolls back.
pub(crate) struct Tx<'a> {
    conn: &'a mut Conn,
    open: bool,
}

impl Tx<'_> {
    pub(crate) fn commit(mut self) -> Result<()> {
        self.open = false;
        self.conn.batch("COMMIT")
    }
}

impl std::ops::Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl std::ops::DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open && self.conn.client.batch_execute("ROLLBACK").is_err() {
            self.conn.broken = true;
        }
    }
}

/// Opens and checks the pool's connections.
pub(crate) struct Manager {
    pub(crate) config: postgres::Config,
    pub(crate) cache: bool,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> std::result::Result<Conn, postgres::Error> {
        Ok(Conn::new(self.config.connect(NoTls)?, self.cache))
    }

    fn is_valid(&self, conn: &mut Conn) -> std::result::Result<(), postgres::Error> {
        // A connection in use a moment ago is fine; checking every
        // checkout would add a round trip to every call.
        if conn.last_used.elapsed() < FRESH {
            return Ok(());
        }
        conn.client.is_valid(Duration::from_secs(5))?;
        conn.last_used = Instant::now();
        Ok(())
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

/// Maps a PostgreSQL error: constraint violations (as SQLite's store
/// does) and lost races (deadlock, serialization failure) are conflicts;
/// everything else, a lock wait that timed out included, is a database
/// error.
pub(crate) fn map_err(e: postgres::Error) -> StoreError {
    let Some(db) = e.as_db_error() else {
        return StoreError::Database(e.to_string());
    };
    let mut message = db.message().to_string();
    if let Some(detail) = db.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    let code = db.code();
    if code.code().starts_with("23") {
        StoreError::Conflict(message)
    } else if [
        SqlState::T_R_DEADLOCK_DETECTED,
        SqlState::T_R_SERIALIZATION_FAILURE,
    ]
    .contains(code)
    {
        StoreError::Conflict(format!("lost a race with another writer: {message}"))
    } else if *code == SqlState::LOCK_NOT_AVAILABLE {
        // lock_timeout: another transaction held a lock too long (stuck,
        // not racing), like SQLite's busy timeout.
        StoreError::Database(format!("timed out waiting for a lock: {message}"))
    } else {
        StoreError::Database(format!("{message} (SQLSTATE {})", code.code()))
    }
}

/// Replaces a conflict's message with one naming what clashed.
pub(crate) fn conflict_as(e: StoreError, message: impl FnOnce() -> String) -> StoreError {
    match e {
        StoreError::Conflict(why) => StoreError::Conflict(format!("{}; {why}", message())),
        e => e,
    }
}

pub(crate) fn corrupt(what: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what: what.to_string(),
        reason: reason.into(),
    }
}

/// Column `idx` of a row; a value that cannot be read is corrupt data,
/// named by `what` (`table.column`).
pub(crate) fn col<'a, T: FromSql<'a>>(row: &'a Row, idx: usize, what: &str) -> Result<T> {
    row.try_get(idx).map_err(|e| corrupt(what, e.to_string()))
}

/// A stored non-negative integer.
pub(crate) fn u64_col(row: &Row, idx: usize, what: &str) -> Result<u64> {
    let v: i64 = col(row, idx, what)?;
    u64::try_from(v).map_err(|_| corrupt(what, format!("{v} is negative")))
}

/// A stored version or count that fits 32 bits.
pub(crate) fn u32_col(row: &Row, idx: usize, what: &str) -> Result<u32> {
    let v: i64 = col(row, idx, what)?;
    u32::try_from(v).map_err(|_| corrupt(what, format!("{v} is out of range")))
}

/// A document column, decoded.
pub(crate) fn json_col<T: serde::de::DeserializeOwned>(
    row: &Row,
    idx: usize,
    what: &str,
) -> Result<T> {
    let doc: &str = col(row, idx, what)?;
    serde_json::from_str(doc).map_err(|e| corrupt(what, e.to_string()))
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Database(format!("cannot encode: {e}")))
}

/// A sequence number as PostgreSQL's bigint.
pub(crate) fn seq_i64(seq: u64) -> Result<i64> {
    i64::try_from(seq).map_err(|_| StoreError::Conflict(format!("sequence number {seq} too large")))
}

pub(crate) fn limit_i64(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
