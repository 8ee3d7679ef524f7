//! The seam for rescreening live listings when packs change.

use std::collections::BTreeSet;

use aho_corasick::AhoCorasick;
use serde::Serialize;
use shopshield_model::Listing;

use crate::norm;
use crate::pack::{Rule, Scope};
use crate::set::PolicySet;

/// How a rule differs between two sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    /// Anything that decides what the rule matches or says changed: keywords,
    /// exceptions, categories, kind, qualification, dates, citation, scope,
    /// replacements.
    Modified,
}

/// One rule that differs between an old and a new set.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RuleChange {
    pub rule_id: String,
    /// The pack the rule is in (in the new set, or the old one if removed).
    pub pack: String,
    pub change: ChangeKind,
}

impl PolicySet {
    /// The rules that differ between this set and `new`, by rule id.
    pub fn diff(&self, new: &PolicySet) -> Vec<RuleChange> {
        let mut out = Vec::new();
        let all = |s: &PolicySet| -> Vec<(String, String, String)> {
            s.packs()
                .iter()
                .flat_map(|p| {
                    p.rules
                        .iter()
                        .map(move |r| (r.id.clone(), p.name.clone(), r.fingerprint(p.scope)))
                })
                .collect()
        };
        let old_rules = all(self);
        let new_rules = all(new);
        for (id, pack, fp) in &new_rules {
            match old_rules.iter().find(|(oid, _, _)| oid == id) {
                None => out.push(RuleChange {
                    rule_id: id.clone(),
                    pack: pack.clone(),
                    change: ChangeKind::Added,
                }),
                Some((_, _, ofp)) if ofp != fp => out.push(RuleChange {
                    rule_id: id.clone(),
                    pack: pack.clone(),
                    change: ChangeKind::Modified,
                }),
                Some(_) => {}
            }
        }
        for (id, pack, _) in &old_rules {
            if !new_rules.iter().any(|(nid, _, _)| nid == id) {
                out.push(RuleChange {
                    rule_id: id.clone(),
                    pack: pack.clone(),
                    change: ChangeKind::Removed,
                });
            }
        }
        out.sort();
        out
    }
}

/// The ids of the listings whose policy outcome may differ between `old` and
/// `new` because of `changes` (from [`PolicySet::diff`]).
///
/// Conservative: a listing is returned if its region falls under the old or
/// the new version of a changed rule (or of a rule a changed rule replaces or
/// replaced) and either its text contains one of those rules' keywords or
/// exceptions (ignoring word boundaries), or the rule covers the listing's
/// category by `match_categories`. A listing not returned keeps its outcome.
/// Rules whose effective dates pass without a pack change are not changes:
/// the caller rescreens on those dates (see `docs/policy.md`).
pub fn listings_to_rescreen<'a>(
    changes: &[RuleChange],
    old: &PolicySet,
    new: &PolicySet,
    listings: impl Iterator<Item = &'a Listing>,
) -> Vec<String> {
    // Every version of every rule whose outcome a change may move.
    let mut ids: BTreeSet<&str> = changes.iter().map(|c| c.rule_id.as_str()).collect();
    for set in [old, new] {
        for c in changes {
            if let Some((r, _)) = set.rule(&c.rule_id) {
                ids.extend(r.replaces.iter().map(String::as_str));
            }
        }
    }
    let mut versions: Vec<(&Rule, Scope)> = Vec::new();
    for id in &ids {
        for set in [old, new] {
            if let Some(v) = set.rule(id) {
                versions.push(v);
            }
        }
    }
    if versions.is_empty() {
        return Vec::new();
    }
    let mut patterns: Vec<&str> = Vec::new();
    let mut owner: Vec<usize> = Vec::new();
    for (i, (r, _)) in versions.iter().enumerate() {
        for p in PolicySet::rule_patterns(r) {
            patterns.push(p);
            owner.push(i);
        }
    }
    let ac = AhoCorasick::new(&patterns).ok();
    let mut out = Vec::new();
    for l in listings {
        let applies: Vec<bool> = versions
            .iter()
            .map(|(_, s)| s.applies_to(l.region))
            .collect();
        if !applies.iter().any(|&a| a) {
            continue;
        }
        let by_category = versions
            .iter()
            .zip(&applies)
            .any(|((r, _), &a)| a && r.matches_category(&l.category));
        let by_text = || {
            let Some(ac) = &ac else { return true };
            [
                Some(l.title.as_str()),
                l.brand.as_deref(),
                l.description.as_deref(),
            ]
            .into_iter()
            .flatten()
            .any(|t| {
                let n = norm::normalize(t);
                ac.find_overlapping_iter(n.text())
                    .any(|m| applies[owner[m.pattern().as_usize()]])
            })
        };
        if by_category || by_text() {
            out.push(l.id.clone());
        }
    }
    out
}
