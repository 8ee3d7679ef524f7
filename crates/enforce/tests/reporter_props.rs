//! Properties of a reporter's standing (`shopshield_enforce::reporter`):
//! it depends on the decided outcomes as a set, not on their order; it
//! ignores decisions after "now"; self-service is only granted over the
//! thresholds; a holder with nothing rejected is never warned; and a
//! restriction always follows a warning, on an item filed after a
//! rejection was decided.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use shopshield_enforce::reporter::{ItemOutcome, ReporterPolicy, Standing, assess};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

fn policy() -> ReporterPolicy {
    ReporterPolicy {
        window_days: 60,
        self_service_min_decided: 6,
        abuse_min_decided: 3,
        restriction_days: 10,
        ..ReporterPolicy::default()
    }
}

/// Outcomes over about 120 days, in hours from `t0`.
fn outcomes() -> impl Strategy<Value = Vec<ItemOutcome>> {
    prop::collection::vec(
        (
            0i64..2_880,
            0i64..200,
            any::<bool>(),
            prop::option::of(1i64..400),
        ),
        0..40,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(filed, wait, accepted, restored)| {
                let received_at = t0() + Duration::hours(filed);
                let decided_at = received_at + Duration::hours(wait);
                ItemOutcome {
                    received_at,
                    decided_at,
                    accepted,
                    restored_at: if accepted {
                        restored.map(|r| decided_at + Duration::hours(r))
                    } else {
                        None
                    },
                }
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn order_does_not_matter(o in outcomes(), at in 0i64..3_500, seed in any::<u64>()) {
        let now = t0() + Duration::hours(at);
        let mut shuffled = o.clone();
        // A deterministic shuffle from the seed.
        let n = shuffled.len();
        let mut s = seed;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(assess(&o, now, &policy()), assess(&shuffled, now, &policy()));
    }

    #[test]
    fn decisions_after_now_are_not_seen(o in outcomes(), at in 0i64..3_500) {
        let now = t0() + Duration::hours(at);
        let past: Vec<ItemOutcome> = o.iter().filter(|x| x.decided_at <= now).cloned().collect();
        let a = assess(&o, now, &policy());
        let b = assess(&past, now, &policy());
        prop_assert_eq!(a.standing, b.standing);
        prop_assert_eq!(a.decided, b.decided);
        prop_assert_eq!(a.warned_at, b.warned_at);
        prop_assert_eq!(a.restricted_until, b.restricted_until);
    }

    #[test]
    fn self_service_only_over_the_thresholds(o in outcomes(), at in 0i64..3_500) {
        let p = policy();
        let r = assess(&o, t0() + Duration::hours(at), &p);
        if r.standing == Standing::SelfService {
            prop_assert!(r.decided >= p.self_service_min_decided);
            prop_assert!(u64::from(r.accepted) * 100 >= u64::from(p.self_service_min_acceptance_pct) * u64::from(r.decided));
            prop_assert!(u64::from(r.counter_successes) * 100 <= u64::from(p.self_service_max_counter_success_pct) * u64::from(r.accepted));
        }
        prop_assert_eq!(r.accepted + r.rejected, r.decided);
    }

    #[test]
    fn nothing_rejected_is_never_warned(mut o in outcomes(), at in 0i64..3_500) {
        for x in &mut o {
            x.accepted = true;
        }
        let r = assess(&o, t0() + Duration::hours(at), &policy());
        prop_assert!(matches!(r.standing, Standing::SelfService | Standing::Standard));
    }

    #[test]
    fn a_restriction_follows_a_warning(o in outcomes(), at in 0i64..3_500) {
        let now = t0() + Duration::hours(at);
        let r = assess(&o, now, &policy());
        if r.standing == Standing::Restricted {
            // Some rejected item was filed after another rejection had
            // been decided (the warning came in between).
            let rejected: Vec<&ItemOutcome> =
                o.iter().filter(|x| !x.accepted && x.decided_at <= now).collect();
            let after_a_rejection = rejected
                .iter()
                .any(|b| rejected.iter().any(|a| a.decided_at < b.received_at));
            prop_assert!(after_a_rejection);
            prop_assert!(r.restricted_until.is_some_and(|u| u > now));
        }
    }
}
