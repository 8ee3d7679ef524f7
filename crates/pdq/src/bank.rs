//! Banks of registered images (rights holders' logos, copyrighted product photos) and matching
//! a listing image's hashes against them. Pure: no I/O; the store feeds entries in.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::hash::{Dihedral, Hash256};
use crate::pdq::DihedralHashes;
use shopshield_hamming::HammingIndex;

/// Default largest Hamming distance for a match.
pub const DEFAULT_MAX_DISTANCE: u32 = 31;
/// Default smallest PDQ quality, for both the query and the registered image.
pub const DEFAULT_MIN_QUALITY: u8 = 50;

/// What a bank holds, and so which violation its matches support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BankKind {
    /// Registered trademark logos: a match supports `counterfeit`.
    Logo,
    /// Copyrighted product photos: a match supports `copyright`.
    Photo,
}

impl BankKind {
    /// The decision's violation type this bank feeds: `"counterfeit"` or `"copyright"`.
    pub fn violation(self) -> &'static str {
        match self {
            BankKind::Logo => "counterfeit",
            BankKind::Photo => "copyright",
        }
    }
}

/// A bank's name, kind and thresholds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankConfig {
    /// Name, e.g. `"logos"` or `"photos"`.
    pub name: String,
    /// Logo or photo.
    pub kind: BankKind,
    /// Largest Hamming distance that matches (default 31; at most 47 uses the fast path).
    pub max_distance: u32,
    /// Smallest quality of both the query and the registered hash (default 50).
    pub min_quality: u8,
    /// Hashes of quality `low_quality_floor..min_quality` (a blurry or dull photo) are
    /// indexed and matched too, but only within `low_quality_max_distance`: PDQ's hash is
    /// the sign pattern of an image's lowest frequencies, which blur keeps, while its
    /// quality score counts fine gradients, which blur removes; such a hash is still the
    /// image's, but less separated from other smooth images', so it needs to be closer.
    /// `low_quality_floor >= min_quality` turns this off.
    #[serde(default = "default_low_quality_floor")]
    pub low_quality_floor: u8,
    /// Largest distance for a pair where either side is below `min_quality`.
    #[serde(default = "default_low_quality_max_distance")]
    pub low_quality_max_distance: u32,
}

/// Default floor of the low-quality lane (see [`BankConfig::low_quality_floor`]).
pub const DEFAULT_LOW_QUALITY_FLOOR: u8 = 10;
/// Default distance of the low-quality lane.
pub const DEFAULT_LOW_QUALITY_MAX_DISTANCE: u32 = 22;

fn default_low_quality_floor() -> u8 {
    DEFAULT_LOW_QUALITY_FLOOR
}

fn default_low_quality_max_distance() -> u32 {
    DEFAULT_LOW_QUALITY_MAX_DISTANCE
}

impl BankConfig {
    /// A config with the default thresholds (distance <= 31, quality >= 50).
    pub fn new(name: impl Into<String>, kind: BankKind) -> BankConfig {
        BankConfig {
            name: name.into(),
            kind,
            max_distance: DEFAULT_MAX_DISTANCE,
            min_quality: DEFAULT_MIN_QUALITY,
            low_quality_floor: DEFAULT_LOW_QUALITY_FLOOR,
            low_quality_max_distance: DEFAULT_LOW_QUALITY_MAX_DISTANCE,
        }
    }

    /// The smallest quality indexed or matched at all.
    pub fn quality_floor(&self) -> u8 {
        self.min_quality.min(self.low_quality_floor)
    }

    /// Whether a pair of these qualities at this distance matches.
    pub fn accepts(&self, distance: u32, query_quality: u8, reference_quality: u8) -> bool {
        if query_quality >= self.min_quality && reference_quality >= self.min_quality {
            distance <= self.max_distance
        } else {
            query_quality >= self.quality_floor()
                && reference_quality >= self.quality_floor()
                && distance <= self.low_quality_max_distance.min(self.max_distance)
        }
    }
}

