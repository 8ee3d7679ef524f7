//! Property tests: the line format round trip, symmetries of the match, and the indexed bank
//! against comparing the query with every registered video.

use proptest::prelude::*;
use shopshield_vpdq::{
    FrameHash, Hash256, MatchConfig, VideoBank, compare, format_hash_list, parse_hash_list,
};

fn hash() -> impl Strategy<Value = Hash256> {
    any::<[u64; 4]>().prop_map(Hash256)
}

/// `base` with `bits` bits flipped at positions drawn from `seed`.
fn near(base: Hash256, bits: u32, seed: u64) -> Hash256 {
    let mut h = base;
    let mut s = seed | 1;
    let mut flipped = 0;
    while flipped < bits {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let k = (s % 256) as usize;
        let mask = 1u64 << (k % 64);
        if (h.0[k / 64] ^ base.0[k / 64]) & mask == 0 {
            h.0[k / 64] ^= mask;
            flipped += 1;
        }
    }
    h
}

fn frame() -> impl Strategy<Value = FrameHash> {
    (any::<u32>(), 0u8..=100, hash(), 0u64..100_000_000).prop_map(|(n, q, h, ms)| FrameHash {
        frame_number: u64::from(n),
        quality: q,
        hash: h,
        timestamp: ms as f64 / 1000.0,
    })
}

/// A small "world" of scene hashes, and videos made of scenes from it with a few bits of
/// noise each (some within the distance threshold of each other, some not), repeats, and
/// qualities on both sides of the filter.
fn videos(count: usize) -> impl Strategy<Value = Vec<Vec<FrameHash>>> {
    (
        prop::collection::vec(hash(), 3..12),
        prop::collection::vec(
            prop::collection::vec((0usize..12, 0u32..45, any::<u64>(), 30u8..=100), 1..14),
            count,
        ),
    )
        .prop_map(|(world, specs)| {
            specs
                .into_iter()
                .map(|frames| {
                    frames
                        .into_iter()
                        .enumerate()
                        .map(|(i, (scene, noise, seed, q))| FrameHash {
                            frame_number: i as u64 * 25,
                            quality: q,
                            hash: near(world[scene % world.len()], noise, seed),
                            timestamp: i as f64,
                        })
                        .collect()
                })
                .collect()
        })
}

