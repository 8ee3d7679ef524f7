//! An exact Hamming-radius index over 256-bit hashes: multi-index hashing (MIH) with a
//! tight pigeonhole bound, dynamic buckets, and verification against a dense hash array.
//!
//! # How it is exact
//!
//! The hash is cut into 16 substrings of 16 bits; table `i` maps each 16-bit value of substring
//! `i` to the slots of the hashes that have it. For radius `r = 16 t + s` (`0 <= s < 16`), any
//! hash within distance `r` of the query differs in at most `t` bits in one of the first `s + 1`
//! substrings, or in at most `t - 1` bits in one of the other `15 - s` (otherwise the distance
//! would be at least `(s+1)(t+1) + (15-s) t = r + 1`). So the search probes, in table `i`, every
//! key within `t` (or `t - 1`) bits of the query's substring, and checks every hash found there
//! with a full 256-bit popcount. Nothing within the radius can be missed. For `r = 31` that is
//! the query key and its 16 one-bit neighbours in all 16 tables (272 buckets, the same set of
//! buckets as faiss' `IndexBinaryMultiHash(256, 16, 16)` with `nflip = 1`); for `r <= 15` it is a
//! single exact-key lookup in `r + 1` tables. Radii of 48 and above fall back to a linear scan.
//!
//! # Memory
//!
//! Per hash: 16 table entries of 4 bytes, the hash (32 bytes), its external id (8 bytes), a
//! live flag, and the id map (13 bytes per map bucket); plus 16 x 65,537 bucket offsets in all.
//! [`HammingIndex::memory_bytes`] reports the total from the actual capacities. On Linux the
//! hash array and the tables are advised as transparent huge pages (`madvise`), which cuts TLB
//! misses on the random accesses of a search (1.7x faster at 10M hashes).

use std::collections::HashMap;

use crate::bits::Hash256;

const TABLES: usize = 16;
const KEYS: usize = 1 << 16;
/// Radii at or above this use a linear scan (probing would visit more than a scan).
pub const LINEAR_SCAN_RADIUS: u32 = 48;

const MAGIC: &[u8; 8] = b"SSPDQIX1";

thread_local! {
    /// Per-thread scratch for candidate slots (avoids a large allocation per query).
    static CANDIDATES: std::cell::RefCell<Vec<u32>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Per-thread visit stamps for de-duplicating unordered results (slot -> epoch).
    static SEEN: std::cell::RefCell<(Vec<u32>, u32)> = const { std::cell::RefCell::new((Vec::new(), 0)) };
}

