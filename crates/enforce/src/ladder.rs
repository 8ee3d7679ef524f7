//! Penalties as a pure function of a party's violation history.
//!
//! A party's penalties at `now` are computed by replaying, in time order,
//! the points its standing (non-reversed) violations add and the points that
//! expire. Whenever an addition lifts the running total from below a
//! milestone to at or above it, the milestone's penalty starts at that
//! instant. A `Days(n)` penalty ends `n` days later, a `WhileAtLeast`
//! penalty ends when the total drops back below the milestone, a
//! `Permanent` one never ends.
//!
//! Because this is a function of the standing violations only, removing a
//! violation (an upheld appeal) yields exactly the penalties the party would
//! have had if that violation had never been recorded, with every later
//! violation still counted.

use chrono::{DateTime, Utc};

use crate::config::{Milestone, PenaltyDuration};
use crate::event::{Measure, Party, Penalty};

/// What one violation adds to a measure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Contribution<'a> {
    pub at: DateTime<Utc>,
    /// Recording order; breaks ties between violations at the same instant.
    pub ordinal: u64,
    pub amount: u32,
    /// When the contribution stops counting, if ever.
    pub until: Option<DateTime<Utc>>,
    pub violation_id: &'a str,
}

impl Contribution<'_> {
    pub fn counts_at(&self, now: DateTime<Utc>) -> bool {
        self.at <= now && self.until.is_none_or(|u| u > now)
    }
}

/// The measure at `now`.
pub(crate) fn total_at(contributions: &[Contribution<'_>], now: DateTime<Utc>) -> u64 {
    contributions
        .iter()
        .filter(|c| c.counts_at(now))
        .map(|c| u64::from(c.amount))
        .sum()
}

/// The penalties of `ladder` in force at `now`.
pub(crate) fn active_penalties(
    party: &Party,
    measure: Measure,
    contributions: &[Contribution<'_>],
    ladder: &[Milestone],
    now: DateTime<Utc>,
) -> Vec<Penalty> {
    // (time, 0 = expiry / 1 = addition, ordinal, index): expiries at an
    // instant come before additions at the same instant.
    let mut changes: Vec<(DateTime<Utc>, u8, u64, usize)> = Vec::new();
    for (i, c) in contributions.iter().enumerate() {
        if c.at > now {
            continue;
        }
        changes.push((c.at, 1, c.ordinal, i));
        if let Some(u) = c.until
            && u <= now
        {
            changes.push((u, 0, c.ordinal, i));
        }
    }
    changes.sort_unstable();

    let mut total: u64 = 0;
    let mut all: Vec<Penalty> = Vec::new();
    // Indices into `all` of open `WhileAtLeast` penalties.
    let mut open: Vec<usize> = Vec::new();
    for (at, op, _, i) in changes {
        let c = &contributions[i];
        if op == 1 {
            let before = total;
            total += u64::from(c.amount);
            for m in ladder {
                let p = u64::from(m.points);
                if before < p && p <= total {
                    let until = match m.duration {
                        PenaltyDuration::Days(d) => Some(at + chrono::Duration::days(i64::from(d))),
                        PenaltyDuration::WhileAtLeast | PenaltyDuration::Permanent => None,
                    };
                    if m.duration == PenaltyDuration::WhileAtLeast {
                        open.push(all.len());
                    }
                    all.push(Penalty {
                        id: Penalty::id_for(party, measure, m.points, c.violation_id),
                        party: party.clone(),
                        kind: m.penalty,
                        measure,
                        milestone: m.points,
                        trigger: c.violation_id.to_string(),
                        from: at,
                        until,
                    });
                }
            }
        } else {
            total = total.saturating_sub(u64::from(c.amount));
            open.retain(|&k| {
                if total < u64::from(all[k].milestone) {
                    all[k].until = Some(at);
                    false
                } else {
                    true
                }
            });
        }
    }
    all.retain(|p| p.is_active(now));
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{EnforcementConfig, PenaltyKind};
    use chrono::{Duration, TimeZone};

    fn t(day: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default()
            + Duration::days(day)
    }

    fn c(id: &str, day: i64, amount: u32, ordinal: u64) -> Contribution<'_> {
        Contribution {
            at: t(day),
            ordinal,
            amount,
            until: Some(t(day + 90)),
            violation_id: id,
        }
    }

    #[test]
    fn milestones_trigger_on_crossing_and_end() {
        let cfg = EnforcementConfig::default();
        let shop = Party::Shop("s".into());
        let cs = [c("a", 0, 12, 0), c("b", 1, 12, 1)];
        let at = |day| {
            active_penalties(&shop, Measure::Points, &cs, &cfg.shop_milestones, t(day))
                .into_iter()
                .map(|p| p.kind)
                .collect::<Vec<_>>()
        };
        assert_eq!(at(0), [PenaltyKind::CampaignsRestricted]);
        assert_eq!(
            at(1),
            [
                PenaltyKind::CampaignsRestricted,
                PenaltyKind::ListingsCapped
            ]
        );
        // Campaign restriction lasts 7 days; the cap lasts while >= 24.
        assert_eq!(at(7), [PenaltyKind::ListingsCapped]);
        assert_eq!(at(89), [PenaltyKind::ListingsCapped]);
        assert_eq!(at(90), Vec::<PenaltyKind>::new());
        assert_eq!(total_at(&cs, t(90)), 12);
        assert_eq!(total_at(&cs, t(91)), 0);
    }

    #[test]
    fn crossing_again_after_expiry_triggers_again() {
        let cfg = EnforcementConfig::default();
        let shop = Party::Shop("s".into());
        let cs = [c("a", 0, 12, 0), c("b", 100, 12, 1)];
        let ps = active_penalties(&shop, Measure::Points, &cs, &cfg.shop_milestones, t(100));
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].trigger, "b");
    }
}
