//! Property tests for the "done when" of the enforcement issue:
//! points never negative; replaying the log equals the live state; an upheld
//! appeal restores exactly the state without the violation, later events
//! still applied; a tampered log is detected; racing reviewers never both
//! decide a case.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::*;
use proptest::prelude::*;
use shopshield_enforce::{
    Command, CommandError, EventKind, Journal, Party, Severity, State, StoredEntry, TamperReason,
    Verdict, verify_records,
};
use shopshield_model::{Action, ViolationType};

const SHOPS: u8 = 3;
const CREATORS: u8 = 2;
const REVIEWERS: u8 = 3;

#[derive(Debug, Clone)]
enum Op {
    /// A `reject` decision (recorded if `confident`).
    Reject {
        shop: u8,
        creator: Option<u8>,
        kind: usize,
        confident: bool,
    },
    /// A `review` decision: opens a case.
    Review {
        shop: u8,
        creator: Option<u8>,
        kind: usize,
    },
    Claim {
        reviewer: u8,
        case: usize,
    },
    DecideCase {
        reviewer: u8,
        case: usize,
        uphold: Option<(usize, usize, bool)>,
    },
    Appeal {
        violation: usize,
        by_creator: bool,
    },
    DecideAppeal {
        appeal: usize,
        reviewer: u8,
        upheld: bool,
    },
    Advance {
        hours: u32,
    },
    Tick,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..SHOPS, proptest::option::of(0..CREATORS), 0..5usize, prop::bool::weighted(0.85))
            .prop_map(|(shop, creator, kind, confident)| Op::Reject { shop, creator, kind, confident }),
        2 => (0..SHOPS, proptest::option::of(0..CREATORS), 0..5usize)
            .prop_map(|(shop, creator, kind)| Op::Review { shop, creator, kind }),
        2 => (0..REVIEWERS, 0..(1usize << 16))
            .prop_map(|(reviewer, case)| Op::Claim { reviewer, case }),
        2 => (0..REVIEWERS, 0..(1usize << 16), proptest::option::of((0..5usize, 0..4usize, any::<bool>())))
            .prop_map(|(reviewer, case, uphold)| Op::DecideCase { reviewer, case, uphold }),
        2 => (0..(1usize << 16), any::<bool>())
            .prop_map(|(violation, by_creator)| Op::Appeal { violation, by_creator }),
        2 => (0..(1usize << 16), 0..REVIEWERS, any::<bool>())
            .prop_map(|(appeal, reviewer, upheld)| Op::DecideAppeal { appeal, reviewer, upheld }),
        3 => (0u32..24 * 40).prop_map(|hours| Op::Advance { hours }),
        1 => Just(Op::Tick),
    ]
}

fn severity(i: usize) -> Severity {
    Severity::ALL[i % 4]
}

fn kind(i: usize) -> ViolationType {
    ViolationType::ALL[i % 5]
}

/// Drives a journal through ops. Picks (case, violation, appeal) resolve
/// against sorted ids, leaving out `exclude` (the violation under test), so
/// the same op picks the same target whether or not that violation exists.
struct World {
    j: Journal,
    now: DateTime<Utc>,
    exclude: Option<String>,
    /// Ok/Err of every op, to compare two worlds.
    results: Vec<bool>,
}

impl World {
    fn new(exclude: Option<String>) -> World {
        World {
            j: Journal::new(),
            now: day(0),
            exclude,
            results: Vec::new(),
        }
    }

    fn run(&mut self, cmd: Command) -> Result<(), CommandError> {
        let e = enforcer();
        run(&mut self.j, &e, cmd, self.now).map(|_| ())
    }

