//! The shopshield store on PostgreSQL (15 and later).
//!
//! [`PgStore`] implements every trait of the store seam
//! ([`shopshield_store::Store`]) with the same semantics as the SQLite
//! store, and passes the same conformance suite, so several processes can
//! share one database. See the crate's README for how the schema maps and
//! why each lock is taken where it is.
//!
//! ```no_run
//! use shopshield_postgres::PgStore;
//! use shopshield_store::RegistryStore;
//!
//! let store = PgStore::connect("postgres://postgres@127.0.0.1/shopshield")?;
//! println!("registry version {}", store.registry_version()?);
//! # Ok::<(), shopshield_store::StoreError>(())
//! ```
//!
//! The database must exist; [`PgStore::connect`] creates and migrates the
//! schema in it. The store's methods block: call them from ordinary
//! threads (or `spawn_blocking`), never from inside an async task.

mod access;
mod authorization;
mod catalog;
mod conn;
mod content;
mod enforcement;
mod feed;
mod notice;
mod outbox;
mod registry;
mod sweep;

use std::time::Duration;

use shopshield_store::{Result, Store, StoreError};

use crate::conn::{Conn, Manager, col, corrupt, map_err};

/// Schema migrations, applied in order; `schema_migrations` records each.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "0001_schema",
        include_str!("../migrations/0001_schema.sql"),
    ),
    (
        5,
        "0005_after_listing",
        include_str!("../migrations/0005_after_listing.sql"),
    ),
    (
        6,
        "0006_content",
        include_str!("../migrations/0006_content.sql"),
    ),
    (
        7,
        "0007_notices",
        include_str!("../migrations/0007_notices.sql"),
    ),
    (
        8,
        "0008_authorizations",
        include_str!("../migrations/0008_authorizations.sql"),
    ),
    (
        9,
        "0009_proof_of_rights",
        include_str!("../migrations/0009_proof_of_rights.sql"),
    ),
];

/// The advisory lock that migrations run under (any fixed number; this is
/// "shopshld" in ASCII).
const MIGRATION_LOCK: i64 = 0x7368_6f70_7368_6c64;

/// The channel registry writers notify, with the new version as payload.
pub(crate) const REGISTRY_CHANNEL: &str = "shopshield_registry";

/// How a [`PgStore`] connects.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections in the pool (the change feed's listener is one more).
    pub pool_size: u32,
    /// Keep each statement prepared on its connection and reuse it (one
    /// round trip per call); without, every call prepares it again (two
    /// round trips). Off only to measure what it saves.
    pub statement_cache: bool,
    /// How long to wait for a connection: to the server, or from a pool
    /// whose connections are all busy.
    pub connect_timeout: Duration,
    /// How long a statement waits for a row lock another transaction
    /// holds (a listing being written, the log head) before it fails with
    /// `StoreError::Database`, as SQLite's busy timeout does.
    pub lock_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            pool_size: 8,
            statement_cache: true,
            connect_timeout: Duration::from_secs(10),
            lock_timeout: Duration::from_secs(10),
        }
    }
}

/// The store on PostgreSQL: a pool of connections with their prepared
/// statements, and a listener for registry changes.
pub struct PgStore {
    pool: r2d2::Pool<Manager>,
    feed: feed::Feed,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgStore")
    }
}

impl PgStore {
    /// Connects to the database at `url` (a `postgres://` URL or a
    /// `key=value` string) and creates or migrates its schema. The
    /// database must exist. Several processes may connect to a fresh
    /// database at once.
    pub fn connect(url: &str) -> Result<PgStore> {
        PgStore::connect_with(url, &PgOptions::default())
    }

    /// [`PgStore::connect`] with options.
    pub fn connect_with(url: &str, options: &PgOptions) -> Result<PgStore> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Database(format!("invalid database URL: {e}")))?;
        if config.get_application_name().is_none() {
            config.application_name("shopshield");
        }
        config.connect_timeout(options.connect_timeout);
        // Session settings: a lock wait is bounded; a session that stays
        // idle inside a transaction (a process frozen mid-write) is ended
        // by the server, so the locks it holds do not stop everyone else.
        let session = format!(
            "-c lock_timeout={}ms -c idle_in_transaction_session_timeout=60s",
            options.lock_timeout.as_millis().max(1)
        );
        let options_string = match config.get_options() {
            Some(given) => format!("{given} {session}"),
            None => session,
        };
        config.options(&options_string);
        let manager = Manager {
            config: config.clone(),
            cache: options.statement_cache,
        };
        // Connect once by hand first: a wrong URL or a server that is down
        // is reported as it is, not as a pool timeout.
        let mut first = r2d2::ManageConnection::connect(&manager).map_err(|e| {
            StoreError::Database(format!(
                "cannot connect to PostgreSQL ({}): {}",
                describe(&config),
                map_err(e)
            ))
        })?;
        check_encoding(&mut first)?;
        migrate(&mut first)?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(options.pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(options.connect_timeout)
            .idle_timeout(Some(Duration::from_secs(300)))
            .build(manager)
            .map_err(|e| StoreError::Database(format!("cannot start the pool: {e}")))?;
        Ok(PgStore {
            pool,
            feed: feed::Feed::new(config),
        })
    }

    /// A connection from the pool.
    pub(crate) fn conn(&self) -> Result<r2d2::PooledConnection<Manager>> {
        self.pool
            .get()
            .map_err(|e| StoreError::Database(format!("no database connection: {e}")))
    }
}