/// Asks the kernel to back a large buffer with transparent huge pages (fewer TLB misses on
/// the random accesses of a search). Only a hint; call before the pages are first written.
fn advise_huge_pages<T>(buf: &[T]) {
    #[cfg(target_os = "linux")]
    {
        const PAGE: usize = 4096;
        let bytes = std::mem::size_of_val(buf);
        if bytes < (4 << 20) {
            return;
        }
        let start = buf.as_ptr() as usize;
        let aligned = start.div_ceil(PAGE) * PAGE;
        let len = (start + bytes).saturating_sub(aligned) / PAGE * PAGE;
        if len > 0 {
            // SAFETY: madvise with MADV_HUGEPAGE only changes how the kernel backs this range
            // of our own allocation; it does not change its contents or validity.
            unsafe {
                libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = buf;
}

/// A zero-filled vector of `n` elements whose pages are advised as huge before first use.
fn huge_vec<T: Copy + Default>(n: usize) -> Vec<T> {
    let mut v: Vec<T> = Vec::with_capacity(n);
    advise_huge_pages(v.spare_capacity_mut());
    v.resize(n, T::default());
    v
}

/// Hints the CPU to start loading the cache line at `p`. Has no effect on results.
#[inline(always)]
fn prefetch<T>(p: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint; it never faults or reads memory observably, whatever
    // the address, and SSE is part of the x86_64 baseline.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// A hash found within the radius.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Neighbor {
    /// Hamming distance to the query.
    pub distance: u32,
    /// The caller's id for the hash.
    pub id: u64,
}

/// Errors loading an index from bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// Not an index serialised by [`HammingIndex::to_bytes`].
    #[error("not a serialised Hamming index (bad magic or version)")]
    BadMagic,
    /// The bytes end early or have trailing data.
    #[error("serialised Hamming index is truncated or has trailing bytes")]
    Truncated,
    /// The same id appears twice.
    #[error("serialised Hamming index has duplicate id {0}")]
    DuplicateId(u64),
}

#[derive(Clone, Copy, Default)]
#[repr(C, align(32))]
struct Packed([u64; 4]);

/// Inserts wait in a small linearly scanned buffer; past this many they are merged into the
/// tables (a counting-sort pass, about 30 ms per million hashes).
pub const PENDING_MAX: usize = 8192;

/// One table: the slots of all indexed hashes, grouped by the 16-bit value of one substring
/// (compressed sparse rows: bucket `k` is `slots[offsets[k]..offsets[k + 1]]`).
#[derive(Clone)]
struct Table {
    offsets: Vec<u32>,
    slots: Vec<u32>,
}

impl Table {
    #[inline]
    fn bucket(&self, key: usize) -> &[u32] {
        let lo = self.offsets[key] as usize;
        let hi = self.offsets[key + 1] as usize;
        &self.slots[lo..hi]
    }
}

/// Exact Hamming-radius index. Inserts and removes take effect immediately (no rebuild
/// needed): removals are tombstoned, inserts go to a pending buffer that every search scans
/// and that is merged into the tables when it reaches [`PENDING_MAX`].
///
/// `Send + Sync`; wrap it in a lock (or swap whole copies) for concurrent writers.
#[derive(Clone)]
pub struct HammingIndex {
    tables: Vec<Table>,
    hashes: Vec<Packed>,
    ids: Vec<u64>,
    live: Vec<bool>,
    /// Slots not referenced by the tables (reusable).
    free: Vec<u32>,
    /// Dead slots still referenced by the tables (reclaimed at the next merge).
    dead_in_tables: usize,
    pending_hashes: Vec<Packed>,
    pending_slots: Vec<u32>,
    by_id: HashMap<u64, u32>,
}

impl Default for HammingIndex {
    fn default() -> Self {
        HammingIndex::new()
    }
}

impl std::fmt::Debug for HammingIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HammingIndex")
            .field("len", &self.len())
            .field("pending", &self.pending_slots.len())
            .finish()
    }
}

#[inline]
fn key_of(h: &[u64; 4], table: usize) -> usize {
    ((h[table >> 2] >> ((table & 3) * 16)) & 0xffff) as usize
}

#[inline(always)]
fn dist(a: &[u64; 4], b: &[u64; 4]) -> u32 {
    (a[0] ^ b[0]).count_ones()
        + (a[1] ^ b[1]).count_ones()
        + (a[2] ^ b[2]).count_ones()
        + (a[3] ^ b[3]).count_ones()
}

/// Checks candidate slots with a full popcount, prefetching a few ahead.
#[inline(always)]
fn verify_generic(
    q: &[u64; 4],
    hashes: &[Packed],
    live: &[bool],
    cands: &[u32],
    radius: u32,
    found: &mut Vec<(u32, u32)>,
) {
    const AHEAD: usize = 32;
    for &slot in cands.iter().take(AHEAD) {
        prefetch(hashes[slot as usize].0.as_ptr());
    }
    for (i, &slot) in cands.iter().enumerate() {
        if let Some(&ahead) = cands.get(i + AHEAD) {
            prefetch(hashes[ahead as usize].0.as_ptr());
        }
        let d = dist(q, &hashes[slot as usize].0);
        if d <= radius && live[slot as usize] {
            found.push((d, slot));
        }
    }
}