fn config() -> impl Strategy<Value = MatchConfig> {
    (
        prop_oneof![Just(50u8), 0u8..=100],
        prop_oneof![Just(31u32), 0u32..=64],
        prop_oneof![Just(0.0f64), Just(80.0), 0.0f64..=100.0],
        prop_oneof![Just(0.0f64), 0.0f64..=100.0],
    )
        .prop_map(|(q, d, pq, pc)| MatchConfig {
            quality_threshold: q,
            distance_threshold: d,
            query_match_percent: pq,
            compared_match_percent: pc,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn line_format_round_trips(frames in prop::collection::vec(frame(), 1..40)) {
        let text = format_hash_list(&frames);
        let parsed = parse_hash_list(&text).unwrap();
        prop_assert_eq!(&parsed, &frames);
        prop_assert_eq!(format_hash_list(&parsed), text);
    }

    #[test]
    fn formatting_any_timestamp_is_stable(frames in prop::collection::vec(
        (frame(), 0.0f64..1e6).prop_map(|(f, t)| FrameHash { timestamp: t, ..f }), 1..20)) {
        // Three decimals lose precision once; formatting what was parsed is then a fixed point.
        let once = format_hash_list(&frames);
        let parsed = parse_hash_list(&once).unwrap();
        prop_assert_eq!(format_hash_list(&parsed), once);
        for (a, b) in frames.iter().zip(&parsed) {
            prop_assert!((a.timestamp - b.timestamp).abs() <= 0.0005 + 1e-9);
            prop_assert_eq!((a.frame_number, a.quality, a.hash), (b.frame_number, b.quality, b.hash));
        }
    }

    #[test]
    fn swapping_sides_swaps_the_result(vs in videos(2), cfg in config()) {
        let ab = compare(&vs[0], &vs[1], &cfg).unwrap();
        let ba = compare(&vs[1], &vs[0], &cfg).unwrap();
        prop_assert_eq!(ab.query_match_percent, ba.compared_match_percent);
        prop_assert_eq!(ab.compared_match_percent, ba.query_match_percent);
        prop_assert_eq!(ab.query_matched_frames, ba.compared_matched_frames);
        prop_assert_eq!(ab.min_distance, ba.min_distance);
        prop_assert_eq!(&ab.query_ranges, &ba.compared_ranges);
        prop_assert_eq!(&ab.compared_ranges, &ba.query_ranges);
        // Either both sides have a matched frame or neither has.
        prop_assert_eq!(ab.query_matched_frames == 0, ab.compared_matched_frames == 0);
        prop_assert_eq!(ab.query_ranges.is_empty(), ab.query_matched_frames == 0);
    }

    #[test]
    fn a_video_matches_itself_fully(vs in videos(1), cfg in config()) {
        let m = compare(&vs[0], &vs[0], &cfg).unwrap();
        if m.query_unique_frames > 0 {
            prop_assert_eq!(m.query_match_percent, 100.0);
            prop_assert_eq!(m.compared_match_percent, 100.0);
            prop_assert_eq!(m.min_distance, Some(0));
            prop_assert!(m.is_match);
        } else {
            prop_assert!(!m.is_match);
        }
    }

    #[test]
    fn repeated_frames_do_not_change_the_shares(vs in videos(2), cfg in config()) {
        let doubled: Vec<FrameHash> = vs[0]
            .iter()
            .flat_map(|f| [*f, FrameHash { frame_number: f.frame_number + 1, ..*f }])
            .collect();
        let once = compare(&vs[0], &vs[1], &cfg).unwrap();
        let twice = compare(&doubled, &vs[1], &cfg).unwrap();
        prop_assert_eq!(once.query_match_percent, twice.query_match_percent);
        prop_assert_eq!(once.compared_match_percent, twice.compared_match_percent);
        prop_assert_eq!(once.is_match, twice.is_match);
    }

    #[test]
    fn ranges_cover_exactly_the_matched_frames(vs in videos(2), cfg in config()) {
        let m = compare(&vs[0], &vs[1], &cfg).unwrap();
        let mut prev_end: Option<u64> = None;
        for r in &m.query_ranges {
            prop_assert!(r.start_frame <= r.end_frame);
            prop_assert!(r.start_seconds <= r.end_seconds);
            prop_assert!(r.min_distance <= cfg.distance_threshold);
            if let Some(p) = prev_end { prop_assert!(p < r.start_frame); }
            prev_end = Some(r.end_frame);
        }
        for p in &m.pairs {
            prop_assert!(p.query_range < m.query_ranges.len());
            prop_assert!(p.compared_range < m.compared_ranges.len());
        }
    }

    #[test]
    fn index_search_equals_linear_scan(
        vs in videos(8),
        queries in videos(3),
        cfg in config(),
        removed in prop::collection::vec(0usize..8, 0..3),
    ) {
        let bank_cfg = MatchConfig { quality_threshold: cfg.quality_threshold, ..MatchConfig::default() };
        let mut bank: VideoBank<usize> = VideoBank::new(bank_cfg).unwrap();
        for (k, v) in vs.iter().enumerate() {
            let _ = bank.insert(k, v);
        }
        for k in &removed {
            bank.remove(k);
        }
        // The same bank built in one pass.
        let kept = vs.iter().enumerate().filter(|(k, _)| !removed.contains(k));
        let (built, _) = VideoBank::build(bank_cfg, kept.map(|(k, v)| (k, v.clone()))).unwrap();
        prop_assert_eq!(built.len(), bank.len());
        for q in queries.iter().chain(vs.iter().take(2)) {
            let indexed = bank.search_with(q, &cfg).unwrap();
            let linear = bank.search_linear(q, &cfg).unwrap();
            prop_assert_eq!(&indexed, &linear);
            prop_assert_eq!(&built.search_with(q, &cfg).unwrap(), &indexed);
            // And each agrees with a stand-alone comparison of the pair.
            for m in &indexed {
                let direct = compare(q, &vs[m.key], &cfg).unwrap();
                prop_assert_eq!(&m.result, &direct);
            }
        }
    }
}
