//! A vocabulary tree over 256-bit binary codes, for approximate radius search whose cost
//! does not grow with the number of stored codes: the search behind finding a registered
//! logo among thousands inside a listing photo.
//!
//! # What it is
//!
//! The stored codes are clustered hierarchically (the vocabulary trees of Nistér & Stewénius,
//! CVPR 2006, with binary centres as in DBoW2 and FBoW): each inner node has up to `branching`
//! centres, and every code goes to the child of its nearest centre (Hamming distance) until a
//! node holds at most `leaf_size` codes. A leaf is a visual *word*; its list of code slots is
//! the word's inverted file. Centres are chosen by k-means++ seeding on a sample of the node's
//! codes (Arthur & Vassilvitskii 2007) and refined once by k-majority voting (each centre bit
//! set where most of its members have it: Grana et al. 2013); the random choices come from a
//! fixed seed, so the same codes in the same order give the same tree.
//!
//! # How a search works, and what it costs
//!
//! A query descends to its nearest word and reads that word's inverted file; the siblings it
//! passed on the way wait in a priority queue ordered by their centre's distance to the query,
//! and are read next, best first, until `checks` stored codes have been compared (the
//! best-bin-first search of hierarchical clustering trees for binary features, Muja & Lowe,
//! CRV 2012). Every code read is verified with a full 256-bit popcount, so nothing farther
//! than the radius is ever returned; a code within the radius can be missed when it sits in a
//! word the search did not reach (the search is approximate, by design).
//!
//! Cost per query: about `depth × branching` centre distances, plus `checks` verifications,
//! plus the queue: `depth` grows with the logarithm of the number of codes and `checks` is the
//! caller's fixed budget, so a bank ten times larger costs one more level, not ten times more.
//! With `checks = usize::MAX` every word is read and the search is exact (property-tested
//! against brute force).
//!
//! # Changes
//!
//! Inserts descend to their word and append to its inverted file; a word that grows past
//! `2 × leaf_size` is split into a new level. Removals are tombstones, skipped by searches and
//! dropped when more than half of the slots are dead (the tree is then rebuilt). So a new logo
//! is searchable from the next query on. An inserted code is stored at the end, away from
//! its word's other codes; [`VocabTree::lay_out`] (and, on its own, a run of inserts larger
//! than the codes already in place) stores the codes word by word again without changing the
//! tree, so searches find exactly what they found before, from fewer cache lines.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::bits::Hash256;
use crate::index::Neighbor;

/// Hashes the tree's ids with SplitMix64's finaliser (Steele, Lea and Flood, "Fast
/// splittable pseudorandom number generators", OOPSLA 2014). The id map holds millions of
/// entries and is rebuilt when codes are laid out; with the standard library's SipHash, made
/// to resist keys chosen by an attacker, its lookups were a sixth of a registry's start-up.
/// The ids are the caller's own numbers (a logo's slot and keypoint), not user input.
#[derive(Debug, Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = self.0.rotate_left(32) ^ x;
    }
}

type IdMap = HashMap<u64, u32, std::hash::BuildHasherDefault<IdHasher>>;

#[inline(always)]
fn dist(a: &[u64; 4], b: &[u64; 4]) -> u32 {
    (a[0] ^ b[0]).count_ones()
        + (a[1] ^ b[1]).count_ones()
        + (a[2] ^ b[2]).count_ones()
        + (a[3] ^ b[3]).count_ones()
}

/// Shape of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VocabParams {
    /// Children per inner node (at least 2).
    pub branching: usize,
    /// A node with at most this many codes is a word (a leaf).
    pub leaf_size: usize,
    /// Seed of the centre choices.
    pub seed: u64,
}

impl Default for VocabParams {
    fn default() -> Self {
        VocabParams {
            branching: 16,
            leaf_size: 64,
            seed: 0x5EED_70CA_B000_0001,
        }
    }
}

