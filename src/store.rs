//! Which store a command opens: `--store URL` (or `SHOPSHIELD_STORE`), or
//! by default the SQLite file in the data directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use shopshield_store::{SqliteStore, Store};

use crate::BadInput;

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL.
    Postgres(String),
}

/// Reads `--store`: `postgres://…`/`postgresql://…`, `sqlite:PATH`, or
/// nothing for `DATA/shopshield.db`.
pub fn location(data: &Path, url: Option<&str>) -> Result<Location> {
    match url.map(str::trim) {
        None | Some("") => Ok(Location::Sqlite(data.join("shopshield.db"))),
        Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
            Ok(Location::Postgres(u.to_string()))
        }
        Some(u) => match u
            .strip_prefix("sqlite://")
            .or_else(|| u.strip_prefix("sqlite:"))
        {
            Some(path) if !path.is_empty() => Ok(Location::Sqlite(PathBuf::from(path))),
            _ => Err(BadInput(format!(
                "--store: {u:?} is neither postgres://USER@HOST/DB nor sqlite:PATH"
            ))
            .into()),
        },
    }
}

/// Creates a directory (and its parents) that only its owner may enter,
/// unless it exists already (its mode is then left as it is).
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Creates (or truncates) a file only its owner may read and write: the
/// CLI's outputs carry listings, decisions and reports, like the store.
pub fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// True when `path` exists and is neither a regular file nor a directory: a device such as
/// `/dev/null` or `/dev/stdout`, a named pipe or a socket. An `--out` there is written
/// directly: writing a temporary file beside it and renaming it into place (what keeps a
/// regular file from being left half-written) would replace the device with a file.
pub fn is_special_file(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Opens an existing special file (see [`is_special_file`]) for writing, without creating
/// or truncating anything.
pub fn open_special(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).open(path)
}

/// Opens the store, creating the data directory for an SQLite file.
pub fn open(data: &Path, url: Option<&str>) -> Result<Arc<dyn Store>> {
    match location(data, url)? {
        Location::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                private_dir(dir)
                    .with_context(|| format!("cannot create data directory {}", dir.display()))?;
            }
            let store = SqliteStore::open(&path)
                .with_context(|| format!("cannot open the store {}", path.display()))?;
            Ok(Arc::new(store))
        }
        Location::Postgres(url) => open_postgres(&url),
    }
}

fn open_postgres(url: &str) -> Result<Arc<dyn Store>> {
    let store = shopshield_postgres::PgStore::connect(url)
        .with_context(|| "cannot open the PostgreSQL store (check --store / SHOPSHIELD_STORE)")?;
    Ok(Arc::new(store))
}

/// An existing store only (for `audit verify`, which must not create one).
pub fn open_existing(data: &Path, url: Option<&str>) -> Result<Arc<dyn Store>> {
    if let Location::Sqlite(path) = location(data, url)?
        && !path.is_file()
    {
        return Err(BadInput(format!("no store at {}", path.display())).into());
    }
    open(data, url)
}
