//! Enforcement for shopshield: the consequences of detection, explainable,
//! appealable and auditable.
//!
//! Everything here is pure: no I/O, no clock. Time is always a parameter.
//!
//! * [`EnforcementConfig`]: points table, ladders, windows, SLAs.
//! * [`Event`]s in a hash-chained log ([`chain`]); [`State`] is their fold.
//! * [`Enforcer::execute`] turns a [`Command`] into the events to append,
//!   including derived penalties, warnings and listing changes.
//! * Review queues with SLA and claim leases ([`queue`]).
//! * Webhook [`outbox`]: notifications derived from log entries, HMAC
//!   signatures, retry schedule.
//! * [`access`]: who may run which command and see which record.
//! * [`Journal`]: an in-memory reference store.
//! * [`reporter`]: a rights holder's standing as a reporter of notices
//!   (self-service removal, warnings, restriction), from its record.
//!
//! See `docs/enforcement.md` for the model and the reversal semantics.

pub mod access;
pub mod chain;
pub mod config;
mod enforcer;
pub mod event;
mod journal;
mod ladder;
pub mod outbox;
pub mod queue;
mod queue_key;
pub mod reporter;
pub mod snapshot;
mod state;

pub use access::{Forbidden, actor_of, authorize, can_view, party_of, permission_for};
pub use chain::{
    Anchor, LogEntry, StoredEntry, TamperError, TamperReason, decode_body, encode_event,
    verify_from, verify_records,
};
pub use config::{EnforcementConfig, Milestone, PenaltyDuration, PenaltyKind, Severity};
pub use enforcer::{Command, CommandError, Enforcer, MAX_TEXT_LEN};
pub use event::{
    Actor, ContentSubject, Event, EventKind, LiftReason, ListingCause, ListingStatus, Measure,
    Party, Penalty, Source, Subject, Verdict, ViolationRecord,
};
pub use journal::{HeadMoved, Journal, LoadError};
pub use outbox::{
    Delivery, DeliveryStatus, Notification, NotificationKind, notification_for, sign,
    verify_signature,
};
pub use queue::{CaseClosure, CaseError, CaseState, CaseView, QueueKey, QueueSummary};
pub use snapshot::{SnapshotError, decode_state, encode_state};
pub use state::{
    AppealDecision, AppealState, ApplyError, ListingState, NoAppeal, Observation, PartyObservation,
    PartyState, PartyView, Savepoint, State, ViolationState, ViolationView,
};
