//! Generated logo artwork for the search benchmarks and `examples/search_cost.rs`.

/// A 256x256 black-on-white artwork of random rectangles, triangles, discs and bars.
pub fn artwork(seed: u64) -> Vec<u8> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |n: u64| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s % n) as i64
    };
    let mut rgb = vec![255u8; 256 * 256 * 3];
    for _ in 0..5 + next(6) {
        let (x0, y0) = (32 + next(160), 32 + next(160));
        let (w, h) = (16 + next(64), 16 + next(64));
        let shape = next(4);
        for y in y0..(y0 + h).min(224) {
            for x in x0..(x0 + w).min(224) {
                let (dx, dy) = (x - x0, y - y0);
                let inside = match shape {
                    0 => true,
                    1 => dx * h <= dy * w,
                    2 => {
                        let (cx, cy) = (w / 2, h / 2);
                        (dx - cx) * (dx - cx) * h * h + (dy - cy) * (dy - cy) * w * w
                            <= (w * h / 2) * (w * h / 2)
                    }
                    _ => (dy / 6) % 2 == 0,
                };
                if inside {
                    let i = ((y * 256 + x) * 3) as usize;
                    rgb[i..i + 3].fill(0);
                }
            }
        }
    }
    rgb
}