/// One registered hash of a bank entry. An entry may have several (e.g. the whole image, its
/// border-trimmed version and a few crops; see [`crate::views`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceHash {
    /// The hash.
    pub hash: Hash256,
    /// Its quality.
    pub quality: u8,
    /// Set for hashes that must never match (see [`crate::PdqHash::degenerate`]).
    #[serde(default)]
    pub degenerate: bool,
    /// Which view of the registered image it is (`"full"`, `"trim"`, `"crop10"`...).
    pub view: String,
}

/// A query: the hashes of one view of a listing image (all eight dihedral variants).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryView {
    /// Which view of the listing image (`"full"`, `"trim"`, `"tile 1/3 0,2"`...).
    pub view: String,
    /// Its dihedral hashes and quality.
    pub hashes: DihedralHashes,
}

/// Evidence for one matched bank entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankMatch {
    /// Bank name.
    pub bank: String,
    /// Bank kind.
    pub kind: BankKind,
    /// The violation this supports (`"counterfeit"` for logos, `"copyright"` for photos).
    pub violation: String,
    /// The registered image's id.
    pub entry_id: String,
    /// The right it belongs to.
    pub right_id: String,
    /// Hamming distance of the best matching pair.
    pub distance: u32,
    /// Which dihedral variant of the listing image matched (`"original"`, `"rotate90"`...).
    pub variant: Dihedral,
    /// Quality of the listing image's matching view.
    pub query_quality: u8,
    /// Quality of the registered hash.
    pub reference_quality: u8,
    /// Which view of the listing image matched.
    pub query_view: String,
    /// Which view of the registered image matched.
    pub reference_view: String,
}

/// Errors changing a bank.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BankError {
    /// None of the entry's hashes is usable (all degenerate or below the bank's min quality).
    #[error(
        "entry {entry_id}: no hash has quality >= {min_quality} (image flat, tiny or degenerate)"
    )]
    NoUsableHash {
        /// The entry.
        entry_id: String,
        /// The bank's threshold.
        min_quality: u8,
    },
}

#[derive(Debug, Clone)]
struct Entry {
    right_id: String,
    hash_ids: Vec<u64>,
}

#[derive(Debug, Clone)]
struct HashMeta {
    entry_id: String,
    quality: u8,
    view: String,
}

/// A bank: registered hashes in an exact Hamming index, with per-bank thresholds.
#[derive(Debug, Clone)]
pub struct Bank {
    config: BankConfig,
    index: HammingIndex,
    entries: HashMap<String, Entry>,
    meta: HashMap<u64, HashMeta>,
    next_id: u64,
}

impl Bank {
    /// An empty bank.
    pub fn new(config: BankConfig) -> Bank {
        Bank {
            config,
            index: HammingIndex::new(),
            entries: HashMap::new(),
            meta: HashMap::new(),
            next_id: 0,
        }
    }

    /// Builds a bank in one go (start-up load): `(entry_id, right_id, hashes)` triples. Entries
    /// with no usable hash are skipped and returned as errors.
    pub fn from_entries<I>(config: BankConfig, entries: I) -> (Bank, Vec<BankError>)
    where
        I: IntoIterator<Item = (String, String, Vec<ReferenceHash>)>,
    {
        let mut bank = Bank::new(config);
        let mut errors = Vec::new();
        let mut items = Vec::new();
        for (entry_id, right_id, hashes) in entries {
            match bank.stage(&entry_id, &right_id, &hashes) {
                Ok(staged) => items.extend(staged),
                Err(e) => errors.push(e),
            }
        }
        bank.index = HammingIndex::from_pairs(items);
        (bank, errors)
    }