impl PgStore {
    /// The statements prepared on one of the pool's connections, as
    /// PostgreSQL lists them (`pg_prepared_statements`): with a pool of
    /// one, what the store's calls left prepared. For tests of the cache.
    #[doc(hidden)]
    pub fn prepared_statements(&self) -> Result<Vec<String>> {
        self.conn()?
            .query("SELECT statement FROM pg_prepared_statements", &[])?
            .iter()
            .map(|row| col(row, 0, "pg_prepared_statements.statement"))
            .collect()
    }
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }
}

/// Where a configuration points, without its password.
fn describe(config: &postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .zip(config.get_ports().iter().chain(std::iter::repeat(&5432)))
        .map(|(host, port)| match host {
            postgres::config::Host::Tcp(h) => format!("{h}:{port}"),
            #[cfg(unix)]
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    format!(
        "database {:?} on {} as {:?}",
        config.get_dbname().unwrap_or("(default)"),
        if hosts.is_empty() {
            "(no host)".to_string()
        } else {
            hosts.join(", ")
        },
        config.get_user().unwrap_or("(default)")
    )
}

/// Text is stored byte for byte only in a UTF-8 database.
fn check_encoding(conn: &mut Conn) -> Result<()> {
    let row = conn.query_one("SELECT current_setting('server_encoding')", &[])?;
    let encoding: String = col(&row, 0, "server_encoding")?;
    if encoding != "UTF8" {
        return Err(StoreError::Database(format!(
            "the database's encoding is {encoding}; shopshield needs UTF8 \
             (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)"
        )));
    }
    Ok(())
}

/// Applies the migrations not yet applied, in one transaction holding an
/// advisory lock, so processes starting at once on a fresh database run
/// each migration exactly once: the others wait for the lock and then find
/// it applied. Refuses a database migrated by a newer release.
fn migrate(conn: &mut Conn) -> Result<()> {
    let mut tx = conn.begin()?;
    // Another process's migration may take longer than a row write.
    tx.batch("SET LOCAL lock_timeout = '5min'")?;
    tx.query_one("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version    integer PRIMARY KEY,
             name       text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )?;
    let applied = tx.query(
        "SELECT version, name FROM schema_migrations ORDER BY version",
        &[],
    )?;
    for row in &applied {
        let version: i32 = col(row, 0, "schema_migrations.version")?;
        let name: String = col(row, 1, "schema_migrations.name")?;
        match MIGRATIONS.iter().find(|m| m.0 == version) {
            Some(m) if m.1 == name => {}
            Some(m) => {
                return Err(corrupt(
                    "schema_migrations.name",
                    format!(
                        "migration {version} is {name:?} here, {:?} in this binary",
                        m.1
                    ),
                ));
            }
            None => {
                return Err(StoreError::Database(format!(
                    "the database has schema migration {version} ({name}), newer than this \
                     binary knows ({}); upgrade shopshield",
                    MIGRATIONS.len()
                )));
            }
        }
    }
    for (version, name, sql) in MIGRATIONS {
        let done = applied
            .iter()
            .any(|r| r.try_get::<_, i32>(0).ok() == Some(*version));
        if done {
            continue;
        }
        tx.batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )?;
        tracing::info!(version, name, "applied PostgreSQL schema migration");
    }
    tx.commit()
}

/// A counter in `meta`.
pub(crate) fn counter(conn: &mut Conn, key: &str) -> Result<u64> {
    let row = conn.query_opt("SELECT value FROM meta WHERE key = $1", &[&key])?;
    match row {
        None => Err(corrupt(&format!("meta.{key}"), "missing")),
        Some(row) => conn::u64_col(&row, 0, &format!("meta.{key}")),
    }
}

/// Bumps a counter in `meta` by `by` inside the caller's transaction and
/// returns the new value. The row stays locked until the transaction
/// ends, so transactions that bump it commit in the order of the values
/// they got.
pub(crate) fn bump_counter(tx: &mut Conn, key: &str, by: u64) -> Result<u64> {
    let by = conn::seq_i64(by)?;
    let row = tx.query_opt(
        "UPDATE meta SET value = value + $2 WHERE key = $1 RETURNING value",
        &[&key, &by],
    )?;
    match row {
        None => Err(corrupt(&format!("meta.{key}"), "missing")),
        Some(row) => conn::u64_col(&row, 0, &format!("meta.{key}")),
    }
}
