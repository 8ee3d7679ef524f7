//! A symmetric deletion index (the SymSpell idea, Wolf Garbe 2012) for
//! finding every key within a small edit distance of a query without looking
//! at each key.
//!
//! Two strings within Levenshtein distance `d` share a string that both reach
//! by deleting at most `d` characters. The index stores, for each key of
//! budget `d`, a 64-bit hash of every deletion variant (up to `d`
//! deletions); a query generates its own deletion variants and looks them up.
//! The hashes are polynomial hashes computed in O(1) per variant from prefix
//! hashes, so a query allocates nothing per variant. Candidates are only
//! candidates: the caller verifies them with [`osa_distance`].
//!
//! A one-hash bitset in front of the table answers most misses from cache.

const B: u64 = 0x0000_0100_0000_01B3;

fn mix(mut x: u64) -> u64 {
    // splitmix64 finaliser
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Longest string the index considers, in characters.
pub const MAX_LEN: usize = 48;

struct Hasher {
    prefix: [u64; MAX_LEN + 1],
    pow: [u64; MAX_LEN + 1],
    n: usize,
}

impl Hasher {
    fn new(s: &[char]) -> Hasher {
        let n = s.len().min(MAX_LEN);
        let mut prefix = [0u64; MAX_LEN + 1];
        let mut pow = [1u64; MAX_LEN + 1];
        for i in 0..n {
            prefix[i + 1] = prefix[i].wrapping_mul(B).wrapping_add(s[i] as u64 + 1);
            pow[i + 1] = pow[i].wrapping_mul(B);
        }
        Hasher { prefix, pow, n }
    }

    fn range(&self, a: usize, b: usize) -> u64 {
        self.prefix[b].wrapping_sub(self.prefix[a].wrapping_mul(self.pow[b - a]))
    }

    fn key(h: u64, len: usize) -> u64 {
        mix(h.wrapping_add((len as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
    }

    /// Calls `f` with the hash of every variant of up to `max_del` deletions
    /// (variants may repeat).
    fn variants(&self, max_del: usize, mut f: impl FnMut(u64)) {
        let n = self.n;
        f(Self::key(self.range(0, n), n));
        if max_del == 0 || n == 0 {
            return;
        }
        for i in 0..n {
            let h = self
                .range(0, i)
                .wrapping_mul(self.pow[n - 1 - i])
                .wrapping_add(self.range(i + 1, n));
            f(Self::key(h, n - 1));
        }
        if max_del < 2 || n < 2 {
            return;
        }
        for i in 0..n {
            let left = self.range(0, i);
            for j in i + 1..n {
                let h = left
                    .wrapping_mul(self.pow[n - 2 - i])
                    .wrapping_add(self.range(i + 1, j).wrapping_mul(self.pow[n - 1 - j]))
                    .wrapping_add(self.range(j + 1, n));
                f(Self::key(h, n - 2));
            }
        }
    }
}

/// The index: key ids by deletion-variant hash.
#[derive(Debug, Clone, Default)]
pub struct DeletionIndex {
    /// (low 32 bits of the variant hash, key id), grouped by bucket (the
    /// top bits of the hash); a false match only costs a verification.
    slots: Vec<(u32, u32)>,
    dir: Vec<u32>,
    shift: u32,
    bloom: Vec<u64>,
    bloom_bits: u32,
}

impl DeletionIndex {
    /// Builds the index over `keys`: each key's characters and its budget.
    pub fn build(keys: &[(Vec<char>, usize)]) -> DeletionIndex {
        let total: usize = keys
            .iter()
            .filter(|(k, _)| !k.is_empty() && k.len() <= MAX_LEN)
            .map(|(k, d)| {
                let n = k.len();
                1 + if *d >= 1 { n } else { 0 } + if *d >= 2 { n * (n - 1) / 2 } else { 0 }
            })
            .sum();
        let mut entries: Vec<(u64, u32)> = Vec::with_capacity(total);
        for (id, (k, d)) in keys.iter().enumerate() {
            if k.is_empty() || k.len() > MAX_LEN {
                continue;
            }
            Hasher::new(k).variants(*d, |h| entries.push((h, id as u32)));
        }
        let n = entries.len().max(1);
        // About four entries per bucket: a small directory (cache-friendly
        // to build), one cache line to scan per probe.
        let bits = (usize::BITS - n.leading_zeros())
            .saturating_sub(2)
            .clamp(8, 22);
        let shift = 64 - bits;
        // Counting sort by bucket: O(n), and deterministic because entries
        // keep their generation order inside a bucket.
        let mut dir = vec![0u32; (1usize << bits) + 1];
        for (h, _) in &entries {
            dir[(h >> shift) as usize + 1] += 1;
        }
        for i in 1..dir.len() {
            dir[i] += dir[i - 1];
        }
        let mut next: Vec<u32> = dir[..dir.len() - 1].to_vec();
        let mut slots = vec![(0u32, 0u32); entries.len()];
        let bloom_bits = (bits + 5).clamp(12, 27);
        let mut bloom = vec![0u64; 1usize << (bloom_bits - 6)];
        for (h, id) in &entries {
            let b = (h >> shift) as usize;
            let at = next[b] as usize;
            next[b] += 1;
            slots[at] = (*h as u32, *id);
            let f = (h & ((1u64 << bloom_bits) - 1)) as usize;
            bloom[f >> 6] |= 1u64 << (f & 63);
        }
        DeletionIndex {
            slots,
            dir,
            shift,
            bloom,
            bloom_bits,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Pushes the ids of keys that may lie within `max_del` deletions (on the
    /// query side) of `query` onto `out` (unsorted, may repeat).
    pub fn candidates(&self, query: &[char], max_del: usize, out: &mut Vec<u32>) {
        if self.slots.is_empty() || query.is_empty() || query.len() > MAX_LEN {
            return;
        }
        let mask = (1u64 << self.bloom_bits) - 1;
        Hasher::new(query).variants(max_del, |h| {
            let b = (h & mask) as usize;
            if self.bloom[b >> 6] & (1u64 << (b & 63)) == 0 {
                return;
            }
            let bucket = (h >> self.shift) as usize;
            let (s, e) = (self.dir[bucket] as usize, self.dir[bucket + 1] as usize);
            let low = h as u32;
            for &(fp, id) in &self.slots[s..e] {
                if fp == low {
                    out.push(id);
                }
            }
        });
    }
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent
/// transpositions), or `None` if it exceeds `max`.
pub fn osa_distance(a: &[char], b: &[char], max: usize) -> Option<usize> {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > max {
        return None;
    }
    if n == 0 || m == 0 {
        return Some(n.max(m));
    }
    let w = m + 1;
    let mut prev2 = vec![0usize; w];
    let mut prev: Vec<usize> = (0..w).collect();
    let mut cur = vec![0usize; w];
    for i in 1..=n {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[m];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn osa() {
        assert_eq!(osa_distance(&c("gucci"), &c("gucci"), 1), Some(0));
        assert_eq!(osa_distance(&c("gucci"), &c("guci"), 1), Some(1));
        assert_eq!(osa_distance(&c("gucci"), &c("gucic"), 1), Some(1));
        assert_eq!(osa_distance(&c("adidas"), &c("adidsa"), 1), Some(1));
        assert_eq!(osa_distance(&c("adidas"), &c("abibas"), 1), None);
        assert_eq!(osa_distance(&c("adidas"), &c("abibas"), 2), Some(2));
        assert_eq!(osa_distance(&c(""), &c("ab"), 2), Some(2));
    }

    #[test]
    fn finds_all_neighbours() {
        let keys = vec![(c("gucci"), 1), (c("balenciaga"), 2), (c("nike"), 0)];
        let idx = DeletionIndex::build(&keys);
        let q = |s: &str, d| {
            let mut v = Vec::new();
            idx.candidates(&c(s), d, &mut v);
            v.sort();
            v.dedup();
            v
        };
        assert_eq!(q("guci", 1), vec![0]);
        assert_eq!(q("gucii", 1), vec![0]);
        assert_eq!(q("gicci", 1), vec![0]);
        assert_eq!(q("gucci", 1), vec![0]);
        assert_eq!(q("balenciaga", 1), vec![1]);
        assert_eq!(q("balensiaka", 2), vec![1]);
        assert_eq!(q("balencia", 1), vec![1]);
        assert!(q("nikr", 1).is_empty());
        assert_eq!(q("nike", 0), vec![2]);
    }
}