    /// Records an entry's metadata and returns its `(hash id, hash)` pairs to index.
    fn stage(
        &mut self,
        entry_id: &str,
        right_id: &str,
        hashes: &[ReferenceHash],
    ) -> Result<Vec<(u64, Hash256)>, BankError> {
        let floor = self.config.quality_floor();
        let usable: Vec<&ReferenceHash> = hashes
            .iter()
            .filter(|h| !h.degenerate && h.quality >= floor)
            .collect();
        if usable.is_empty() {
            return Err(BankError::NoUsableHash {
                entry_id: entry_id.to_string(),
                min_quality: floor,
            });
        }
        self.remove(entry_id);
        let mut staged = Vec::with_capacity(usable.len());
        let mut ids = Vec::with_capacity(usable.len());
        for h in usable {
            let id = self.next_id;
            self.next_id += 1;
            self.meta.insert(
                id,
                HashMeta {
                    entry_id: entry_id.to_string(),
                    quality: h.quality,
                    view: h.view.clone(),
                },
            );
            ids.push(id);
            staged.push((id, h.hash));
        }
        self.entries.insert(
            entry_id.to_string(),
            Entry {
                right_id: right_id.to_string(),
                hash_ids: ids,
            },
        );
        Ok(staged)
    }

    /// The bank's config.
    pub fn config(&self) -> &BankConfig {
        &self.config
    }

    /// Number of entries (registered images).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the bank has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Number of indexed hashes (several per entry when views are used).
    pub fn hash_count(&self) -> usize {
        self.index.len()
    }

    /// Approximate heap bytes of the index.
    pub fn index_memory_bytes(&self) -> usize {
        self.index.memory_bytes()
    }

    /// Registers (or replaces) an entry. Hashes that are degenerate or below the bank's
    /// `min_quality` are not indexed; returns how many were. The entry matches from the next
    /// query on.
    pub fn insert(
        &mut self,
        entry_id: &str,
        right_id: &str,
        hashes: &[ReferenceHash],
    ) -> Result<usize, BankError> {
        let staged = self.stage(entry_id, right_id, hashes)?;
        let n = staged.len();
        for (id, h) in staged {
            self.index.insert(id, h);
        }
        Ok(n)
    }

    /// Removes an entry; true if it was present.
    pub fn remove(&mut self, entry_id: &str) -> bool {
        let Some(entry) = self.entries.remove(entry_id) else {
            return false;
        };
        for id in entry.hash_ids {
            self.index.remove(id);
            self.meta.remove(&id);
        }
        true
    }

    /// Matches a listing image (one or more views, each with its eight dihedral hashes)
    /// against the bank. Returns at most one match per entry (the closest), sorted by distance.
    /// Views that are degenerate or below the quality floor are skipped: never matched; a
    /// pair where either side is below `min_quality` must be within
    /// `low_quality_max_distance` (see [`BankConfig::low_quality_floor`]).
    pub fn match_views(&self, views: &[QueryView]) -> Vec<BankMatch> {
        let mut best: HashMap<&str, BankMatch> = HashMap::new();
        let mut found = Vec::new();
        for qv in views {
            let q = &qv.hashes;
            if q.degenerate || q.quality < self.config.quality_floor() {
                continue;
            }
            for (variant, hash) in q.iter() {
                self.index
                    .search_into(&hash, self.config.max_distance, &mut found);
                for n in &found {
                    let Some(meta) = self.meta.get(&n.id) else {
                        continue;
                    };
                    if !self.config.accepts(n.distance, q.quality, meta.quality) {
                        continue;
                    }
                    let Some(entry) = self.entries.get(&meta.entry_id) else {
                        continue;
                    };
                    let better = best
                        .get(meta.entry_id.as_str())
                        .is_none_or(|m| n.distance < m.distance);
                    if better {
                        best.insert(
                            meta.entry_id.as_str(),
                            BankMatch {
                                bank: self.config.name.clone(),
                                kind: self.config.kind,
                                violation: self.config.kind.violation().to_string(),
                                entry_id: meta.entry_id.clone(),
                                right_id: entry.right_id.clone(),
                                distance: n.distance,
                                variant,
                                query_quality: q.quality,
                                reference_quality: meta.quality,
                                query_view: qv.view.clone(),
                                reference_view: meta.view.clone(),
                            },
                        );
                    }
                }
            }
        }
        let mut out: Vec<BankMatch> = best.into_values().collect();
        out.sort_by(|a, b| {
            (a.distance, &a.entry_id, a.variant).cmp(&(b.distance, &b.entry_id, b.variant))
        });
        out
    }

