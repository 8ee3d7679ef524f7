//! An in-memory log with its state: the reference for what a store does.
//!
//! A persistent store does the same four things: read the head, run the
//! command against the state, insert the sealed entries and their outbox
//! rows in one transaction (the insert fails if another writer took the
//! sequence numbers first; then reload and retry), and apply the events.

use chrono::{DateTime, Utc};

use crate::chain::{self, Anchor, LogEntry, StoredEntry, TamperError};
use crate::enforcer::{Command, CommandError, Enforcer};
use crate::event::{Actor, Event};
use crate::outbox::{Notification, notification_for};
use crate::state::{ApplyError, State};

/// A log that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Tampered(#[from] TamperError),
    #[error("log entry {seq}: {error}")]
    Apply { seq: u64, error: ApplyError },
}

/// Another writer appended first: reload the state and run the command again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the log head moved from {expected:?} to {actual:?}; reload and retry")]
pub struct HeadMoved {
    pub expected: Anchor,
    pub actual: Anchor,
}

/// A verified log and the state it folds to.
#[derive(Debug, Clone, Default)]
pub struct Journal {
    records: Vec<StoredEntry>,
    state: State,
}

impl Journal {
    pub fn new() -> Journal {
        Journal::default()
    }

    /// Verifies stored entries (against `anchor` if given) and replays them.
    pub fn load(records: Vec<StoredEntry>, anchor: Option<&Anchor>) -> Result<Journal, LoadError> {
        let entries = chain::verify_records(&records, anchor)?;
        let mut state = State::new();
        for e in &entries {
            state
                .apply(&e.event)
                .map_err(|error| LoadError::Apply { seq: e.seq, error })?;
        }
        Ok(Journal { records, state })
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn records(&self) -> &[StoredEntry] {
        &self.records
    }

    /// The head to anchor externally.
    pub fn head(&self) -> Anchor {
        self.records
            .last()
            .map_or_else(Anchor::genesis, StoredEntry::anchor)
    }

    /// Runs a command and appends its events. Returns the new entries'
    /// notifications (what the store puts in its outbox).
    pub fn execute(
        &mut self,
        enforcer: &Enforcer,
        command: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<Notification>, CommandError> {
        let events = enforcer.execute(&self.state, command, actor, now)?;
        Ok(self.append(&events))
    }

    /// Appends `events`, computed against the state at `expected`, only if
    /// the head is still there: optimistic concurrency, exactly what a
    /// store gets from inserting `seq` as a primary key.
    pub fn try_append(
        &mut self,
        expected: &Anchor,
        events: &[Event],
    ) -> Result<Vec<Notification>, HeadMoved> {
        let actual = self.head();
        if &actual != expected {
            return Err(HeadMoved {
                expected: expected.clone(),
                actual,
            });
        }
        Ok(self.append(events))
    }

    /// Appends events produced by [`Enforcer::execute`] against this state.
    ///
    /// # Panics
    /// If the events do not apply to the state, which means they were not
    /// produced by the enforcer against this very state (a programming
    /// error, not an input error).
    pub fn append(&mut self, events: &[Event]) -> Vec<Notification> {
        let sealed = chain::seal(&self.head(), events);
        let mut next = self.state.clone();
        let mut notes = Vec::new();
        for r in &sealed {
            let entry = match r.decode() {
                Ok(e) => e,
                Err(e) => panic!("sealed entry does not decode: {e}"),
            };
            if let Err(e) = next.apply(&entry.event) {
                panic!("enforcer produced an event that does not apply: {e}");
            }
            notes.extend(notification_for(&entry));
        }
        self.state = next;
        self.records.extend(sealed);
        notes
    }

    /// All entries, decoded.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.records
            .iter()
            .filter_map(|r| r.decode().ok())
            .collect()
    }
}