    fn apply(&mut self, idx: usize, op: &Op) {
        let st = self.j.state();
        let cmd = match op {
            Op::Reject {
                shop,
                creator,
                kind: k,
                confident,
            } => Some(ingest_cmd(
                &format!("l{idx}"),
                &format!("s{shop}"),
                creator.map(|c| format!("c{c}")).as_deref(),
                Action::Reject,
                kind(*k),
                if *confident { 0.95 } else { 0.5 },
                self.now,
            )),
            Op::Review {
                shop,
                creator,
                kind: k,
            } => Some(ingest_cmd(
                &format!("l{idx}"),
                &format!("s{shop}"),
                creator.map(|c| format!("c{c}")).as_deref(),
                Action::Review,
                kind(*k),
                0.7,
                self.now,
            )),
            Op::Claim { reviewer, case } => {
                let ids: Vec<String> = st.cases().map(|c| c.case_id.clone()).collect();
                (!ids.is_empty()).then(|| Command::ClaimCase {
                    case_id: ids[case % ids.len()].clone(),
                    reviewer: format!("r{reviewer}"),
                })
            }
            Op::DecideCase {
                reviewer,
                case,
                uphold,
            } => {
                let ids: Vec<String> = st.cases().map(|c| c.case_id.clone()).collect();
                (!ids.is_empty()).then(|| Command::DecideCase {
                    case_id: ids[case % ids.len()].clone(),
                    reviewer: format!("r{reviewer}"),
                    verdict: match uphold {
                        None => Verdict::Clear,
                        Some((k, s, knock)) => Verdict::Uphold {
                            kind: kind(*k),
                            severity: severity(*s),
                            knock_off: *knock
                                && matches!(
                                    kind(*k),
                                    ViolationType::Trademark
                                        | ViolationType::Counterfeit
                                        | ViolationType::Copyright
                                ),
                        },
                    },
                    note: "Checked the photos against the brand's catalogue.".into(),
                })
            }
            Op::Appeal {
                violation,
                by_creator,
            } => {
                let vs: Vec<_> = st
                    .violations()
                    .filter(|v| Some(&v.record.violation_id) != self.exclude.as_ref())
                    .collect();
                (!vs.is_empty()).then(|| {
                    let v = vs[violation % vs.len()];
                    let appellant = match (&v.record.subject.creator_id, by_creator) {
                        (Some(c), true) => Party::Creator(c.clone()),
                        _ => Party::Shop(v.record.subject.shop_id.clone()),
                    };
                    Command::FileAppeal {
                        violation_id: v.record.violation_id.clone(),
                        appellant,
                        statement: "We bought these from the brand.".into(),
                    }
                })
            }
            Op::DecideAppeal {
                appeal,
                reviewer,
                upheld,
            } => {
                let vs: Vec<_> = st
                    .violations()
                    .filter(|v| Some(&v.record.violation_id) != self.exclude.as_ref())
                    .flat_map(|v| v.appeals.iter().cloned())
                    .collect();
                (!vs.is_empty()).then(|| Command::DecideAppeal {
                    appeal_id: vs[appeal % vs.len()].clone(),
                    reviewer: format!("r{reviewer}"),
                    upheld: *upheld,
                    reason: "Compared the listing photos with the registered logo.".into(),
                    cited_evidence: vec![0],
                })
            }
            Op::Advance { hours } => {
                self.now += Duration::hours(i64::from(*hours));
                None
            }
            Op::Tick => Some(Command::Tick),
        };
        let ok = match cmd {
            Some(c) => self.run(c).is_ok(),
            None => true,
        };
        self.results.push(ok);
    }
}

/// Running point counters agree with the violations they count, and every
/// party's penalties are exactly what its history calls for (after a tick).
fn check_invariants(w: &World) -> Result<(), TestCaseError> {
    let st = w.j.state();
    for (party, ps) in st.parties() {
        let expect: u64 = ps
            .violations
            .iter()
            .filter_map(|id| st.violation(id))
            .filter(|v| v.is_standing() && !v.expired)
            .map(|v| u64::from(v.record.points))
            .sum();
        prop_assert_eq!(u64::from(ps.points), expect, "{}", party);
    }
    Ok(())
}