    /// Matches a single whole-image hash set (the common case).
    pub fn match_hashes(&self, hashes: &DihedralHashes) -> Vec<BankMatch> {
        self.match_views(&[QueryView {
            view: "full".to_string(),
            hashes: *hashes,
        }])
    }
}

/// One reference hash for a whole image: convenience for [`Bank::insert`].
pub fn full_view(hashes: &DihedralHashes) -> ReferenceHash {
    ReferenceHash {
        hash: hashes.hashes[0],
        quality: hashes.quality,
        degenerate: hashes.degenerate,
        view: "full".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dh(seed: u64, quality: u8) -> DihedralHashes {
        let mut hashes = [Hash256::ZERO; 8];
        for (i, h) in hashes.iter_mut().enumerate() {
            let x = seed
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .wrapping_add(i as u64 * 77);
            *h = Hash256([x, x.rotate_left(17), x.rotate_left(33) ^ 5, !x]);
        }
        DihedralHashes {
            hashes,
            quality,
            degenerate: false,
        }
    }

    #[test]
    fn matches_with_evidence_and_thresholds() {
        let mut bank = Bank::new(BankConfig::new("photos", BankKind::Photo));
        let reg = dh(1, 90);
        assert_eq!(bank.insert("img-1", "right-9", &[full_view(&reg)]), Ok(1));
        // A query whose rotate90 variant equals the registered original, with 3 bits off.
        let mut q = dh(2, 70);
        let mut h = reg.hashes[0];
        h.0[0] ^= 0b111;
        q.hashes[1] = h;
        let m = bank.match_hashes(&q);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].right_id, "right-9");
        assert_eq!(m[0].distance, 3);
        assert_eq!(m[0].variant, Dihedral::Rotate90);
        assert_eq!((m[0].query_quality, m[0].reference_quality), (70, 90));
        assert_eq!(m[0].violation, "copyright");
        // Low-quality queries match only in the low-quality lane's distance; below its
        // floor, and degenerate ones, never.
        q.quality = 49;
        assert_eq!(bank.match_hashes(&q)[0].distance, 3);
        q.hashes[1].0[1] ^= 0xff_ffff; // 27 bits off: beyond the lane's 22
        assert!(bank.match_hashes(&q).is_empty());
        q.hashes[1] = h;
        q.quality = 9;
        assert!(bank.match_hashes(&q).is_empty());
        q.quality = 70;
        q.degenerate = true;
        assert!(bank.match_hashes(&q).is_empty());
        // References below the floor are refused; a blurry one (quality 10..50) is kept.
        assert!(bank.insert("img-2", "r", &[full_view(&dh(3, 9))]).is_err());
        assert!(bank.insert("img-3", "r", &[full_view(&dh(3, 10))]).is_ok());
        assert!(bank.remove("img-3"));
        // Removal takes effect at once.
        assert!(bank.remove("img-1"));
        q.degenerate = false;
        assert!(bank.match_hashes(&q).is_empty());
        // Bulk load.
        let (bank, errs) = Bank::from_entries(
            BankConfig::new("logos", BankKind::Logo),
            vec![
                ("a".into(), "r1".into(), vec![full_view(&reg)]),
                ("b".into(), "r2".into(), vec![full_view(&dh(4, 0))]),
            ],
        );
        assert_eq!((bank.len(), errs.len()), (1, 1));
        assert_eq!(bank.match_hashes(&reg)[0].violation, "counterfeit");
    }
}