/// Marks a [`Node`] as inner (in `extra`).
const INNER: u32 = u32::MAX;
/// A word with no slots beyond its run (in `extra`).
const NO_EXTRA: u32 = u32::MAX - 1;

/// One node of the tree, in one flat array (no pointer to chase on the way down).
///
/// * Inner: its children are the `len` consecutive nodes from `first`, and their centres the
///   same run of [`VocabTree::centers`], so the centres a search compares at a node are 32
///   contiguous bytes each.
/// * Word (leaf): its codes are `hashes[first..first + len]` (the run a rebuild lays out),
///   plus the slots in `extras[extra]` (codes inserted since, or a word made by a split).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Node {
    first: u32,
    len: u32,
    extra: u32,
}

impl Node {
    const EMPTY_WORD: Node = Node {
        first: 0,
        len: 0,
        extra: NO_EXTRA,
    };

    fn is_inner(&self) -> bool {
        self.extra == INNER
    }
}

/// Approximate Hamming-radius search over 256-bit codes with a vocabulary tree (see the
/// module docs). `Send + Sync`.
#[derive(Debug, Clone)]
pub struct VocabTree {
    params: VocabParams,
    nodes: Vec<Node>,
    /// `centers[i]` is the centre that leads to node `i` (the root's is unused).
    centers: Vec<[u64; 4]>,
    /// Slot lists of words beyond their run (see [`Node`]).
    extras: Vec<Vec<u32>>,
    hashes: Vec<[u64; 4]>,
    ids: Vec<u64>,
    live: Vec<bool>,
    by_id: IdMap,
    dead: usize,
    /// Codes inserted since the codes were last laid out word by word.
    scattered: usize,
    rng: u64,
}

/// SplitMix64: the tree's deterministic random choices.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Largest sample the centres of one node are chosen from.
const SEED_SAMPLE: usize = 2048;

/// Inserts below this many since the last lay-out never trigger one on their own.
const LAY_OUT_AFTER: usize = 65_536;

