//! Reporter accuracy: how far a rights holder's notices are trusted.
//!
//! A holder's standing follows from the outcomes of the notice items
//! reviewers decided, over a rolling window (six months by default):
//!
//! * **Self-service removal** (as Amazon's Project Zero grants it): at
//!   least `self_service_min_decided` items decided in the window, at
//!   least `self_service_min_acceptance_pct` of them accepted, and at most
//!   `self_service_max_counter_success_pct` of the accepted ones restored
//!   after a counter-notice (Alibaba's Good-Faith Takedown Mechanism drops
//!   a holder on either count). A holder with it has its listings taken
//!   down at filing; the review follows. Falling under either threshold
//!   takes it away at once.
//! * **Warned**, then **restricted**, for a holder whose notices are
//!   mostly unfounded (DSA Art. 23(2): the processing of notices from
//!   those who frequently submit manifestly unfounded ones is suspended for
//!   a reasonable period, after a prior warning). A decision that leaves
//!   the window's acceptance under `abuse_below_acceptance_pct`, over at
//!   least `abuse_min_decided` decided items, warns the holder. If it
//!   happens again on an item the holder filed *after* the warning, its
//!   notices are refused for `restriction_days`. When that time ends the
//!   holder is warned again, so the next unfounded notice filed after it
//!   restricts at once. A warning lapses when the window's acceptance is
//!   back above the line.
//!
//! The standing is computed, never stored: [`assess`] replays the
//! decisions in time order, so every process agrees on it, and a clock
//! passed in decides what "now" is. Items still pending count for
//! nothing.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The thresholds (`[notices.reporters]` in the configuration).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReporterPolicy {
    /// The rolling window, in days.
    pub window_days: u32,
    /// Decided items needed in the window before self-service is granted.
    pub self_service_min_decided: u32,
    /// Least share of decided items accepted for self-service, in percent.
    pub self_service_min_acceptance_pct: u32,
    /// Largest share of accepted items restored after a counter-notice
    /// for self-service, in percent.
    pub self_service_max_counter_success_pct: u32,
    /// Decided items needed in the window before a holder can be warned.
    pub abuse_min_decided: u32,
    /// A window's acceptance under this share (percent) is abusive.
    pub abuse_below_acceptance_pct: u32,
    /// How long a restricted holder's notices are refused, in days.
    pub restriction_days: u32,
}

impl Default for ReporterPolicy {
    fn default() -> Self {
        ReporterPolicy {
            window_days: 182,
            self_service_min_decided: 20,
            self_service_min_acceptance_pct: 90,
            self_service_max_counter_success_pct: 5,
            abuse_min_decided: 10,
            abuse_below_acceptance_pct: 50,
            restriction_days: 30,
        }
    }
}

impl ReporterPolicy {
    /// Checks the thresholds; the error names the first bad key.
    pub fn validate(&self) -> Result<(), String> {
        let key = |k: &str| format!("notices.reporters.{k}");
        if !(1..=730).contains(&self.window_days) {
            return Err(format!("{}: must be 1..=730", key("window_days")));
        }
        for (k, v) in [
            (
                "self_service_min_acceptance_pct",
                self.self_service_min_acceptance_pct,
            ),
            (
                "self_service_max_counter_success_pct",
                self.self_service_max_counter_success_pct,
            ),
            (
                "abuse_below_acceptance_pct",
                self.abuse_below_acceptance_pct,
            ),
        ] {
            if v > 100 {
                return Err(format!("{}: {v} is over 100 (a percentage)", key(k)));
            }
        }
        if self.self_service_min_decided == 0 {
            return Err(format!(
                "{}: must be at least 1 (self-service is earned on decided notices)",
                key("self_service_min_decided")
            ));
        }
        if self.abuse_min_decided == 0 {
            return Err(format!("{}: must be at least 1", key("abuse_min_decided")));
        }
        if self.abuse_below_acceptance_pct > self.self_service_min_acceptance_pct {
            return Err(format!(
                "{}: {} is above self_service_min_acceptance_pct ({}): a holder could be trusted and abusive at once",
                key("abuse_below_acceptance_pct"),
                self.abuse_below_acceptance_pct,
                self.self_service_min_acceptance_pct
            ));
        }
        if !(1..=365).contains(&self.restriction_days) {
            return Err(format!("{}: must be 1..=365", key("restriction_days")));
        }
        Ok(())
    }

