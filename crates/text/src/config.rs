//! Configuration of the text detector: thresholds, weights, fuzzy budgets,
//! price rules and the currency table.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shopshield_model::Money;

/// Everything the text detector can be tuned with. Every field has a default
/// ([`TextConfig::default`]); a TOML/JSON document may set any subset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TextConfig {
    /// Score at or above which a listing goes to human review.
    pub review: f64,
    /// Score at or above which a listing is rejected.
    pub reject: f64,
    /// Evidence weights; see [`Weights`].
    pub weights: Weights,
    /// Edit budgets of fuzzy matching.
    pub fuzzy: FuzzyConfig,
    /// Price rules.
    pub price: PriceConfig,
    /// Currency rates to USD.
    pub fx: FxTable,
    /// Violations scoring below this are not reported at all.
    pub min_score: f64,
    /// Highest score of a listing with resale wording ("pre-owned", "used",
    /// "authentic", "二手"...) and no counterfeit cue, no spoofing spelling and
    /// no price under `price.very_low_ratio` of the floor. Reselling genuine
    /// goods is lawful: keep this below `reject` so such listings go to
    /// review at most.
    pub resale_cap: f64,
}

impl Default for TextConfig {
    fn default() -> Self {
        TextConfig {
            review: 0.5,
            reject: 0.85,
            weights: Weights::default(),
            fuzzy: FuzzyConfig::default(),
            price: PriceConfig::default(),
            fx: FxTable::default(),
            min_score: 0.2,
            resale_cap: 0.8,
        }
    }
}

/// Weights of the pieces of evidence, each in `0..=1`.
///
/// The score of a (listing, right) pair is the noisy-OR of the evidence
/// found: `score = 1 − Π (1 − wᵢ)`, where the mark mention contributes one
/// weight (the strongest of its methods), each cue class one, a brand claim
/// one and the price one. A mention only in the description is scaled by
/// `description_factor`. A mention next to a nominative phrase ("for",
/// "compatible with") in a listing that neither claims the brand nor has
/// cues is dropped. The defaults put a plain mention (0.55) in review, and
/// need two independent signals (look-alike spelling and cue, mention and a
/// very low price, claimed brand and low price...) or a spoofing spelling
/// (homoglyph, invisible characters) to reach reject (0.85).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Weights {
    /// The mark written as registered.
    pub exact: f64,
    /// The mark is an ordinary word ("apple", "shell") written as such.
    pub generic_word: f64,
    /// Letters replaced by look-alikes from other scripts, or mixed scripts.
    pub homoglyph: f64,
    /// Zero-width or other invisible characters inside the mark.
    pub invisible: f64,
    /// Digits or symbols for letters (`N1ke`).
    pub leet: f64,
    /// Letters spread out by separators (`N.I.K.E`, `Ni-ke`).
    pub separator: f64,
    /// Repeated letters (`Niiike`).
    pub repetition: f64,
    /// Added diacritics (`Nïke`).
    pub diacritics: f64,
    /// Fullwidth or other compatibility forms.
    pub compat: f64,
    /// One edit (insertion, omission, replacement, transposition).
    pub edit1: f64,
    /// Two edits (long marks only).
    pub edit2: f64,
    /// The mark glued to another word (`nikeshoes`, `LouisVuitton`).
    pub missing_space: f64,
    /// The `brand` field names the mark and the seller is not authorised.
    pub brand_claim: f64,
    /// A strong counterfeit cue ("replica", "1:1", "高仿").
    pub cue_strong: f64,
    /// A weak cue ("dupe", "inspired by"), scaled by the cue's own weight.
    pub cue_weak: f64,
    /// Price below `price.low_ratio` of the right's floor.
    pub price_low: f64,
    /// Price below `price.very_low_ratio` of the right's floor.
    pub price_very_low: f64,
    /// Multiplier for mentions found only in the description.
    pub description_factor: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            exact: 0.55,
            generic_word: 0.3,
            homoglyph: 0.9,
            invisible: 0.9,
            leet: 0.8,
            separator: 0.75,
            repetition: 0.7,
            diacritics: 0.7,
            compat: 0.55,
            edit1: 0.6,
            edit2: 0.55,
            missing_space: 0.6,
            brand_claim: 0.55,
            cue_strong: 0.8,
            cue_weak: 0.5,
            price_low: 0.45,
            price_very_low: 0.7,
            description_factor: 0.8,
        }
    }
}

/// Fuzzy matching budgets, by the length of the mark in characters (spaces
/// not counted). Marks shorter than `min_len_1` never match fuzzily; the
/// issue requires marks of 4 letters or fewer never to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FuzzyConfig {
    pub enabled: bool,
    /// Shortest mark allowed one edit.
    pub min_len_1: usize,
    /// Shortest mark allowed two edits.
    pub min_len_2: usize,
}

