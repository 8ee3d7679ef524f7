//! [`ChangeFeed`] on PostgreSQL: `LISTEN shopshield_registry`.
//!
//! One thread per store, started by the first wait, keeps a connection of
//! its own open and listening, reconnecting when it drops. Each
//! notification bumps a generation number and wakes the waiters, which
//! then re-read the registry version from the database; the notification
//! only says "look now". A waiter notes the generation before it reads
//! the version, so a change committed after that read always wakes it.
//! While the listener is down (not yet connected, or reconnecting) waiters
//! poll the version instead, and a reconnect wakes them all, since
//! notifications sent meanwhile were lost.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};
use shopshield_store::{ChangeFeed, RegistryStore, Result};

use crate::{PgStore, REGISTRY_CHANNEL};

/// How often waiters poll while the listener is not connected.
const POLL: Duration = Duration::from_millis(250);
/// How long the listener blocks at a time before it looks whether its
/// store is gone.
const SLICE: Duration = Duration::from_millis(200);
/// Quiet time after which the listener checks that its connection lives
/// (a half-open TCP connection would otherwise go unnoticed).
const PING_AFTER: Duration = Duration::from_secs(10);
/// How long the first wait waits for the listener's first connection.
const FIRST_CONNECT: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

#[derive(Default)]
struct State {
    /// Bumped by every notification and every (re)connection.
    generation: u64,
    listening: bool,
    /// Connection attempts that finished, successful or not.
    attempts: u64,
    stop: bool,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is plain counters: a panic elsewhere cannot leave it
        // half-updated.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }

    fn stopped(&self) -> bool {
        self.lock().stop
    }

    /// Waits until `done` holds or `deadline` passes.
    fn wait_until(&self, deadline: Instant, mut done: impl FnMut(&State) -> bool) {
        let mut st = self.lock();
        loop {
            let now = Instant::now();
            if done(&st) || now >= deadline {
                return;
            }
            st = self
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// The listener of one store.
pub(crate) struct Feed {
    config: postgres::Config,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Feed {
    pub(crate) fn new(config: postgres::Config) -> Feed {
        Feed {
            config,
            shared: Arc::default(),
            thread: Mutex::new(None),
        }
    }

    /// Starts the listener thread if it is not running; true if this call
    /// started it.
    fn start(&self) -> bool {
        let mut thread = self.thread.lock().unwrap_or_else(|p| p.into_inner());
        if thread.is_some() {
            return false;
        }
        let mut config = self.config.clone();
        config.application_name("shopshield-listener");
        let shared = self.shared.clone();
        match std::thread::Builder::new()
            .name("pg-registry-listener".into())
            .spawn(move || listen(&config, &shared))
        {
            Ok(handle) => {
                *thread = Some(handle);
                true
            }
            Err(e) => {
                // Waiters poll instead.
                tracing::warn!(error = %e, "cannot start the registry listener");
                false
            }
        }
    }

    /// Whether the listener is connected and listening (for tests).
    pub(crate) fn listening(&self) -> bool {
        self.shared.lock().listening
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.shared.update(|s| s.stop = true);
        let thread = self.thread.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(handle) = thread.take() {
            // It notices within SLICE (or a connect timeout).
            let _ = handle.join();
        }
    }
}

/// The listener thread: connect, LISTEN, pass notifications on; on any
/// failure, reconnect with a growing pause.
fn listen(config: &postgres::Config, shared: &Shared) {
    let mut backoff = Duration::from_millis(50);
    while !shared.stopped() {
        match connect(config) {
            Ok(mut client) => {
                backoff = Duration::from_millis(50);
                shared.update(|s| {
                    s.listening = true;
                    s.attempts += 1;
                    s.generation += 1;
                });
                if let Err(e) = relay(&mut client, shared) {
                    tracing::warn!(error = %e, "registry listener lost its connection; reconnecting");
                }
                shared.update(|s| s.listening = false);
            }
            Err(e) => {
                shared.update(|s| s.attempts += 1);
                tracing::warn!(error = %e, "registry listener cannot connect; retrying");
                let until = Instant::now() + backoff;
                while Instant::now() < until && !shared.stopped() {
                    std::thread::sleep(SLICE.min(until.saturating_duration_since(Instant::now())));
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

fn connect(config: &postgres::Config) -> std::result::Result<Client, postgres::Error> {
    let mut client = config.connect(NoTls)?;
    client.batch_execute(&format!("LISTEN {REGISTRY_CHANNEL}"))?;
    Ok(client)
}

/// Passes notifications on until the store is dropped (`Ok`) or the
/// connection fails (`Err`, why).
fn relay(client: &mut Client, shared: &Shared) -> std::result::Result<(), String> {
    let mut quiet_since = Instant::now();
    loop {
        if shared.stopped() {
            return Ok(());
        }
        let got = client
            .notifications()
            .timeout_iter(SLICE)
            .next()
            .map_err(|e| e.to_string())?;
        if got.is_some() {
            quiet_since = Instant::now();
            shared.update(|s| s.generation += 1);
            continue;
        }
        // The iterator also ends quietly when the server hangs up.
        if client.is_closed() {
            return Err("the server closed the connection".into());
        }
        if quiet_since.elapsed() >= PING_AFTER {
            client
                .is_valid(Duration::from_secs(5))
                .map_err(|e| e.to_string())?;
            quiet_since = Instant::now();
        }
    }
}

impl ChangeFeed for PgStore {
    fn wait_registry_change(&self, known: u64, timeout: Duration) -> Result<u64> {
        let start = Instant::now();
        let deadline = start + timeout;
        let shared = &self.feed.shared;
        if self.feed.start() {
            // Give the listener its first connection, so this wait already
            // hears notifications.
            shared.wait_until(deadline.min(start + FIRST_CONNECT), |s| s.attempts > 0);
        }
        loop {
            let (generation, listening) = {
                let s = shared.lock();
                (s.generation, s.listening)
            };
            let version = self.registry_version()?;
            let now = Instant::now();
            if version != known || now >= deadline {
                return Ok(version);
            }
            let until = if listening {
                deadline
            } else {
                deadline.min(now + POLL)
            };
            shared.wait_until(until, |s| {
                s.generation != generation || s.listening != listening
            });
        }
    }
}

impl PgStore {
    /// Whether this store's change feed is connected and listening.
    pub fn feed_listening(&self) -> bool {
        self.feed.listening()
    }
}