    fn window(&self) -> Duration {
        Duration::days(i64::from(self.window_days))
    }
}

/// One decided notice item, as its reporter's record needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemOutcome {
    /// When the notice naming it was received.
    pub received_at: DateTime<Utc>,
    /// When a reviewer decided it.
    pub decided_at: DateTime<Utc>,
    pub accepted: bool,
    /// When it was restored after the seller's counter-notice (a
    /// successful counter-notice), if it was.
    pub restored_at: Option<DateTime<Utc>>,
}

/// A holder's standing as a reporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Its notices take listings down at filing; review follows.
    SelfService,
    /// Its notices wait for review.
    Standard,
    /// Its notices wait for review; another unfounded one filed from now
    /// on restricts it.
    Warned,
    /// Its notices are refused until `restricted_until`.
    Restricted,
}

impl Standing {
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::SelfService => "self_service",
            Standing::Standard => "standard",
            Standing::Warned => "warned",
            Standing::Restricted => "restricted",
        }
    }
}

/// A holder's record over the window and the standing it earns.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ReporterRecord {
    pub standing: Standing,
    /// The window's start (its end is now).
    pub window_start: DateTime<Utc>,
    /// Items decided in the window.
    pub decided: u32,
    pub accepted: u32,
    pub rejected: u32,
    /// Accepted items (decided in the window) restored after a
    /// counter-notice.
    pub counter_successes: u32,
    /// `accepted / decided`, in percent (absent with nothing decided).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acceptance_pct: Option<f64>,
    /// `counter_successes / accepted`, in percent (absent with nothing
    /// accepted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counter_success_pct: Option<f64>,
    /// When the standing warning was given, while it stands.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warned_at: Option<DateTime<Utc>>,
    /// Until when its notices are refused, while restricted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restricted_until: Option<DateTime<Utc>>,
    /// Why, in a sentence the holder can read.
    pub why: String,
}

/// Counts over the window ending at `at` (`at` included).
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    decided: u32,
    accepted: u32,
    counter_successes: u32,
}

impl Counts {
    fn at(outcomes: &[ItemOutcome], at: DateTime<Utc>, window: Duration) -> Counts {
        let start = at - window;
        let inside = |t: DateTime<Utc>| start < t && t <= at;
        let mut c = Counts::default();
        for o in outcomes.iter().filter(|o| inside(o.decided_at)) {
            c.decided += 1;
            if o.accepted {
                c.accepted += 1;
                if o.restored_at.is_some_and(|r| r <= at) {
                    c.counter_successes += 1;
                }
            }
        }
        c
    }

    /// `part` of `whole` is under `pct` percent (exact, in integers).
    fn under(part: u32, whole: u32, pct: u32) -> bool {
        u64::from(part) * 100 < u64::from(pct) * u64::from(whole)
    }

    fn abusive(&self, p: &ReporterPolicy) -> bool {
        self.decided >= p.abuse_min_decided
            && Counts::under(self.accepted, self.decided, p.abuse_below_acceptance_pct)
    }

    fn trusted(&self, p: &ReporterPolicy) -> bool {
        self.decided >= p.self_service_min_decided
            && !Counts::under(
                self.accepted,
                self.decided,
                p.self_service_min_acceptance_pct,
            )
            && u64::from(self.counter_successes) * 100
                <= u64::from(p.self_service_max_counter_success_pct) * u64::from(self.accepted)
    }
}