thread_local! {
    /// The search's priority queue, kept between searches on a thread (a photo makes
    /// thousands of searches; each would otherwise allocate and grow its own).
    static QUEUE: std::cell::RefCell<Vec<Reverse<u64>>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl VocabTree {
    /// An empty tree.
    pub fn new(params: VocabParams) -> VocabTree {
        let params = VocabParams {
            branching: params.branching.max(2),
            leaf_size: params.leaf_size.max(1),
            seed: params.seed,
        };
        VocabTree {
            params,
            nodes: vec![Node::EMPTY_WORD],
            centers: vec![[0; 4]],
            extras: Vec::new(),
            hashes: Vec::new(),
            ids: Vec::new(),
            live: Vec::new(),
            by_id: IdMap::default(),
            dead: 0,
            scattered: 0,
            rng: params.seed,
        }
    }

    /// Builds a tree from `(id, code)` pairs in one go (a repeated id keeps the last code).
    pub fn from_pairs<I: IntoIterator<Item = (u64, Hash256)>>(
        params: VocabParams,
        items: I,
    ) -> VocabTree {
        let mut t = VocabTree::new(params);
        for (id, h) in items {
            match t.by_id.get(&id) {
                Some(&slot) => t.hashes[slot as usize] = h.0,
                None => {
                    t.by_id.insert(id, t.hashes.len() as u32);
                    t.hashes.push(h.0);
                    t.ids.push(id);
                    t.live.push(true);
                }
            }
        }
        t.rebuild();
        t
    }

    /// The tree's shape parameters.
    pub fn params(&self) -> VocabParams {
        self.params
    }

    /// Number of codes.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the tree holds no code.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Number of words (leaves).
    pub fn words(&self) -> usize {
        self.nodes.iter().filter(|n| !n.is_inner()).count()
    }

    /// Levels from the root to the deepest word (1 for a single word).
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(0u32, 1usize)];
        while let Some((at, level)) = stack.pop() {
            let n = self.nodes[at as usize];
            if n.is_inner() {
                stack.extend((n.first..n.first + n.len).map(|c| (c, level + 1)));
            } else {
                deepest = deepest.max(level);
            }
        }
        deepest
    }

    /// The code stored under `id`.
    pub fn get(&self, id: u64) -> Option<Hash256> {
        self.by_id
            .get(&id)
            .map(|&s| Hash256(self.hashes[s as usize]))
    }

    /// Approximate heap bytes in use.
    pub fn memory_bytes(&self) -> usize {
        let mut total = self.hashes.capacity() * 32 + self.ids.capacity() * 8;
        total += self.live.capacity();
        total += self.by_id.capacity() * (std::mem::size_of::<(u64, u32)>() + 1);
        total += self.nodes.capacity() * std::mem::size_of::<Node>();
        total += self.centers.capacity() * 32;
        total += self.extras.capacity() * std::mem::size_of::<Vec<u32>>();
        total += self.extras.iter().map(|e| e.capacity() * 4).sum::<usize>();
        total
    }

    /// The word `code` descends to.
    #[inline(always)]
    fn word_of(&self, code: &[u64; 4]) -> u32 {
        let mut at = 0u32;
        loop {
            let n = self.nodes[at as usize];
            if !n.is_inner() {
                return at;
            }
            let (first, len) = (n.first as usize, n.len as usize);
            at = (first + nearest(&self.centers[first..first + len], code)) as u32;
        }
    }

    /// The slots of word `at`: its run, then its extra slots.
    fn word_slots(&self, at: u32) -> Vec<u32> {
        let n = self.nodes[at as usize];
        let mut slots: Vec<u32> = (n.first..n.first + n.len).collect();
        if let Some(extra) = self.extras.get(n.extra as usize) {
            slots.extend_from_slice(extra);
        }
        slots
    }

    /// Makes node `at` a word over exactly `slots` (kept as its extra list).
    fn set_word(&mut self, at: u32, slots: Vec<u32>) {
        let n = &mut self.nodes[at as usize];
        let extra = match self.extras.get_mut(n.extra as usize) {
            Some(e) => {
                *e = slots;
                n.extra
            }
            None => {
                self.extras.push(slots);
                (self.extras.len() - 1) as u32
            }
        };
        *n = Node {
            first: 0,
            len: 0,
            extra,
        };
    }

    /// Inserts (or replaces) the code for `id`. Searchable from the next search on.
    pub fn insert(&mut self, id: u64, code: Hash256) -> Option<Hash256> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU supports POPCNT (checked just above).
            return unsafe { self.insert_popcnt(id, code) };
        }
        self.insert_generic(id, code)
    }

    /// [`VocabTree::insert`] compiled with POPCNT: descending to the code's word compares it
    /// with 16 centres per level, which was most of a registry's start-up with the baseline
    /// target's software bit count.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    fn insert_popcnt(&mut self, id: u64, code: Hash256) -> Option<Hash256> {
        self.insert_generic(id, code)
    }

    #[inline(always)]
    fn insert_generic(&mut self, id: u64, code: Hash256) -> Option<Hash256> {
        let prev = self.remove(id);
        let slot = self.hashes.len() as u32;
        self.hashes.push(code.0);
        self.ids.push(id);
        self.live.push(true);
        self.by_id.insert(id, slot);
        let at = self.word_of(&code.0);
        let n = self.nodes[at as usize];
        let size = match self.extras.get_mut(n.extra as usize) {
            Some(e) => {
                e.push(slot);
                n.len as usize + e.len()
            }
            None => {
                self.extras.push(vec![slot]);
                self.nodes[at as usize].extra = (self.extras.len() - 1) as u32;
                n.len as usize + 1
            }
        };
        if size > 2 * self.params.leaf_size {
            let slots: Vec<u32> = self
                .word_slots(at)
                .into_iter()
                .filter(|&s| self.live[s as usize])
                .collect();
            self.build_node(at, slots);
        }
        self.scattered += 1;
        // Inserted codes sit wherever they were appended, one cache miss each when a search
        // reads them. Once they outnumber the codes laid out (and are many), lay everything
        // out again: each code is copied a bounded number of times over a run of inserts.
        if self.scattered > LAY_OUT_AFTER && self.scattered > self.hashes.len() / 2 {
            self.lay_out_by_word();
        }
        prev
    }

    /// Codes inserted since the codes were last laid out word by word.
    pub fn scattered(&self) -> usize {
        self.scattered
    }

    /// Lays the codes out word by word again, after inserts (see the module docs), and drops
    /// removed codes. The tree stays the same, and so does every search's result, except that
    /// removed codes no longer use up a search's budget; searches read each word from one
    /// run of memory. A registry that loads many logos one by one calls it once at the end.
    pub fn lay_out(&mut self) {
        if self.scattered > 0 || self.dead > 0 {
            self.lay_out_by_word();
        }
    }

    /// Removes `id`; returns its code if it was present. Takes effect at the next search.
    pub fn remove(&mut self, id: u64) -> Option<Hash256> {
        let slot = self.by_id.remove(&id)?;
        self.live[slot as usize] = false;
        self.dead += 1;
        let code = Hash256(self.hashes[slot as usize]);
        if self.dead > 1024 && self.dead * 2 > self.hashes.len() {
            self.compact();
        }
        Some(code)
    }

    /// Drops removed codes and rebuilds the tree over the rest (the
    /// rebuild lays the live codes out again, word by word).
    pub fn compact(&mut self) {
        self.rebuild();
    }

    fn rebuild(&mut self) {
        self.rng = self.params.seed;
        self.nodes = vec![Node::EMPTY_WORD];
        self.centers = vec![[0; 4]];
        self.extras.clear();
        let slots: Vec<u32> = (0..self.hashes.len() as u32)
            .filter(|&s| self.live[s as usize])
            .collect();
        self.build_node(0, slots);
        self.lay_out_by_word();
    }

    /// Stores the codes word by word, so a search reads each word's codes
    /// from one run of memory instead of one cache miss per code (a bank of
    /// millions of codes is far larger than the caches). Removed codes are
    /// dropped on the way. Codes inserted later go at the end, until the
    /// next rebuild.
    fn lay_out_by_word(&mut self) {
        let live = self.by_id.len();
        let mut hashes = Vec::with_capacity(live);
        let mut ids = Vec::with_capacity(live);
        for at in 0..self.nodes.len() as u32 {
            if self.nodes[at as usize].is_inner() {
                continue;
            }
            let first = hashes.len() as u32;
            for old in self.word_slots(at) {
                let old = old as usize;
                if self.live[old] {
                    hashes.push(self.hashes[old]);
                    ids.push(self.ids[old]);
                }
            }
            self.nodes[at as usize] = Node {
                first,
                len: hashes.len() as u32 - first,
                extra: NO_EXTRA,
            };
        }
        self.extras.clear();
        // `by_id` holds exactly the live ids: point each at its new slot in place (a new map
        // of millions of entries costs as much again in fresh pages).
        for (s, id) in ids.iter().enumerate() {
            if let Some(v) = self.by_id.get_mut(id) {
                *v = s as u32;
            }
        }
        self.live = vec![true; hashes.len()];
        self.hashes = hashes;
        self.ids = ids;
        self.dead = 0;
        self.scattered = 0;
    }

    /// Turns node `at` into the subtree over `slots`. Assigning every code to its nearest
    /// centre at every level is most of a build's time, so it runs with the CPU's POPCNT
    /// instruction where there is one (the baseline x86-64 target counts bits in software).
    fn build_node(&mut self, at: u32, slots: Vec<u32>) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU supports POPCNT (checked just above).
            unsafe { self.build_node_popcnt(at, slots) };
            return;
        }
        self.build_node_generic(at, slots)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    fn build_node_popcnt(&mut self, at: u32, slots: Vec<u32>) {
        self.build_node_generic(at, slots)
    }

    #[inline(always)]
    fn build_node_generic(&mut self, at: u32, slots: Vec<u32>) {
        let mut stack = vec![(at, slots)];
        while let Some((node, slots)) = stack.pop() {
            if slots.len() <= self.params.leaf_size {
                self.set_word(node, slots);
                continue;
            }
            let centers = self.choose_centers(&slots);
            let mut groups: Vec<Vec<u32>> = vec![Vec::new(); centers.len()];
            for &s in &slots {
                groups[nearest(&centers, &self.hashes[s as usize])].push(s);
            }
            // Codes that all coincide cannot be split: keep them as one (large) word.
            if groups.iter().filter(|g| !g.is_empty()).count() < 2 {
                self.set_word(node, slots);
                continue;
            }
            // A word that becomes inner gives up its extra list.
            if let Some(e) = self
                .extras
                .get_mut(self.nodes[node as usize].extra as usize)
            {
                *e = Vec::new();
            }
            let first = self.nodes.len() as u32;
            let mut len = 0;
            for (c, g) in centers.into_iter().zip(groups) {
                if g.is_empty() {
                    continue;
                }
                let child = self.nodes.len() as u32;
                self.nodes.push(Node::EMPTY_WORD);
                self.centers.push(c);
                stack.push((child, g));
                len += 1;
            }
            self.nodes[node as usize] = Node {
                first,
                len,
                extra: INNER,
            };
        }
    }

    /// k-means++ seeding on a sample of `slots`, then one k-majority refinement. Inlined into
    /// [`VocabTree::build_node`]'s POPCNT variant, so its distances use the instruction too.
    #[inline(always)]
    fn choose_centers(&mut self, slots: &[u32]) -> Vec<[u64; 4]> {
        let k = self.params.branching;
        let sample: Vec<[u64; 4]> = if slots.len() <= SEED_SAMPLE {
            slots.iter().map(|&s| self.hashes[s as usize]).collect()
        } else {
            (0..SEED_SAMPLE)
                .map(|_| {
                    let i = (next_random(&mut self.rng) % slots.len() as u64) as usize;
                    self.hashes[slots[i] as usize]
                })
                .collect()
        };
        let first = (next_random(&mut self.rng) % sample.len() as u64) as usize;
        let mut centers = vec![sample[first]];
        let mut d2: Vec<u64> = sample
            .iter()
            .map(|h| u64::from(dist(h, &centers[0])).pow(2))
            .collect();
        while centers.len() < k {
            let total: u64 = d2.iter().sum();
            if total == 0 {
                break;
            }
            let mut pick = next_random(&mut self.rng) % total;
            let mut chosen = sample.len() - 1;
            for (i, &w) in d2.iter().enumerate() {
                if pick < w {
                    chosen = i;
                    break;
                }
                pick -= w;
            }
            let c = sample[chosen];
            centers.push(c);
            for (w, h) in d2.iter_mut().zip(&sample) {
                *w = (*w).min(u64::from(dist(h, &c)).pow(2));
            }
        }
        // One k-majority step on the sample: each centre becomes the bitwise majority of the
        // sample codes nearest to it.
        let mut counts = vec![[0u32; 256]; centers.len()];
        let mut sizes = vec![0u32; centers.len()];
        for h in &sample {
            let c = nearest(&centers, h);
            sizes[c] += 1;
            for (w, word) in h.iter().enumerate() {
                let mut bits = *word;
                while bits != 0 {
                    let b = bits.trailing_zeros() as usize;
                    counts[c][w * 64 + b] += 1;
                    bits &= bits - 1;
                }
            }
        }
        for ((c, cnt), &n) in centers.iter_mut().zip(&counts).zip(&sizes) {
            if n == 0 {
                continue;
            }
            let mut m = [0u64; 4];
            for (b, &v) in cnt.iter().enumerate() {
                if 2 * v > n {
                    m[b / 64] |= 1 << (b % 64);
                }
            }
            *c = m;
        }
        centers
    }

    /// Codes within `radius` of `query` among those in the words the search reads before it
    /// has compared `checks` codes (always at least the query's own word). Unordered, each
    /// code once. `checks = usize::MAX` reads every word: exact.
    pub fn search_into(
        &self,
        query: &Hash256,
        radius: u32,
        checks: usize,
        out: &mut Vec<Neighbor>,
    ) -> SearchStats {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("popcnt") {
            // SAFETY: the CPU supports POPCNT (checked just above).
            return unsafe { self.search_popcnt(query, radius, checks, out) };
        }
        self.search_generic(query, radius, checks, out)
    }

    /// [`VocabTree::search_into`] compiled with POPCNT: the centre and code distances are
    /// most of a search.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "popcnt")]
    fn search_popcnt(
        &self,
        query: &Hash256,
        radius: u32,
        checks: usize,
        out: &mut Vec<Neighbor>,
    ) -> SearchStats {
        self.search_generic(query, radius, checks, out)
    }

    #[inline(always)]
    fn search_generic(
        &self,
        query: &Hash256,
        radius: u32,
        checks: usize,
        out: &mut Vec<Neighbor>,
    ) -> SearchStats {
        out.clear();
        let mut stats = SearchStats::default();
        if self.is_empty() {
            return stats;
        }
        let q = &query.0;
        let mut queue = QUEUE.with(|c| std::mem::take(&mut *c.borrow_mut()));
        queue.clear();
        // Entries are (centre distance << 32 | node): the same order as the pair, in one
        // comparison.
        let mut heap = BinaryHeap::from(queue);
        heap.push(Reverse(0u64));
        while let Some(Reverse(top)) = heap.pop() {
            if stats.compared >= checks {
                break;
            }
            let mut at = top as u32 as usize;
            loop {
                let n = self.nodes[at];
                if n.is_inner() {
                    let (first, len) = (n.first as usize, n.len as usize);
                    let centers = &self.centers[first..first + len];
                    let mut best = (u32::MAX, 0usize);
                    let mut ds = [0u32; 64];
                    for (i, c) in centers.iter().enumerate() {
                        let d = dist(c, q);
                        if i < 64 {
                            ds[i] = d;
                        }
                        if d < best.0 {
                            best = (d, i);
                        }
                    }
                    stats.centers += len;
                    for (i, c) in centers.iter().enumerate() {
                        if i != best.1 {
                            let d = if i < 64 { ds[i] } else { dist(c, q) };
                            heap.push(Reverse((u64::from(d) << 32) | (first + i) as u64));
                        }
                    }
                    at = first + best.1;
                } else {
                    stats.words += 1;
                    let run = n.first as usize..(n.first + n.len) as usize;
                    for (s, h) in run.clone().zip(&self.hashes[run]) {
                        self.visit(s, dist(h, q), radius, out);
                    }
                    stats.compared += n.len as usize;
                    if let Some(extra) = self.extras.get(n.extra as usize) {
                        for &s in extra {
                            let s = s as usize;
                            self.visit(s, dist(&self.hashes[s], q), radius, out);
                        }
                        stats.compared += extra.len();
                    }
                    break;
                }
            }
        }
        let queue = heap.into_vec();
        QUEUE.with(|c| *c.borrow_mut() = queue);
        stats
    }

    #[inline(always)]
    fn visit(&self, slot: usize, d: u32, radius: u32, out: &mut Vec<Neighbor>) {
        if d <= radius && self.live[slot] {
            out.push(Neighbor {
                distance: d,
                id: self.ids[slot],
            });
        }
    }

    /// Like [`VocabTree::search_into`], sorted by distance then id.
    pub fn search(&self, query: &Hash256, radius: u32, checks: usize) -> Vec<Neighbor> {
        let mut out = Vec::new();
        self.search_into(query, radius, checks, &mut out);
        out.sort_unstable();
        out
    }

    /// All `(id, code)` pairs.
    pub fn iter(&self) -> impl Iterator<Item = (u64, Hash256)> + '_ {
        self.hashes
            .iter()
            .zip(&self.ids)
            .zip(&self.live)
            .filter(|(_, live)| **live)
            .map(|((h, id), _)| (*id, Hash256(*h)))
    }
}