/// Scans a contiguous run of hashes.
#[inline(always)]
fn scan_generic(
    q: &[u64; 4],
    hashes: &[Packed],
    slots: &[u32],
    radius: u32,
    found: &mut Vec<(u32, u32)>,
) {
    for (h, &slot) in hashes.iter().zip(slots) {
        let d = dist(q, &h.0);
        if d <= radius {
            found.push((d, slot));
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn verify_popcnt(
    q: &[u64; 4],
    hashes: &[Packed],
    live: &[bool],
    cands: &[u32],
    radius: u32,
    found: &mut Vec<(u32, u32)>,
) {
    verify_generic(q, hashes, live, cands, radius, found)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "popcnt")]
fn scan_popcnt(
    q: &[u64; 4],
    hashes: &[Packed],
    slots: &[u32],
    radius: u32,
    found: &mut Vec<(u32, u32)>,
) {
    scan_generic(q, hashes, slots, radius, found)
}

fn verify(
    q: &[u64; 4],
    hashes: &[Packed],
    live: &[bool],
    cands: &[u32],
    radius: u32,
    found: &mut Vec<(u32, u32)>,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU supports POPCNT (checked just above).
        unsafe { verify_popcnt(q, hashes, live, cands, radius, found) };
        return;
    }
    verify_generic(q, hashes, live, cands, radius, found)
}

fn scan(q: &[u64; 4], hashes: &[Packed], slots: &[u32], radius: u32, found: &mut Vec<(u32, u32)>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("popcnt") {
        // SAFETY: the CPU supports POPCNT (checked just above).
        unsafe { scan_popcnt(q, hashes, slots, radius, found) };
        return;
    }
    scan_generic(q, hashes, slots, radius, found)
}

impl HammingIndex {
    /// An empty index.
    pub fn new() -> HammingIndex {
        HammingIndex::from_pairs(std::iter::empty())
    }

    /// Builds an index from `(id, hash)` pairs with exactly sized tables (the fast way to load
    /// from the store at start-up). A repeated id keeps the last hash. Same as
    /// `HammingIndex::from_iter` / `collect()`.
    pub fn from_pairs<I: IntoIterator<Item = (u64, Hash256)>>(items: I) -> HammingIndex {
        let mut by_id: HashMap<u64, u32> = HashMap::new();
        let mut hashes: Vec<Packed> = Vec::new();
        let mut ids: Vec<u64> = Vec::new();
        for (id, h) in items {
            match by_id.get(&id) {
                Some(&slot) => hashes[slot as usize] = Packed(h.0),
                None => {
                    by_id.insert(id, hashes.len() as u32);
                    hashes.push(Packed(h.0));
                    ids.push(id);
                }
            }
        }
        let mut packed: Vec<Packed> = huge_vec(hashes.len());
        packed.copy_from_slice(&hashes);
        drop(hashes);
        let hashes = packed;
        ids.shrink_to_fit();
        by_id.shrink_to_fit();
        let live = vec![true; hashes.len()];
        let mut index = HammingIndex {
            tables: Vec::new(),
            hashes,
            ids,
            live,
            free: Vec::new(),
            dead_in_tables: 0,
            pending_hashes: Vec::new(),
            pending_slots: Vec::new(),
            by_id,
        };
        index.rebuild_tables();
        index
    }

    /// Rebuilds the tables from all live slots (counting sort per table); empties the pending
    /// buffer and makes dead slots reusable.
    fn rebuild_tables(&mut self) {
        let n_live = self.live.iter().filter(|l| **l).count();
        let mut tables = Vec::with_capacity(TABLES);
        let mut counts = vec![0u32; KEYS + 1];
        for t in 0..TABLES {
            counts.fill(0);
            for (h, live) in self.hashes.iter().zip(&self.live) {
                if *live {
                    counts[key_of(&h.0, t) + 1] += 1;
                }
            }
            for k in 0..KEYS {
                counts[k + 1] += counts[k];
            }
            let offsets = counts.clone();
            let mut cursor = counts.clone();
            let mut slots: Vec<u32> = huge_vec(n_live);
            for (slot, (h, live)) in self.hashes.iter().zip(&self.live).enumerate() {
                if *live {
                    let k = key_of(&h.0, t);
                    slots[cursor[k] as usize] = slot as u32;
                    cursor[k] += 1;
                }
            }
            tables.push(Table { offsets, slots });
        }
        self.tables = tables;
        self.pending_hashes.clear();
        self.pending_slots.clear();
        self.dead_in_tables = 0;
        self.free = (0..self.live.len() as u32)
            .filter(|s| !self.live[*s as usize])
            .rev()
            .collect();
    }

    /// Merges pending inserts and reclaims removed hashes now (otherwise done automatically).
    pub fn compact(&mut self) {
        self.rebuild_tables();
    }

    /// Number of hashes.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// The hash stored under `id`.
    pub fn get(&self, id: u64) -> Option<Hash256> {
        self.by_id
            .get(&id)
            .map(|&s| Hash256(self.hashes[s as usize].0))
    }

    /// Inserts (or replaces) the hash for `id`; returns the previous hash. Visible to the next
    /// search.
    pub fn insert(&mut self, id: u64, hash: Hash256) -> Option<Hash256> {
        let prev = self.remove(id);
        let slot = match self.free.pop() {
            Some(s) => {
                self.hashes[s as usize] = Packed(hash.0);
                self.ids[s as usize] = id;
                self.live[s as usize] = true;
                s
            }
            None => {
                if self.hashes.len() == self.hashes.capacity() {
                    // Grow by 1/8, not 2x: at 10M hashes doubling would cost 400 MB.
                    let extra = self.hashes.len() / 8 + 64;
                    self.hashes.reserve_exact(extra);
                    self.ids.reserve_exact(extra);
                    self.live.reserve_exact(extra);
                }
                self.hashes.push(Packed(hash.0));
                self.ids.push(id);
                self.live.push(true);
                (self.hashes.len() - 1) as u32
            }
        };
        self.pending_hashes.push(Packed(hash.0));
        self.pending_slots.push(slot);
        self.by_id.insert(id, slot);
        if self.pending_slots.len() > PENDING_MAX {
            self.rebuild_tables();
        }
        prev
    }

    /// Removes `id`; returns its hash if it was present. Visible to the next search.
    pub fn remove(&mut self, id: u64) -> Option<Hash256> {
        let slot = self.by_id.remove(&id)?;
        let h = self.hashes[slot as usize].0;
        self.live[slot as usize] = false;
        if let Some(pos) = self.pending_slots.iter().position(|&s| s == slot) {
            self.pending_slots.swap_remove(pos);
            self.pending_hashes.swap_remove(pos);
            self.free.push(slot);
        } else {
            self.dead_in_tables += 1;
            if self.dead_in_tables > PENDING_MAX.max(self.by_id.len() / 8) {
                self.rebuild_tables();
            }
        }
        Some(Hash256(h))
    }

    /// All `(id, hash)` pairs, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, Hash256)> + '_ {
        self.hashes
            .iter()
            .zip(&self.ids)
            .zip(&self.live)
            .filter(|(_, live)| **live)
            .map(|((h, id), _)| (*id, Hash256(h.0)))
    }

    /// Every stored hash within `radius` of `query`, sorted by distance then id. Exact.
    pub fn search(&self, query: &Hash256, radius: u32) -> Vec<Neighbor> {
        let mut out = Vec::new();
        self.search_into(query, radius, &mut out);
        out
    }

    /// The nearest stored hash within `radius` (ties broken by smallest id).
    pub fn nearest(&self, query: &Hash256, radius: u32) -> Option<Neighbor> {
        self.search(query, radius).into_iter().next()
    }

    /// Like [`HammingIndex::search`], reusing `out` (cleared first).
    pub fn search_into(&self, query: &Hash256, radius: u32, out: &mut Vec<Neighbor>) {
        out.clear();
        if self.is_empty() {
            return;
        }
        let mut found: Vec<(u32, u32)> = Vec::new();
        if self.gather(&query.0, radius, &mut found) {
            found.sort_unstable();
            found.dedup();
        }
        out.extend(found.into_iter().map(|(d, slot)| Neighbor {
            distance: d,
            id: self.ids[slot as usize],
        }));
        out.sort_unstable();
    }

    /// Hashes inserted since the tables were last merged (each search scans them linearly).
    pub fn pending_len(&self) -> usize {
        self.pending_slots.len()
    }

    /// Like [`HammingIndex::search_unordered_into`], but gives up (returning `false`, `out`
    /// empty) when the buckets to probe hold more than `max_candidates` hashes in all: for
    /// callers to whom a query that resembles that many stored hashes says nothing (a
    /// local-feature descriptor of a generic corner). Exact otherwise.
    pub fn search_unordered_capped(
        &self,
        query: &Hash256,
        radius: u32,
        max_candidates: usize,
        out: &mut Vec<Neighbor>,
    ) -> bool {
        out.clear();
        if self.is_empty() {
            return true;
        }
        if radius < LINEAR_SCAN_RADIUS {
            let t = radius / 16;
            let s = (radius % 16) as usize;
            let mut total = self.pending_slots.len();
            for table in 0..TABLES {
                let flips = if table <= s { t } else { t.wrapping_sub(1) };
                if flips == u32::MAX {
                    continue;
                }
                let key = key_of(&query.0, table);
                let tb = &self.tables[table];
                total += tb.bucket(key).len();
                if flips >= 1 {
                    for b in 0..16 {
                        total += tb.bucket(key ^ (1 << b)).len();
                    }
                }
                if flips >= 2 {
                    for b1 in 0..16 {
                        for b2 in (b1 + 1)..16 {
                            total += tb.bucket(key ^ (1 << b1) ^ (1 << b2)).len();
                        }
                    }
                }
                if total > max_candidates {
                    return false;
                }
            }
        } else if self.hashes.len() > max_candidates {
            return false;
        }
        self.search_unordered_into(query, radius, out);
        true
    }

    /// Like [`HammingIndex::search_into`], but in no particular order and without sorting:
    /// for callers that aggregate many neighbours per query themselves (the local-feature
    /// matcher looks up thousands of descriptors per photo). Each stored hash at most once.
    pub fn search_unordered_into(&self, query: &Hash256, radius: u32, out: &mut Vec<Neighbor>) {
        out.clear();
        if self.is_empty() {
            return;
        }
        let mut found: Vec<(u32, u32)> = Vec::new();
        self.gather(&query.0, radius, &mut found);
        SEEN.with(|cell| {
            let mut seen = cell.borrow_mut();
            let (stamps, epoch) = &mut *seen;
            if stamps.len() < self.ids.len() {
                stamps.resize(self.ids.len(), 0);
            }
            *epoch = epoch.wrapping_add(1);
            if *epoch == 0 {
                stamps.fill(0);
                *epoch = 1;
            }
            for (d, slot) in found {
                let stamp = &mut stamps[slot as usize];
                if *stamp != *epoch {
                    *stamp = *epoch;
                    out.push(Neighbor {
                        distance: d,
                        id: self.ids[slot as usize],
                    });
                }
            }
        });
    }

    /// Every `(distance, slot)` within `radius`: a linear scan of live hashes for large radii
    /// (returns `false`: no duplicates), else table probes plus the pending buffer (returns
    /// `true`: a slot may appear more than once).
    fn gather(&self, q: &[u64; 4], radius: u32, found: &mut Vec<(u32, u32)>) -> bool {
        if radius >= LINEAR_SCAN_RADIUS {
            let all: Vec<u32> = (0..self.hashes.len() as u32).collect();
            scan(q, &self.hashes, &all, radius, found);
            found.retain(|(_, s)| self.live[*s as usize]);
            false
        } else {
            self.probe(q, radius, found);
            scan(q, &self.pending_hashes, &self.pending_slots, radius, found);
            true
        }
    }

    /// Multi-index probing of the tables (pigeonhole bound, see the module docs).
    fn probe(&self, q: &[u64; 4], radius: u32, found: &mut Vec<(u32, u32)>) {
        let t = radius / 16;
        let s = (radius % 16) as usize;
        // Stage 1: the buckets to probe; start fetching their bounds.
        let mut probes: Vec<(u8, u16)> = Vec::with_capacity(TABLES * 137);
        for table in 0..TABLES {
            let flips = if table <= s { t } else { t.wrapping_sub(1) };
            if flips == u32::MAX {
                continue;
            }
            let key = key_of(q, table);
            probes.push((table as u8, key as u16));
            if flips >= 1 {
                for b in 0..16 {
                    probes.push((table as u8, (key ^ (1 << b)) as u16));
                }
            }
            if flips >= 2 {
                for b1 in 0..16 {
                    for b2 in (b1 + 1)..16 {
                        probes.push((table as u8, (key ^ (1 << b1) ^ (1 << b2)) as u16));
                    }
                }
            }
        }
        for &(t, k) in &probes {
            prefetch(&self.tables[t as usize].offsets[k as usize]);
        }
        // Stage 2: start fetching the bucket contents, then gather the candidate slots.
        for &(t, k) in &probes {
            prefetch(self.tables[t as usize].bucket(k as usize).as_ptr());
        }
        CANDIDATES.with(|cell| {
            let mut cands = cell.borrow_mut();
            cands.clear();
            for &(t, k) in &probes {
                cands.extend_from_slice(self.tables[t as usize].bucket(k as usize));
            }
            // Stage 3: verify with a full popcount.
            verify(q, &self.hashes, &self.live, &cands, radius, found);
        });
    }

    /// Approximate heap bytes in use, from the actual capacities.
    pub fn memory_bytes(&self) -> usize {
        let mut total = 0usize;
        for table in &self.tables {
            total += table.offsets.capacity() * 4 + table.slots.capacity() * 4;
        }
        total += (self.hashes.capacity() + self.pending_hashes.capacity())
            * std::mem::size_of::<Packed>();
        total += self.ids.capacity() * 8 + self.live.capacity();
        total += (self.free.capacity() + self.pending_slots.capacity()) * 4;
        // hashbrown: (key, value) plus one control byte per bucket.
        total += self.by_id.capacity() * (std::mem::size_of::<(u64, u32)>() + 1);
        total
    }

    /// Serialises to a compact byte string: magic, count, then `(id, hash)` pairs
    /// (40 bytes per hash). Load with [`HammingIndex::from_bytes`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.len() * 40);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.len() as u64).to_le_bytes());
        for (id, h) in self.iter() {
            out.extend_from_slice(&id.to_le_bytes());
            out.extend_from_slice(&h.to_bytes());
        }
        out
    }

    /// Loads an index serialised by [`HammingIndex::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<HammingIndex, IndexError> {
        if bytes.len() < 16 || &bytes[..8] != MAGIC {
            return Err(IndexError::BadMagic);
        }
        let mut n = [0u8; 8];
        n.copy_from_slice(&bytes[8..16]);
        let n = u64::from_le_bytes(n);
        let body = &bytes[16..];
        if n.checked_mul(40) != Some(body.len() as u64) {
            return Err(IndexError::Truncated);
        }
        let mut seen = std::collections::HashSet::with_capacity(n as usize);
        let mut items = Vec::with_capacity(n as usize);
        for chunk in body.chunks_exact(40) {
            let mut id = [0u8; 8];
            id.copy_from_slice(&chunk[..8]);
            let id = u64::from_le_bytes(id);
            if !seen.insert(id) {
                return Err(IndexError::DuplicateId(id));
            }
            let mut h = [0u8; 32];
            h.copy_from_slice(&chunk[8..]);
            items.push((id, Hash256::from_bytes(&h)));
        }
        Ok(HammingIndex::from_pairs(items))
    }
}