#[derive(Debug, Clone, Copy)]
enum Phase {
    Clear,
    Warned(DateTime<Utc>),
    Restricted(DateTime<Utc>),
}

/// Replays the decisions up to `now` in time order: the phase they leave
/// the holder in at `now`, and when each restriction began.
fn replay(
    outcomes: &[ItemOutcome],
    now: DateTime<Utc>,
    p: &ReporterPolicy,
) -> (Phase, Vec<DateTime<Utc>>) {
    let window = p.window();
    let restriction = Duration::days(i64::from(p.restriction_days));
    let mut seen: Vec<&ItemOutcome> = outcomes.iter().filter(|o| o.decided_at <= now).collect();
    seen.sort_by_key(|o| (o.decided_at, o.received_at));
    let mut phase = Phase::Clear;
    let mut began = Vec::new();
    for (i, o) in seen.iter().enumerate() {
        let t = o.decided_at;
        if let Phase::Restricted(until) = phase
            && t >= until
        {
            phase = Phase::Warned(until);
        }
        // Decisions at the same instant are counted together.
        if seen.get(i + 1).is_some_and(|n| n.decided_at == t) {
            continue;
        }
        let c = Counts::at(outcomes, t, window);
        phase = match phase {
            Phase::Clear if c.abusive(p) => Phase::Warned(t),
            Phase::Warned(w) if c.abusive(p) => {
                let filed_after_warning = seen[..=i]
                    .iter()
                    .any(|x| x.decided_at > w && !x.accepted && x.received_at > w);
                if filed_after_warning {
                    began.push(t);
                    Phase::Restricted(t + restriction)
                } else {
                    Phase::Warned(w)
                }
            }
            Phase::Warned(_) if !c.abusive(p) => Phase::Clear,
            other => other,
        };
    }
    if let Phase::Restricted(until) = phase
        && now >= until
    {
        phase = Phase::Warned(until);
    }
    if let Phase::Warned(_) = phase
        && !Counts::at(outcomes, now, window).abusive(p)
    {
        phase = Phase::Clear;
    }
    (phase, began)
}

/// When each of the holder's restrictions began, up to `now` (for the
/// transparency report's count of suspensions, DSA Art. 24(1)(b)).
pub fn restrictions(
    outcomes: &[ItemOutcome],
    now: DateTime<Utc>,
    p: &ReporterPolicy,
) -> Vec<DateTime<Utc>> {
    replay(outcomes, now, p).1
}

