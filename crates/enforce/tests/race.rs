//! Two reviewers racing for one case through a store that appends with
//! optimistic concurrency: they can never both decide it.

mod common;

use std::sync::{Arc, Barrier, Mutex};
use std::thread;

use chrono::Duration;
use common::*;
use shopshield_enforce::{Actor, Command, CommandError, EventKind, Journal, Verdict};
use shopshield_model::{Action, ViolationType};

/// Runs `make(reviewer)` against a snapshot, appending only if the head has
/// not moved; on a conflict, reloads and tries again.
fn attempt(
    store: &Mutex<Journal>,
    reviewer: &str,
    cmd: &Command,
    now: chrono::DateTime<chrono::Utc>,
    barrier: Option<&Barrier>,
) -> Result<usize, CommandError> {
    let e = enforcer();
    let actor = Actor::Reviewer {
        id: reviewer.to_string(),
    };
    let mut retries = 0;
    let mut barrier = barrier;
    loop {
        let (state, head) = {
            let j = store.lock().unwrap_or_else(|p| p.into_inner());
            (j.state().clone(), j.head())
        };
        let events = e.execute(&state, cmd, &actor, now)?;
        // Both threads hold a snapshot of the same head before either writes.
        if let Some(b) = barrier.take() {
            b.wait();
        }
        let mut j = store.lock().unwrap_or_else(|p| p.into_inner());
        match j.try_append(&head, &events) {
            Ok(_) => return Ok(retries),
            Err(_) => retries += 1,
        }
    }
}

#[test]
fn two_reviewers_racing_for_one_case() {
    for round in 0..50 {
        let mut j = Journal::new();
        let e = enforcer();
        let cmd = ingest_cmd(
            "l0",
            "s",
            None,
            Action::Review,
            ViolationType::Counterfeit,
            0.7,
            day(0),
        );
        run(&mut j, &e, cmd, day(0)).expect("case opened");
        let store = Arc::new(Mutex::new(j));
        let barrier = Arc::new(Barrier::new(2));
        let now = day(0) + Duration::minutes(round);
        let handles: Vec<_> = ["alice", "bob"]
            .into_iter()
            .map(|r| {
                let store = Arc::clone(&store);
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    let claim = Command::ClaimCase {
                        case_id: "l0@v1".into(),
                        reviewer: r.into(),
                    };
                    let claimed = attempt(&store, r, &claim, now, Some(&barrier));
                    let decide = Command::DecideCase {
                        case_id: "l0@v1".into(),
                        reviewer: r.into(),
                        verdict: Verdict::Clear,
                        note: format!("{r} checked it"),
                    };
                    let decided = attempt(&store, r, &decide, now + Duration::minutes(1), None);
                    (r, claimed, decided)
                })
            })
            .collect();
        let results: Vec<_> = handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect();
        let claimed: Vec<_> = results.iter().filter(|r| r.1.is_ok()).collect();
        let decided: Vec<_> = results.iter().filter(|r| r.2.is_ok()).collect();
        assert_eq!(claimed.len(), 1, "{results:?}");
        assert_eq!(decided.len(), 1, "{results:?}");
        assert_eq!(claimed[0].0, decided[0].0);
        let j = store.lock().unwrap_or_else(|p| p.into_inner());
        let decisions = j
            .entries()
            .into_iter()
            .filter(|e| matches!(e.event.kind, EventKind::CaseDecided { .. }))
            .count();
        assert_eq!(decisions, 1);
    }
}
