use shopshield_pdq::*;
fn main() {
    let dir = std::env::args().nth(1).unwrap();
    let tsv = std::fs::read_to_string(format!("{dir}/expected.tsv")).unwrap();
    for formula in [LumaFormula::Float64, LumaFormula::Float32] {
        let mut h = Hasher::with_formula(formula);
        let (mut ok, mut dok, mut n) = (0, 0, 0);
        for line in tsv.lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            let img = image::open(format!("{dir}/{}", f[1])).unwrap().to_rgb8();
            let (w, hh) = img.dimensions();
            let r = h
                .hash(Pixels::Rgb8(img.as_raw()), w as usize, hh as usize)
                .unwrap();
            let d = h
                .hash_dihedral(Pixels::Rgb8(img.as_raw()), w as usize, hh as usize)
                .unwrap();
            let exp: Hash256 = f[4].parse().unwrap();
            let q: u8 = f[5].parse().unwrap();
            let dh: Vec<String> = d.hashes.iter().map(|x| x.to_hex()).collect();
            n += 1;
            if r.hash == exp && r.quality == q {
                ok += 1
            } else {
                println!(
                    "{formula:?} MISMATCH {} dist {} q {} vs {}",
                    f[0],
                    r.hash.distance(&exp),
                    r.quality,
                    q
                )
            }
            if dh.join(",") == f[6] {
                dok += 1
            } else {
                println!("{formula:?} DIH MISMATCH {}", f[0])
            }
        }
        println!("{formula:?}: {ok}/{n} exact, dihedral {dok}/{n}");
    }
}
