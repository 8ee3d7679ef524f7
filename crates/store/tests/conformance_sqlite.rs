//! The store conformance suite on SQLite: two connections (as two processes
//! would open them) on one real database file.

use shopshield_store::SqliteStore;
use shopshield_store::conformance::Pair;

fn open() -> Pair {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("shopshield.db");
    let a = SqliteStore::open(&path).expect("open a");
    let b = SqliteStore::open(&path).expect("open b");
    Pair {
        a: Box::new(a),
        b: Box::new(b),
        guard: Box::new(dir),
    }
}

shopshield_store::conformance_tests!(open);