fn check_settled(w: &World) -> Result<(), TestCaseError> {
    let e = enforcer();
    let st = w.j.state();
    for (party, ps) in st.parties() {
        prop_assert_eq!(
            ps.points,
            st.points_at(&party, e.config(), w.now),
            "{}",
            party
        );
        let mut have: Vec<_> = ps.penalties.values().cloned().collect();
        let mut want = st.penalties_due(&party, e.config(), w.now);
        have.sort();
        want.sort();
        prop_assert_eq!(have, want, "{}", party);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Points are never negative: every event applies (a subtraction below
    /// zero would be refused and fail the test), counters match their
    /// violations, and after a tick they match the recomputed history.
    #[test]
    fn points_never_negative_and_state_consistent(ops in prop::collection::vec(op(), 1..80)) {
        let mut w = World::new(None);
        for (i, op) in ops.iter().enumerate() {
            w.apply(i, op);
            check_invariants(&w)?;
            if matches!(op, Op::Tick) {
                check_settled(&w)?;
            }
        }
        w.apply(ops.len(), &Op::Tick);
        check_settled(&w)?;
    }

    /// Rolling back to a savepoint undoes exactly the events applied since
    /// with `apply_saving`, whatever their kinds, wherever the savepoint
    /// falls (between the events of one command too).
    #[test]
    fn roll_back_restores_the_state(
        ops in prop::collection::vec(op(), 1..80),
        split in 0.0f64..1.0,
    ) {
        let mut w = World::new(None);
        for (i, op) in ops.iter().enumerate() {
            w.apply(i, op);
        }
        let entries = w.j.entries();
        let k = ((entries.len() as f64) * split) as usize;
        let start = State::replay(entries[..k].iter().map(|e| &e.event)).expect("replays");
        let mut s = start.clone();
        let mut sp = s.savepoint();
        for e in &entries[k..] {
            s.apply_saving(&e.event, &mut sp).expect("the journal's events apply");
        }
        prop_assert_eq!(&s, w.j.state());
        s.roll_back(sp);
        prop_assert_eq!(&s, &start);
    }

    /// Replaying the stored log (through its JSON text, as a database would
    /// hold it) gives exactly the live state.
    #[test]
    fn replay_equals_live_state(ops in prop::collection::vec(op(), 1..80)) {
        let mut w = World::new(None);
        for (i, op) in ops.iter().enumerate() {
            w.apply(i, op);
        }
        let text = serde_json::to_string(w.j.records()).expect("serialise");
        let records: Vec<StoredEntry> = serde_json::from_str(&text).expect("parse");
        let replayed = Journal::load(records, Some(&w.j.head())).expect("verifies");
        prop_assert_eq!(replayed.state(), w.j.state());
    }

    /// An upheld appeal restores exactly the state the shop and creator
    /// would have had without the violation, with later events still
    /// applied.
    #[test]
    fn upheld_appeal_restores_state_without_the_violation(
        before in prop::collection::vec(op(), 0..30),
        after in prop::collection::vec(op(), 0..40),
        shop in 0..SHOPS,
        creator in proptest::option::of(0..CREATORS),
        k in 0..5usize,
    ) {
        let v_id = "v:lv@v1".to_string();
        let mut a = World::new(Some(v_id.clone()));
        let mut b = World::new(Some(v_id.clone()));
        for (i, op) in before.iter().enumerate() {
            a.apply(i, op);
            b.apply(i, op);
        }
        // World A records V and its shop appeals at once.
        let cmd = ingest_cmd(
            "lv",
            &format!("s{shop}"),
            creator.map(|c| format!("c{c}")).as_deref(),
            Action::Reject,
            kind(k),
            0.99,
            a.now,
        );
        a.run(cmd).expect("V is recorded");
        a.run(Command::FileAppeal {
            violation_id: v_id.clone(),
            appellant: Party::Shop(format!("s{shop}")),
            statement: "Genuine goods; invoice attached.".into(),
        })
        .expect("appeal filed");
        for (i, op) in after.iter().enumerate() {
            a.apply(before.len() + i, op);
            b.apply(before.len() + i, op);
        }
        // Every other command had the same outcome in both worlds.
        prop_assert_eq!(&a.results, &b.results);
        // Bring both worlds up to date; then the appeal decision alone must
        // turn A into B.
        a.run(Command::Tick).expect("tick");
        b.run(Command::Tick).expect("tick");
        a.run(Command::DecideAppeal {
            appeal_id: format!("{v_id}/appeal1"),
            reviewer: "rv".into(),
            upheld: true,
            reason: "The invoice shows the goods came from the brand.".into(),
            cited_evidence: vec![],
        })
        .expect("appeal upheld");
        let e = enforcer();
        prop_assert_eq!(a.j.state().observe(e.config(), a.now), b.j.state().observe(e.config(), b.now));
        check_settled(&a)?;
    }

    /// Any edit, deletion, insertion, reordering or truncation of the log is
    /// detected (truncation at the tail and full rewrites thanks to the
    /// anchor).
    #[test]
    fn tampering_is_detected(
        ops in prop::collection::vec(op(), 10..60),
        what in 0..7u8,
        i in any::<prop::sample::Index>(),
        j in any::<prop::sample::Index>(),
        pos in any::<prop::sample::Index>(),
    ) {
        let mut w = World::new(None);
        for (n, op) in ops.iter().enumerate() {
            w.apply(n, op);
        }
        let good = w.j.records().to_vec();
        prop_assume!(good.len() >= 2);
        let head = w.j.head();
        prop_assert!(verify_records(&good, Some(&head)).is_ok());
        let n = good.len();
        let (i, j) = (i.index(n), j.index(n));
        let mut bad = good.clone();
        match what {
            // Edit one character of a body.
            0 => {
                let body = &mut bad[i].body;
                let p = pos.index(body.len());
                let c = if body.as_bytes()[p] == b'1' { "2" } else { "1" };
                prop_assume!(body.is_char_boundary(p) && body.is_char_boundary(p + 1));
                body.replace_range(p..p + 1, c);
            }
            // Edit and re-hash one entry (a careless forger).
            1 => {
                let e = &mut bad[i];
                e.body = e.body.replacen("\"at\":\"2026", "\"at\":\"2025", 1);
                e.hash = shopshield_enforce::chain::entry_hash(e.seq, &e.prev_hash, &e.body);
            }
            // Delete one entry.
            2 => { bad.remove(i); }
            // Swap two entries.
            3 => { prop_assume!(i != j); bad.swap(i, j); }
            // Cut off the tail.
            4 => { bad.truncate(i); }
            // Rewrite from entry i onwards with consistent hashes (a careful
            // forger): only the anchor catches it.
            5 => {
                let e = &mut bad[i];
                e.body = e.body.replacen("\"at\":\"2026", "\"at\":\"2025", 1);
                for k in i..n {
                    let prev = if k == 0 { shopshield_enforce::chain::GENESIS_HASH.to_string() } else { bad[k - 1].hash.clone() };
                    bad[k].prev_hash = prev;
                    bad[k].hash = shopshield_enforce::chain::entry_hash(bad[k].seq, &bad[k].prev_hash, &bad[k].body);
                }
            }
            // Duplicate an entry.
            _ => { let dup = bad[i].clone(); bad.insert(i, dup); }
        }
        prop_assume!(bad != good);
        let err = verify_records(&bad, Some(&head));
        prop_assert!(err.is_err(), "tampering {} went unnoticed", what);
        // Truncation alone is invisible without the anchor, and named with it.
        if what == 4 {
            prop_assert!(verify_records(&bad, None).is_ok());
            let e = err.err().map(|e| e.reason);
            prop_assert!(matches!(e, Some(TamperReason::Truncated { .. })), "{:?}", e);
        }
    }

    /// However claims and decisions interleave between reviewers, and
    /// however leases run out, each case is decided at most once, and only
    /// by a reviewer holding an unexpired lease.
    #[test]
    fn racing_reviewers_never_both_decide(
        steps in prop::collection::vec((0..REVIEWERS, any::<bool>(), 0i64..45), 1..60),
    ) {
        let mut w = World::new(None);
        w.run(ingest_cmd("l0", "s0", None, Action::Review, ViolationType::Counterfeit, 0.7, w.now))
            .expect("case");
        for (r, claim, minutes) in steps {
            w.now += Duration::minutes(minutes);
            let reviewer = format!("r{r}");
            let holder = w.j.state().case("l0@v1").and_then(|c| c.live_claim(w.now).map(|c| c.reviewer.clone()));
            let res = if claim {
                w.run(Command::ClaimCase { case_id: "l0@v1".into(), reviewer: reviewer.clone() })
            } else {
                w.run(Command::DecideCase {
                    case_id: "l0@v1".into(),
                    reviewer: reviewer.clone(),
                    verdict: Verdict::Clear,
                    note: "fine".into(),
                })
            };
            if !claim && res.is_ok() {
                prop_assert_eq!(holder.as_deref(), Some(reviewer.as_str()));
            }
        }
        let decided = w.j.entries().iter().filter(|e| matches!(e.event.kind, EventKind::CaseDecided { .. })).count();
        prop_assert!(decided <= 1);
    }
}
