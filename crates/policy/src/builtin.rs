//! The packs shipped in `policy/packs/`, embedded so the binary works with
//! no files on disk. Adding a pack file means adding a line here; a test
//! checks that every file in the directory is listed.

macro_rules! packs {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../policy/packs/", $name)))),*]
    };
}

/// `(file name, text)` of every shipped pack.
pub const PACKS: &[(&str, &str)] = packs![
    "global.toml",
    "eu.toml",
    "de.toml",
    "fr.toml",
    "es.toml",
    "it.toml",
    "us.toml",
    "gb.toml",
    "mx.toml",
    "br.toml",
    "id.toml",
    "my.toml",
    "ph.toml",
    "th.toml",
    "vn.toml",
    "sg.toml",
    "jp.toml",
];
