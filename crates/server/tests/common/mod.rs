//! The one harness of the HTTP tests: a real server on 127.0.0.1:0 over a
//! real store, keys made through the keys service, and JSON calls.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;

use reqwest::{Client, StatusCode};
use serde_json::Value;
use shopshield_app::{App, AppConfig, Clock, NewKey, Principal, SystemClock};
use shopshield_model::Role;
use shopshield_store::SqliteStore;

pub mod load;

/// A running server and the application behind it.
pub struct Server {
    pub base: String,
    pub app: Arc<App>,
    client: Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Serves `app` on a free loopback port.
    pub async fn serve(app: Arc<App>) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = app.clone();
        let task = tokio::spawn(async move {
            shopshield_server::serve(served, listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Server {
            base,
            app,
            client: Client::new(),
            stop: Some(tx),
            task,
        }
    }

    /// A server on the SQLite file `db`.
    ///
    /// The rate limiter has its own tests (`hostile.rs`); the others test
    /// answers, so unless a test sets its own rates they are roomy.
    pub async fn start_with(db: &Path, mut config: AppConfig, clock: Arc<dyn Clock>) -> Server {
        if config.server.rate == shopshield_app::RateConfig::default() {
            let roomy = shopshield_app::Bucket::new(1e6, 1e6);
            config.server.rate.key.clear();
            config.server.rate.role.clear();
            config.server.rate.default_key = roomy;
            config.server.rate.default_role = roomy;
            config.server.rate.anonymous = roomy;
        }
        let store = SqliteStore::open(db).unwrap();
        Server::serve(Arc::new(App::new(Arc::new(store), config, clock).unwrap())).await
    }

    /// A server with the default configuration and the system clock.
    pub async fn start(db: &Path) -> Server {
        Server::start_with(db, AppConfig::default(), Arc::new(SystemClock)).await
    }

    /// A new key, made as the operator would.
    pub fn key_for(&self, new: NewKey) -> String {
        self.app
            .keys()
            .create(&Principal::operator("test"), new)
            .unwrap()
            .0
    }

    /// A key of `role`, scoped to a holder, shop or creator as it needs.
    pub fn key(&self, role: Role, scope: Option<&str>) -> String {
        let scope = scope.map(str::to_string);
        self.key_for(NewKey {
            role: Some(role),
            holder: scope.clone().filter(|_| role == Role::RightsHolder),
            shop: scope.clone().filter(|_| role == Role::Seller),
            creator: scope.filter(|_| role == Role::Creator),
            label: format!("test {role}"),
            principal: None,
        })
    }

    /// A reviewer (or admin) key acting as `principal`.
    pub fn key_as(&self, role: Role, principal: &str) -> String {
        self.key_for(NewKey {
            role: Some(role),
            label: principal.to_string(),
            principal: Some(principal.to_string()),
            ..NewKey::default()
        })
    }

    pub async fn get(&self, key: &str, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, key: &str, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_raw(&self, key: &str, path: &str, body: Vec<u8>) -> (StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    /// A GET without a key (open endpoints, or checking 401).
    pub async fn get_open(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Server {
    /// A test that fails before `stop` still stops the server, so that its
    /// background duties end and the test's runtime can shut down (instead
    /// of waiting for them forever).
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}