/// What one search did (for benchmarks and tuning).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Centres compared on the way down.
    pub centers: usize,
    /// Words read.
    pub words: usize,
    /// Stored codes compared.
    pub compared: usize,
}

#[inline(always)]
fn nearest(centers: &[[u64; 4]], q: &[u64; 4]) -> usize {
    let mut best = (u32::MAX, 0usize);
    for (i, c) in centers.iter().enumerate() {
        let d = dist(c, q);
        if d < best.0 {
            best = (d, i);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::brute_force;
    use proptest::prelude::*;

    fn rand_hash(seed: &mut u64) -> Hash256 {
        Hash256([
            next_random(seed),
            next_random(seed),
            next_random(seed),
            next_random(seed),
        ])
    }

    fn flip(h: Hash256, seed: &mut u64, n: usize) -> Hash256 {
        let mut w = h.0;
        for _ in 0..n {
            let b = (next_random(seed) % 256) as usize;
            w[b / 64] ^= 1 << (b % 64);
        }
        Hash256(w)
    }

    fn clustered(seed: u64, n: usize) -> Vec<(u64, Hash256)> {
        let mut s = seed;
        let centres: Vec<Hash256> = (0..20).map(|_| rand_hash(&mut s)).collect();
        (0..n)
            .map(|i| {
                let c = centres[i % centres.len()];
                let k = (next_random(&mut s) % 40) as usize;
                (i as u64 * 5 + 1, flip(c, &mut s, k))
            })
            .collect()
    }

    #[test]
    fn near_duplicates_are_found_with_a_small_budget() {
        let items = clustered(3, 20_000);
        let tree = VocabTree::from_pairs(VocabParams::default(), items.iter().copied());
        assert_eq!(tree.len(), 20_000);
        assert!(tree.depth() >= 2, "{}", tree.depth());
        let mut s = 77;
        let mut found = 0;
        for (id, h) in items.iter().step_by(97) {
            let q = flip(*h, &mut s, 6);
            let r = tree.search(&q, 16, 256);
            found += usize::from(r.iter().any(|n| n.id == *id));
        }
        let total = items.iter().step_by(97).count();
        assert!(found * 100 >= total * 85, "{found} of {total}");
    }

    /// A tree grown by inserts alone (words split as they fill).
    fn inserted_one_by_one(items: &[(u64, Hash256)], leaf_size: usize) -> VocabTree {
        let mut tree = VocabTree::new(VocabParams {
            leaf_size,
            ..VocabParams::default()
        });
        for (id, h) in items {
            tree.insert(*id, *h);
        }
        tree
    }

    #[test]
    fn inserts_split_words_and_removals_hide_codes() {
        let items = clustered(9, 3_000);
        let mut tree = inserted_one_by_one(&items, 16);
        assert_eq!(tree.len(), items.len());
        assert!(tree.words() > 10);
        for (id, h) in items.iter().take(50) {
            assert!(tree.search(h, 0, usize::MAX).iter().any(|n| n.id == *id));
        }
        for (id, _) in items.iter().take(2_000) {
            assert!(tree.remove(*id).is_some());
        }
        assert_eq!(tree.len(), 1_000);
        for (id, h) in items.iter().take(20) {
            assert!(!tree.search(h, 64, usize::MAX).iter().any(|n| n.id == *id));
        }
        for (id, h) in items.iter().skip(2_000).take(20) {
            assert!(tree.search(h, 0, usize::MAX).iter().any(|n| n.id == *id));
            assert_eq!(tree.get(*id), Some(*h));
        }
    }

    #[test]
    fn laying_out_changes_no_search_result() {
        let items = clustered(21, 6_000);
        let mut tree = inserted_one_by_one(&items, 24);
        assert!(tree.scattered > 0);
        let mut s = 5;
        let queries: Vec<Hash256> = (0..60)
            .map(|i| flip(items[i * 97 % items.len()].1, &mut s, 8))
            .collect();
        let before: Vec<Vec<Neighbor>> = queries
            .iter()
            .map(|q| {
                let mut out = Vec::new();
                tree.search_into(q, 40, 100, &mut out);
                out
            })
            .collect();
        let shape = (tree.nodes.len(), tree.words(), tree.depth());
        tree.lay_out();
        assert_eq!(tree.scattered, 0);
        assert_eq!(shape, (tree.nodes.len(), tree.words(), tree.depth()));
        for (q, b) in queries.iter().zip(&before) {
            let mut out = Vec::new();
            tree.search_into(q, 40, 100, &mut out);
            // Same codes in the same order: the budget reads the same words.
            assert_eq!(&out, b);
        }
        // Every word is one run now.
        assert!(
            tree.nodes
                .iter()
                .all(|n| n.is_inner() || n.extra == NO_EXTRA)
        );
        // Each id still leads to its own code after the lay-out moved it, and removed codes
        // are dropped by the next lay-out.
        for (id, h) in items.iter().step_by(5) {
            assert_eq!(tree.remove(*id), Some(*h));
        }
        tree.lay_out();
        assert_eq!(tree.hashes.len(), tree.len());
        assert_eq!(tree.len(), items.len() - items.len().div_ceil(5));
        for (id, h) in items.iter().skip(1).step_by(5) {
            assert_eq!(tree.remove(*id), Some(*h));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn unlimited_budget_equals_brute_force(seed in any::<u64>(), n in 0usize..600,
                                               radius in 0u32..80, leaf in 1usize..40,
                                               branching in 2usize..20, removes in 0usize..100) {
            let mut items = clustered(seed, n);
            let params = VocabParams { branching, leaf_size: leaf, seed };
            let mut tree = if seed.is_multiple_of(2) {
                VocabTree::from_pairs(params, items.iter().copied())
            } else {
                let mut t = VocabTree::new(params);
                for (id, h) in &items { t.insert(*id, *h); }
                t
            };
            for k in 0..removes.min(n) {
                tree.remove(items[k * 7 % n.max(1)].0);
            }
            // Codes inserted after a build (laid out word by word) go at the end.
            let extra: Vec<(u64, Hash256)> = clustered(seed ^ 0x55, n / 5)
                .into_iter()
                .map(|(id, h)| (id + 1_000_000, h))
                .collect();
            for (id, h) in &extra {
                tree.insert(*id, *h);
            }
            if seed % 3 == 0 {
                tree.lay_out();
            }
            items.extend(extra);
            items.retain(|(id, _)| tree.get(*id).is_some());
            let mut s = seed ^ 1;
            let queries: Vec<Hash256> = (0..4).map(|_| rand_hash(&mut s))
                .chain(items.iter().take(4).map(|(_, h)| *h)).collect();
            for q in &queries {
                prop_assert_eq!(tree.search(q, radius, usize::MAX), brute_force(&items, q, radius));
                // Any budget: never anything outside the radius, never a removed code.
                for n in tree.search(q, radius, 10) {
                    prop_assert!(n.distance <= radius);
                    prop_assert_eq!(tree.get(n.id).map(|h| h.distance(q)), Some(n.distance));
                }
            }
        }
    }
}