impl FromIterator<(u64, Hash256)> for HammingIndex {
    fn from_iter<I: IntoIterator<Item = (u64, Hash256)>>(items: I) -> Self {
        HammingIndex::from_pairs(items)
    }
}

/// Brute-force radius search over a slice (the oracle for tests and benchmarks).
pub fn brute_force(hashes: &[(u64, Hash256)], query: &Hash256, radius: u32) -> Vec<Neighbor> {
    let mut out: Vec<Neighbor> = hashes
        .iter()
        .filter_map(|(id, h)| {
            let d = h.distance(query);
            (d <= radius).then_some(Neighbor {
                distance: d,
                id: *id,
            })
        })
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rand_hash(seed: &mut u64) -> Hash256 {
        let mut w = [0u64; 4];
        for x in &mut w {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *x = *seed ^ (*seed >> 29);
        }
        Hash256(w)
    }

    fn flip(h: Hash256, bits: &[usize]) -> Hash256 {
        let mut w = h.0;
        for &b in bits {
            w[(b >> 6) & 3] ^= 1 << (b & 63);
        }
        Hash256(w)
    }

    #[test]
    fn insert_remove_search() {
        let mut seed = 7;
        let base = rand_hash(&mut seed);
        let mut idx = HammingIndex::new();
        idx.insert(1, base);
        // 31 flipped bits spread so that every 16-bit substring has at most 2 flips.
        let far: Vec<usize> = (0..31).map(|i| i * 8 + 1).collect();
        idx.insert(2, flip(base, &far));
        idx.insert(3, flip(base, &(0..32).map(|i| i * 8).collect::<Vec<_>>()));
        let r = idx.search(&base, 31);
        assert_eq!(
            r,
            vec![
                Neighbor { distance: 0, id: 1 },
                Neighbor {
                    distance: 31,
                    id: 2
                }
            ]
        );
        assert_eq!(idx.remove(1), Some(base));
        assert_eq!(idx.search(&base, 31).len(), 1);
        assert_eq!(idx.insert(2, base), Some(flip(base, &far)));
        assert_eq!(idx.nearest(&base, 0), Some(Neighbor { distance: 0, id: 2 }));
        assert_eq!(idx.len(), 2);
        let loaded = HammingIndex::from_bytes(&idx.to_bytes()).unwrap();
        assert_eq!(loaded.len(), 2);
        assert_eq!(loaded.search(&base, 40), idx.search(&base, 40));
        assert!(HammingIndex::from_bytes(b"nonsense").is_err());
        let mut bytes = idx.to_bytes();
        bytes.pop();
        assert_eq!(
            HammingIndex::from_bytes(&bytes).unwrap_err(),
            IndexError::Truncated
        );
    }

    #[test]
    fn many_updates_trigger_merges_and_stay_exact() {
        let mut seed = 99;
        let base: Vec<Hash256> = (0..50).map(|_| rand_hash(&mut seed)).collect();
        let mut idx = HammingIndex::new();
        let mut truth: Vec<(u64, Hash256)> = Vec::new();
        for i in 0..(3 * PENDING_MAX as u64) {
            let c = base[(i % 50) as usize];
            let nflip = (rand_hash(&mut seed).0[0] % 40) as usize;
            let bits: Vec<usize> = (0..nflip)
                .map(|_| (rand_hash(&mut seed).0[1] % 256) as usize)
                .collect();
            let h = flip(c, &bits);
            idx.insert(i, h);
            truth.push((i, h));
            if i.is_multiple_of(3) {
                let victim = (rand_hash(&mut seed).0[2] % truth.len() as u64) as usize;
                let vid = truth[victim].0;
                if idx.remove(vid).is_some() {
                    truth.retain(|(id, _)| *id != vid);
                }
            }
        }
        assert_eq!(idx.len(), truth.len());
        for q in base.iter().take(10) {
            assert_eq!(idx.search(q, 31), brute_force(&truth, q, 31));
            assert_eq!(idx.search(q, 20), brute_force(&truth, q, 20));
        }
        idx.compact();
        for q in base.iter().take(5) {
            assert_eq!(idx.search(q, 31), brute_force(&truth, q, 31));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn equals_brute_force(seed in any::<u64>(), n in 1usize..300, radius in 0u32..70,
                              removes in 0usize..50) {
            let mut s = seed;
            let centers: Vec<Hash256> = (0..4).map(|_| rand_hash(&mut s)).collect();
            let mut items = Vec::new();
            for i in 0..n {
                let c = centers[i % 4];
                let nflip = (rand_hash(&mut s).0[0] % 48) as usize;
                let bits: Vec<usize> = (0..nflip).map(|_| (rand_hash(&mut s).0[1] % 256) as usize).collect();
                items.push((i as u64 * 3, flip(c, &bits)));
            }
            let mut idx = if seed.is_multiple_of(2) {
                HammingIndex::from_pairs(items.clone())
            } else {
                let mut idx = HammingIndex::new();
                for (id, h) in &items { idx.insert(*id, *h); }
                idx
            };
            for k in 0..removes.min(n) {
                let id = items[k * 7 % n].0;
                idx.remove(id);
            }
            items.retain(|(id, _)| idx.get(*id).is_some());
            for q in centers.iter().chain(items.iter().take(3).map(|(_, h)| h)) {
                let truth = brute_force(&items, q, radius);
                let mut unordered = Vec::new();
                idx.search_unordered_into(q, radius, &mut unordered);
                unordered.sort_unstable();
                prop_assert_eq!(&unordered, &truth);
                // Capped: exact when allowed every candidate, refuses when allowed none.
                prop_assert!(idx.search_unordered_capped(q, radius, usize::MAX, &mut unordered));
                unordered.sort_unstable();
                prop_assert_eq!(&unordered, &truth);
                if !idx.is_empty() && (!truth.is_empty() || radius >= 48) {
                    prop_assert!(!idx.search_unordered_capped(q, radius, 0, &mut unordered));
                    prop_assert!(unordered.is_empty());
                }
                prop_assert_eq!(idx.search(q, radius), truth);
            }
        }
    }
}
