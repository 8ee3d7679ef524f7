//! Throwaway databases on the test server.
//!
//! The server is `postgres://postgres@127.0.0.1:5432` unless the
//! environment variable `SHOPSHIELD_TEST_PG` names another (a URL; any
//! database path in it is replaced). Each [`TestDb`] is a fresh database
//! `shopshield_test_<random>`, dropped with its connections when the value
//! is dropped. A server that cannot be reached fails the test: these tests
//! never skip.

#![allow(dead_code)]

use postgres::{Client, NoTls};

pub const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// The server's URL without a database, and its query string.
fn server() -> (String, String) {
    let url = std::env::var("SHOPSHIELD_TEST_PG").unwrap_or_else(|_| DEFAULT_SERVER.into());
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b.to_string(), format!("?{q}")),
        None => (url.clone(), String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => base[..authority_start + slash].to_string(),
        None => base,
    };
    (base, query)
}

/// The URL of database `name` on the test server.
pub fn url_of(name: &str) -> String {
    let (base, query) = server();
    format!("{base}/{name}{query}")
}

/// A connection to the server's `postgres` database, or a panic that says
/// what is missing.
pub fn admin() -> Client {
    let url = url_of("postgres");
    match Client::connect(&url, NoTls) {
        Ok(c) => c,
        Err(e) => panic!(
            "PostgreSQL is not reachable at {url}: {e}\n\
             These tests need a running PostgreSQL 15+ server with trust auth for user \
             postgres (scripts/test starts the local one; or set SHOPSHIELD_TEST_PG to \
             another server's URL)."
        ),
    }
}

/// A fresh database, dropped (its connections terminated first) when this
/// value is dropped.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub fn create() -> TestDb {
        let name = format!("shopshield_test_{:016x}", rand::random::<u64>());
        admin()
            .batch_execute(&format!(
                "CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"
            ))
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        TestDb {
            url: url_of(&name),
            name,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let result = admin()
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&self.name],
            )
            .and_then(|_| {
                admin().batch_execute(&format!(
                    "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                    self.name
                ))
            });
        if let Err(e) = result {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
    }
}