/// The standing `outcomes` earn at `now`. Outcomes decided after `now` are
/// not seen; their order does not matter.
pub fn assess(outcomes: &[ItemOutcome], now: DateTime<Utc>, p: &ReporterPolicy) -> ReporterRecord {
    let window = p.window();
    let (phase, _) = replay(outcomes, now, p);
    let c = Counts::at(outcomes, now, window);
    let pct =
        |part: u32, whole: u32| (whole > 0).then(|| f64::from(part) * 100.0 / f64::from(whole));
    let acceptance_pct = pct(c.accepted, c.decided);
    let counter_success_pct = pct(c.counter_successes, c.accepted);
    let shown = |x: Option<f64>| x.map_or("none".to_string(), |v| format!("{v:.1}%"));
    let summary = format!(
        "{} of {} notice items decided in the last {} days were accepted ({}); {} accepted item(s) were restored after a counter-notice ({})",
        c.accepted,
        c.decided,
        p.window_days,
        shown(acceptance_pct),
        c.counter_successes,
        shown(counter_success_pct),
    );
    let (standing, warned_at, restricted_until, why) = match phase {
        Phase::Restricted(until) => (
            Standing::Restricted,
            None,
            Some(until),
            format!(
                "Notices are refused until {until}: after a warning, notices filed later were again mostly rejected (under {}% accepted). {summary}.",
                p.abuse_below_acceptance_pct
            ),
        ),
        Phase::Warned(w) => (
            Standing::Warned,
            Some(w),
            None,
            format!(
                "Warned at {w}: under {}% of decided items were accepted. Another unfounded notice filed from now on suspends filing for {} days. {summary}.",
                p.abuse_below_acceptance_pct, p.restriction_days
            ),
        ),
        Phase::Clear if c.trusted(p) => (
            Standing::SelfService,
            None,
            None,
            format!(
                "Self-service removal: at least {} items decided, at least {}% accepted and at most {}% restored after a counter-notice. {summary}.",
                p.self_service_min_decided,
                p.self_service_min_acceptance_pct,
                p.self_service_max_counter_success_pct
            ),
        ),
        Phase::Clear => (
            Standing::Standard,
            None,
            None,
            format!(
                "Notices wait for review. Self-service removal needs at least {} items decided in {} days, at least {}% accepted and at most {}% restored after a counter-notice. {summary}.",
                p.self_service_min_decided,
                p.window_days,
                p.self_service_min_acceptance_pct,
                p.self_service_max_counter_success_pct
            ),
        ),
    };
    ReporterRecord {
        standing,
        window_start: now - window,
        decided: c.decided,
        accepted: c.accepted,
        rejected: c.decided - c.accepted,
        counter_successes: c.counter_successes,
        acceptance_pct,
        counter_success_pct,
        warned_at,
        restricted_until,
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn small() -> ReporterPolicy {
        ReporterPolicy {
            self_service_min_decided: 10,
            abuse_min_decided: 4,
            ..ReporterPolicy::default()
        }
    }

    /// `n` items filed at `filed` and decided one hour apart from `from`.
    fn batch(
        filed: DateTime<Utc>,
        from: DateTime<Utc>,
        n: usize,
        accepted: bool,
    ) -> Vec<ItemOutcome> {
        (0..n)
            .map(|i| ItemOutcome {
                received_at: filed,
                decided_at: from + Duration::hours(i as i64),
                accepted,
                restored_at: None,
            })
            .collect()
    }

    #[test]
    fn self_service_is_earned_on_enough_accepted_items_and_lost_under_the_line() {
        let p = small();
        let mut o = batch(t0(), t0(), 9, true);
        let at = t0() + Duration::days(1);
        assert_eq!(assess(&o, at, &p).standing, Standing::Standard);
        o.extend(batch(t0(), t0() + Duration::hours(9), 1, true));
        let r = assess(&o, at, &p);
        assert_eq!(r.standing, Standing::SelfService, "{}", r.why);
        assert_eq!((r.decided, r.accepted), (10, 10));
        // 10 of 11 is 90.9%: kept. 10 of 12 is 83%: lost.
        o.extend(batch(t0(), t0() + Duration::hours(10), 1, false));
        assert_eq!(assess(&o, at, &p).standing, Standing::SelfService);
        o.extend(batch(t0(), t0() + Duration::hours(11), 1, false));
        let r = assess(&o, at, &p);
        assert_eq!(r.standing, Standing::Standard, "{}", r.why);
        assert!(r.why.contains("10 of 12"), "{}", r.why);
    }

    #[test]
    fn successful_counter_notices_above_five_percent_take_self_service_away() {
        let p = small();
        let mut o = batch(t0(), t0(), 20, true);
        let at = t0() + Duration::days(2);
        o[0].restored_at = Some(t0() + Duration::days(1));
        // 1 of 20 restored: 5%, kept.
        assert_eq!(assess(&o, at, &p).standing, Standing::SelfService);
        o[1].restored_at = Some(t0() + Duration::days(1));
        let r = assess(&o, at, &p);
        assert_eq!(r.standing, Standing::Standard, "{}", r.why);
        assert_eq!(r.counter_successes, 2);
        // Before the restorations, it held.
        assert_eq!(
            assess(&o, t0() + Duration::hours(23), &p).standing,
            Standing::SelfService
        );
    }

    #[test]
    fn the_window_forgets_old_decisions() {
        let p = small();
        let o = batch(t0(), t0(), 10, true);
        assert_eq!(
            assess(&o, t0() + Duration::days(100), &p).standing,
            Standing::SelfService
        );
        let r = assess(&o, t0() + Duration::days(183), &p);
        assert_eq!(r.standing, Standing::Standard);
        assert_eq!(r.decided, 0);
        assert_eq!(r.acceptance_pct, None);
    }

    #[test]
    fn an_abusive_reporter_is_warned_first_and_restricted_only_for_notices_filed_after() {
        let p = small();
        // Four rejected items of one notice: warned, not restricted.
        let mut o = batch(t0(), t0() + Duration::hours(1), 4, false);
        let day1 = t0() + Duration::days(1);
        let r = assess(&o, day1, &p);
        assert_eq!(r.standing, Standing::Warned, "{}", r.why);
        let warned = r.warned_at.unwrap_or_default();
        assert_eq!(warned, t0() + Duration::hours(4));
        // More rejections of items filed *before* the warning: still warned.
        o.extend(batch(t0(), t0() + Duration::hours(6), 3, false));
        assert_eq!(assess(&o, day1, &p).standing, Standing::Warned);
        // A notice filed after the warning, rejected: restricted 30 days.
        let filed = t0() + Duration::days(2);
        o.extend(batch(filed, filed + Duration::hours(1), 1, false));
        let r = assess(&o, t0() + Duration::days(3), &p);
        assert_eq!(r.standing, Standing::Restricted, "{}", r.why);
        let until = filed + Duration::hours(1) + Duration::days(30);
        assert_eq!(r.restricted_until, Some(until));
        // After the restriction: warned again (the record is still bad).
        let r = assess(&o, until, &p);
        assert_eq!(r.standing, Standing::Warned, "{}", r.why);
        assert_eq!(r.warned_at, Some(until));
        // Once the window forgets the rejections, the warning lapses.
        assert_eq!(
            assess(&o, t0() + Duration::days(200), &p).standing,
            Standing::Standard
        );
    }

    #[test]
    fn restrictions_are_listed_when_they_began() {
        let p = small();
        let mut o = batch(t0(), t0(), 4, false);
        let filed = t0() + Duration::days(2);
        o.extend(batch(filed, filed, 1, false));
        let far = t0() + Duration::days(400);
        assert_eq!(restrictions(&o, far, &p), vec![filed]);
        assert!(restrictions(&o, filed - Duration::hours(1), &p).is_empty());
    }

    #[test]
    fn a_warning_lapses_when_acceptance_recovers() {
        let p = small();
        let mut o = batch(t0(), t0(), 4, false);
        assert_eq!(
            assess(&o, t0() + Duration::days(1), &p).standing,
            Standing::Warned
        );
        let later = t0() + Duration::days(2);
        o.extend(batch(later, later, 5, true));
        let r = assess(&o, later + Duration::days(1), &p);
        assert_eq!(r.standing, Standing::Standard, "{}", r.why);
        // A rejection of an item filed afterwards does not restrict: the
        // warning had lapsed, and 5 of 10 is not under 50%.
        let again = t0() + Duration::days(4);
        o.extend(batch(again, again, 1, false));
        assert_eq!(
            assess(&o, again + Duration::days(1), &p).standing,
            Standing::Standard
        );
    }

    #[test]
    fn thresholds_are_checked() {
        assert!(ReporterPolicy::default().validate().is_ok());
        let bad = ReporterPolicy {
            self_service_min_acceptance_pct: 101,
            ..ReporterPolicy::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .contains("notices.reporters.self_service_min_acceptance_pct")
        );
        let bad = ReporterPolicy {
            abuse_below_acceptance_pct: 95,
            ..ReporterPolicy::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .contains("abuse_below_acceptance_pct")
        );
        let bad = ReporterPolicy {
            window_days: 0,
            ..ReporterPolicy::default()
        };
        assert!(bad.validate().unwrap_err().contains("window_days"));
    }
}