impl Default for FuzzyConfig {
    fn default() -> Self {
        FuzzyConfig {
            enabled: true,
            min_len_1: 5,
            min_len_2: 9,
        }
    }
}

impl FuzzyConfig {
    /// Edits allowed for a mark of `len` characters.
    pub fn budget(&self, len: usize) -> usize {
        let min1 = self.min_len_1.max(5);
        if !self.enabled || len < min1 {
            0
        } else if len < self.min_len_2.max(min1) {
            1
        } else {
            2
        }
    }
}

/// When a price counts as implausibly low.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriceConfig {
    /// Price / floor below this adds `weights.price_low`.
    pub low_ratio: f64,
    /// Price / floor below this adds `weights.price_very_low` instead.
    pub very_low_ratio: f64,
}

impl Default for PriceConfig {
    fn default() -> Self {
        PriceConfig {
            low_ratio: 0.5,
            very_low_ratio: 0.25,
        }
    }
}

/// Currency rates: how many US dollars one unit of each currency buys.
///
/// The built-in table holds approximate mid-market rates (late 2025) for
/// the currencies of the markets shopshield serves; it is only used to
/// compare a price with a price floor, where a few percent do not matter.
/// Replace or extend it in the configuration (`[fx.rates]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FxTable {
    pub rates: BTreeMap<String, f64>,
}

const DEFAULT_RATES: &[(&str, f64)] = &[
    ("USD", 1.0),
    ("EUR", 1.08),
    ("GBP", 1.27),
    ("JPY", 0.0067),
    ("CNY", 0.14),
    ("HKD", 0.128),
    ("TWD", 0.031),
    ("KRW", 0.00072),
    ("IDR", 0.000062),
    ("MYR", 0.22),
    ("THB", 0.029),
    ("VND", 0.000039),
    ("PHP", 0.017),
    ("SGD", 0.75),
    ("INR", 0.012),
    ("PKR", 0.0036),
    ("BDT", 0.0083),
    ("AUD", 0.66),
    ("NZD", 0.59),
    ("CAD", 0.72),
    ("MXN", 0.054),
    ("BRL", 0.18),
    ("ARS", 0.001),
    ("CLP", 0.00105),
    ("COP", 0.00025),
    ("PEN", 0.27),
    ("CHF", 1.13),
    ("SEK", 0.095),
    ("NOK", 0.092),
    ("DKK", 0.145),
    ("PLN", 0.25),
    ("CZK", 0.043),
    ("HUF", 0.0027),
    ("RON", 0.22),
    ("TRY", 0.029),
    ("RUB", 0.011),
    ("UAH", 0.024),
    ("SAR", 0.267),
    ("AED", 0.272),
    ("QAR", 0.275),
    ("KWD", 3.25),
    ("ILS", 0.27),
    ("EGP", 0.02),
    ("NGN", 0.00065),
    ("KES", 0.0077),
    ("ZAR", 0.055),
];

impl Default for FxTable {
    fn default() -> Self {
        FxTable {
            rates: DEFAULT_RATES
                .iter()
                .map(|(c, r)| (c.to_string(), *r))
                .collect(),
        }
    }
}

impl FxTable {
    /// The amount in US dollars, if the currency is known and the amount is
    /// a finite number ≥ 0.
    pub fn to_usd(&self, money: &Money) -> Option<f64> {
        let rate = self.rates.get(money.currency.as_str())?;
        let v = money.amount * rate;
        (v.is_finite() && v >= 0.0 && rate.is_finite() && *rate > 0.0).then_some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_partial_documents() {
        let c: TextConfig =
            serde_json::from_str(r#"{"review":0.4,"fx":{"rates":{"USD":1.0,"XTS":2.0}}}"#).unwrap();
        assert_eq!(c.review, 0.4);
        assert_eq!(c.reject, 0.85);
        assert_eq!(c.fx.to_usd(&Money::new(3.0, "XTS")), Some(6.0));
        assert_eq!(c.fx.to_usd(&Money::new(3.0, "EUR")), None);
        assert!(serde_json::from_str::<TextConfig>(r#"{"bogus":1}"#).is_err());
        let d = TextConfig::default();
        assert_eq!(d.fuzzy.budget(4), 0);
        assert_eq!(d.fuzzy.budget(5), 1);
        assert_eq!(d.fuzzy.budget(9), 2);
        assert!(d.fx.to_usd(&Money::new(100.0, "JPY")).unwrap() < 1.0);
    }
}
