//! The store conformance suite on PostgreSQL: two stores (as two processes
//! would connect them) on one fresh database.

mod common;

use shopshield_postgres::PgStore;
use shopshield_store::conformance::Pair;

fn open() -> Pair {
    let db = common::TestDb::create();
    let a = PgStore::connect(&db.url).unwrap_or_else(|e| panic!("connect a: {e}"));
    let b = PgStore::connect(&db.url).unwrap_or_else(|e| panic!("connect b: {e}"));
    Pair {
        a: Box::new(a),
        b: Box::new(b),
        guard: Box::new(db),
    }
}

shopshield_store::conformance_tests!(open);
