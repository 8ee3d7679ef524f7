//! Regular inflections of ordinary words ("Duplicarei", "Supplicati",
//! "Sparbuchs"): a token that is not an ordinary word by itself but reads as
//! an ordinary word of a supported Latin-script language plus one of that
//! language's regular inflectional endings.
//!
//! The lexicons (`data/lexicon/`) list lemmas and frequent forms; a word
//! drawn from a full dictionary is often a rare form of a common word
//! ("Autentiqueis", a subjunctive of "autenticar") that no frequency list
//! holds, or holds only below Zipf 2.0 ("Sparbuchs", 1.3). The matcher calls
//! [`ordinary_inflection`] only for a single token that produced an
//! edit-distance hit and is not an ordinary word by itself (in no lexicon,
//! or a rare word near a far more frequent mark), so the check is rare; it
//! allocates nothing.
//!
//! The rule, per language: strip one regular ending of the token, then look
//! up the stem itself and the stem plus each lemma ending of that language
//! (infinitive, or singular vowel for Italian nouns), optionally after the
//! regular spelling change at the end of the stem ("autentiqu-" → "autentic-
//! ar", "cerch-" → "cerc-are", "tidi-" → "tidy", "stopp-" → "stop"). If one
//! of them is an ordinary word (Zipf ≥ 2.0, see
//! [`crate::phrases::ORDINARY_ZIPF`]) in the lexicon **of that language**,
//! the token is an ordinary word too.
//!
//! Guards, so that counterfeit spellings keep being caught:
//!
//! * the stem must be at least [`MIN_STEM`] letters;
//! * if any stem (whatever its length), or any lemma found, is the mark or
//!   one edit from it ([`near_mark`]), the token is the mark inflected or
//!   misspelt and the rule does not apply: "Nikons" is "nikon" + `-s`,
//!   "Deonn" is the German word "deon" + `-n` but "deon" is one edit from
//!   "denon". (On the dev part, equality alone cleared two more honest
//!   listings but lost two more obfuscated marks.)
//! * a verb ending restores only an infinitive and a noun ending only a
//!   singular ("soho" + French `-u` is no analysis);
//! * only tokens of ASCII letters (after normalisation, which folds
//!   diacritics) are looked at.
//!
//! Endings are the regular inflections of standard reference grammars,
//! written without diacritics as tokens are:
//!
//! * English: plural and 3rd person `-s/-es`, `-ed`, `-ing`, comparative
//!   and superlative `-er/-est`, adverb `-ly`, with final-`e` restoration,
//!   `i` → `y` and undoubling (Quirk et al., *A Comprehensive Grammar of the
//!   English Language*, 1985, ch. 3 and 7; Porter, "An algorithm for suffix
//!   stripping", *Program* 14(3), 1980, steps 1a–1c).
//! * Spanish: the conjugations of the three regular models *amar*, *temer*,
//!   *partir* (present, imperfect, preterite, subjunctives, imperative,
//!   participle, gerund; future and conditional are the infinitive plus
//!   `-e/-as/-a/-emos/-eis/-an`, `-ia...`), noun plurals `-s/-es`, `z` → `c`
//!   before `e` (RAE, *Nueva gramática de la lengua española*, 2009, regular
//!   conjugation and its model tables).
//! * Portuguese: the models *amar*, *vender*, *partir* including the future
//!   subjunctive / personal infinitive and the pluperfect (Cunha & Cintra,
//!   *Nova Gramática do Português Contemporâneo*, the regular conjugations).
//! * French: the first (*aimer*), second (*finir*) and regular third
//!   (*rendre*) groups, participles, plurals `-s/-x` (Grevisse & Goosse,
//!   *Le Bon Usage*, the verb chapter; *Bescherelle, la conjugaison pour
//!   tous*, models *aimer*, *finir*, *rendre*).
//! * Italian: the models *amare*, *temere*, *dormire*/*finire* and noun
//!   and adjective plurals `-i/-e` (Serianni, *Grammatica italiana*, the chapters on
//!   the noun and the verb).
//! * German: the verb endings `-e/-st/-t/-en/-et/-te/-test/-ten/-tet`, the
//!   noun and adjective endings `-e/-en/-er/-es/-em/-n/-s/-ern/-ens` (Duden,
//!   *Die Grammatik*, declension and conjugation chapters).
//! * Indonesian and Malay: the suffixes `-kan/-an/-i`, the possessives
//!   `-ku/-mu/-nya` and the particles `-lah/-kah/-pun/-tah` (Sneddon,
//!   *Indonesian: A Comprehensive Grammar*, 1996); prefixes are not undone.

use crate::phrases::{ORDINARY_ZIPF, dictionary, lexicon_zipf_in};

/// Shortest stem (before a lemma ending is added) that is looked up.
pub const MIN_STEM: usize = 4;

/// Longest token looked at (bytes).
const MAX_WORD: usize = 40;

/// Endings of one part of speech and the lemma endings they replace.
struct Rule {
    /// Regular inflectional endings.
    endings: &'static [&'static str],
    /// Lemma endings added to the stem ("" is the stem itself): the
    /// infinitive for verb endings, the singular for noun plurals.
    lemmas: &'static [&'static str],
}

/// One language's regular inflections.
struct Language {
    /// Lexicon files (codes of [`crate::phrases::LEXICON_FILES`]) in which
    /// the lemma must be ordinary.
    lexicons: &'static [&'static str],
    rules: &'static [Rule],
    /// Regular spelling changes at the end of the stem: (written, lemma).
    respell: &'static [(&'static str, &'static str)],
}

const EN: Language = Language {
    lexicons: &["en"],
    rules: &[Rule {
        endings: &["s", "es", "ed", "ing", "ings", "er", "ers", "est", "ly"],
        lemmas: &["", "e"],
    }],
    respell: &[
        ("i", "y"),
        ("bb", "b"),
        ("dd", "d"),
        ("gg", "g"),
        ("ll", "l"),
        ("mm", "m"),
        ("nn", "n"),
        ("pp", "p"),
        ("rr", "r"),
        ("tt", "t"),
    ],
};

#[rustfmt::skip]
const ES: Language = Language {
    lexicons: &["es"],
    rules: &[
        Rule {
            endings: &[
                // Present, imperfect, preterite (amar, temer, partir).
                "o", "as", "a", "amos", "ais", "an", "es", "e", "emos", "eis", "en", "imos", "is",
                "aba", "abas", "abamos", "abais", "aban", "ia", "ias", "iamos", "iais", "ian",
                "aste", "asteis", "aron", "i", "iste", "io", "isteis", "ieron",
                // Imperfect subjunctive.
                "ara", "aras", "aramos", "arais", "aran", "ase", "ases", "asemos", "aseis",
                "asen", "iera", "ieras", "ieramos", "ierais", "ieran", "iese", "ieses", "iesemos",
                "ieseis", "iesen",
                // Future and conditional.
                "are", "aremos", "areis", "ere", "eras", "era", "eremos", "ereis", "eran", "ire",
                "iras", "ira", "iremos", "ireis", "iran", "aria", "arias", "ariamos", "ariais",
                "arian", "eria", "erias", "eriamos", "eriais", "erian", "iria", "irias",
                "iriamos", "iriais", "irian",
                // Participles, gerunds, imperative.
                "ado", "ada", "ados", "adas", "ido", "ida", "idos", "idas", "ando", "iendo", "ad",
                "ed", "id",
            ],
            lemmas: &["ar", "er", "ir"],
        },
        // Noun and adjective plurals.
        Rule {
            endings: &["s", "es"],
            lemmas: &[""],
        },
    ],
    respell: &[("qu", "c"), ("gu", "g"), ("c", "z")],
};

#[rustfmt::skip]
const PT: Language = Language {
    lexicons: &["pt"],
    rules: &[
        Rule {
            endings: &[
                // Present, imperfect, preterite (amar, vender, partir).
                "o", "as", "a", "amos", "ais", "am", "es", "e", "emos", "eis", "em", "imos", "is",
                "ava", "avas", "avamos", "aveis", "avam", "ia", "ias", "iamos", "ieis", "iam",
                "ei", "aste", "ou", "astes", "aram", "i", "este", "eu", "estes", "eram", "iste",
                "iu", "istes", "iram",
                // Subjunctives and personal infinitive.
                "asse", "asses", "assemos", "asseis", "assem", "esse", "esses", "essemos",
                "esseis", "essem", "isse", "isses", "issemos", "isseis", "issem", "ar", "ares",
                "armos", "ardes", "arem", "er", "eres", "ermos", "erdes", "erem", "ir", "ires",
                "irmos", "irdes", "irem",
                // Future, conditional, pluperfect.
                "arei", "aras", "ara", "aremos", "areis", "arao", "erei", "eras", "era", "eremos",
                "ereis", "erao", "irei", "iras", "ira", "iremos", "ireis", "irao", "aria",
                "arias", "ariamos", "arieis", "ariam", "eria", "erias", "eriamos", "erieis",
                "eriam", "iria", "irias", "iriamos", "irieis", "iriam", "aramos", "eramos",
                "iramos",
                // Participles, gerunds.
                "ado", "ada", "ados", "adas", "ido", "ida", "idos", "idas", "ando", "endo",
                "indo",
            ],
            lemmas: &["ar", "er", "ir"],
        },
        // Noun and adjective plurals.
        Rule {
            endings: &["s", "es"],
            lemmas: &[""],
        },
    ],
    respell: &[("qu", "c"), ("gu", "g")],
};

#[rustfmt::skip]
const FR: Language = Language {
    lexicons: &["fr"],
    rules: &[
        Rule {
            endings: &[
                // First group (aimer).
                "e", "es", "ent", "ons", "ez", "ais", "ait", "ions", "iez", "aient", "ai", "as",
                "a", "ames", "ates", "erent", "ee", "ees", "ant", "asse", "asses", "assions",
                "assiez", "assent", "at", "erai", "eras", "era", "erons", "erez", "eront",
                "erais", "erait", "erions", "eriez", "eraient",
                // Second group (finir).
                "is", "it", "issons", "issez", "issent", "issais", "issait", "issions", "issiez",
                "issaient", "imes", "ites", "irent", "isse", "isses", "i", "ie", "ies", "issant",
                "irai", "iras", "ira", "irons", "irez", "iront", "irais", "irait", "irions",
                "iriez", "iraient",
                // Regular third group (rendre).
                "s", "t", "u", "ue", "us", "ues", "rai", "ras", "ra", "rons", "rez", "ront",
                "rais", "rait", "rions", "riez", "raient",
            ],
            lemmas: &["er", "ir", "re"],
        },
        // Noun and adjective feminine and plurals.
        Rule {
            endings: &["s", "x", "e", "es"],
            lemmas: &[""],
        },
    ],
    respell: &[("ge", "g")],
};

#[rustfmt::skip]
const IT: Language = Language {
    lexicons: &["it"],
    rules: &[
        Rule {
            endings: &[
                // Present, imperfect, past (amare, temere, dormire, finire).
                "o", "i", "a", "iamo", "ate", "ete", "ite", "ano", "ono", "avo", "avi", "ava",
                "avamo", "avate", "avano", "evo", "evi", "eva", "evamo", "evate", "evano", "ivo",
                "ivi", "iva", "ivamo", "ivate", "ivano", "ai", "asti", "ammo", "aste", "arono",
                "ei", "esti", "e", "emmo", "este", "erono", "ii", "isti", "immo", "iste", "irono",
                "isco", "isci", "isce", "iscono", "isca", "iscano",
                // Future, conditional, subjunctives.
                "ero", "erai", "era", "eremo", "erete", "eranno", "iro", "irai", "ira", "iremo",
                "irete", "iranno", "erei", "eresti", "erebbe", "eremmo", "ereste", "erebbero",
                "irei", "iresti", "irebbe", "iremmo", "ireste", "irebbero", "iate", "ino", "assi",
                "asse", "assimo", "assero", "essi", "esse", "essimo", "essero", "issi", "isse",
                "issimo", "issero",
                // Participles, gerunds.
                "ato", "ata", "ati", "uto", "uta", "uti", "ute", "ito", "ita", "iti", "ando",
                "endo",
            ],
            lemmas: &["are", "ere", "ire"],
        },
        // Noun and adjective plurals: -o/-e → -i, -a → -e.
        Rule {
            endings: &["i"],
            lemmas: &["o", "e"],
        },
        Rule {
            endings: &["e"],
            lemmas: &["a"],
        },
    ],
    respell: &[("ch", "c"), ("gh", "g")],
};

const DE: Language = Language {
    lexicons: &["de"],
    rules: &[
        // Verbs (present, weak past).
        Rule {
            endings: &[
                "e", "st", "t", "en", "et", "est", "te", "test", "ten", "tet",
            ],
            lemmas: &["en", "n"],
        },
        // Noun and adjective endings.
        Rule {
            endings: &["e", "en", "er", "es", "em", "n", "s", "ern", "ens"],
            lemmas: &[""],
        },
    ],
    respell: &[],
};

const ID_MS: Language = Language {
    lexicons: &["id", "ms"],
    rules: &[Rule {
        endings: &[
            "kan", "an", "i", "ku", "mu", "nya", "lah", "kah", "pun", "tah",
        ],
        lemmas: &[""],
    }],
    respell: &[],
};

const LANGUAGES: &[Language] = &[EN, ES, PT, FR, IT, DE, ID_MS];

/// True if `candidate` (ASCII) is `mark` (a mark's normalised letters,
/// spaces removed) or one edit from it (optimal string alignment: one
/// insertion, deletion, substitution or adjacent transposition).
pub fn near_mark(candidate: &str, mark: &[char]) -> bool {
    let a = candidate.as_bytes();
    let (n, m) = (a.len(), mark.len());
    if n.abs_diff(m) > 1 {
        return false;
    }
    let eq = |i: usize, j: usize| char::from(a[i]) == mark[j];
    let p = (0..n.min(m)).take_while(|&i| eq(i, i)).count();
    if n == m {
        if p == n {
            return true;
        }
        let same_after = |k: usize| (k..n).all(|i| eq(i, i));
        same_after(p + 1) || (p + 1 < n && eq(p, p + 1) && eq(p + 1, p) && same_after(p + 2))
    } else if n == m + 1 {
        (p..m).all(|j| eq(j + 1, j))
    } else {
        (p..n).all(|i| eq(i, i + 1))
    }
}

fn ordinary_in(lang: &Language, word: &str) -> bool {
    lang.lexicons
        .iter()
        .any(|code| lexicon_zipf_in(code, word).is_some_and(|z| z >= ORDINARY_ZIPF))
        || (lang.lexicons.contains(&"en") && dictionary().contains(word))
}

/// True if `word` (a normalised token with no spaces, in no lexicon) is a
/// regular inflection of an ordinary word of a supported Latin-script
/// language, and no stem or lemma of it is the mark (`is_mark`, usually
/// [`near_mark`] against the mark the token was found near). See the module
/// documentation for the rule.
pub fn ordinary_inflection(word: &str, is_mark: impl Fn(&str) -> bool) -> bool {
    let w = word.as_bytes();
    if w.len() > MAX_WORD || !w.iter().all(u8::is_ascii_lowercase) {
        return false;
    }
    let mut buf = [0u8; MAX_WORD + 8];
    let mut found = false;
    for lang in LANGUAGES {
        for rule in lang.rules {
            for ending in rule.endings {
                // Most endings differ in the last letter: check it first.
                if ending.as_bytes().last() != w.last() {
                    continue;
                }
                let Some(stem) = word.strip_suffix(ending) else {
                    continue;
                };
                // The mark plus an ending ("nikon" + "s") is the mark.
                if is_mark(stem) {
                    return false;
                }
                if stem.len() < MIN_STEM {
                    continue;
                }
                let respelt = lang
                    .respell
                    .iter()
                    .filter_map(|(from, to)| stem.strip_suffix(from).map(|s| (s, *to)));
                for (base, tail) in std::iter::once((stem, "")).chain(respelt) {
                    for lemma in rule.lemmas {
                        let len = base.len() + tail.len() + lemma.len();
                        if len < MIN_STEM || len > buf.len() {
                            continue;
                        }
                        buf[..base.len()].copy_from_slice(base.as_bytes());
                        buf[base.len()..base.len() + tail.len()].copy_from_slice(tail.as_bytes());
                        buf[base.len() + tail.len()..len].copy_from_slice(lemma.as_bytes());
                        // ASCII throughout.
                        let Ok(cand) = std::str::from_utf8(&buf[..len]) else {
                            continue;
                        };
                        if ordinary_in(lang, cand) {
                            if is_mark(cand) {
                                return false;
                            }
                            found = true;
                        }
                    }
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn ordinary(word: &str, mark: &str) -> bool {
        let m = c(mark);
        ordinary_inflection(word, |s| near_mark(s, &m))
    }

    #[test]
    fn lookups_in_one_language() {
        assert_eq!(lexicon_zipf_in("de", "sparbuch"), Some(31));
        assert_eq!(lexicon_zipf_in("pt", "duplicar"), Some(30));
        assert_eq!(lexicon_zipf_in("en", "duplicar"), None);
        assert_eq!(lexicon_zipf_in("zz", "duplicar"), None);
        // The merged lexicon holds each word's highest frequency.
        let merged = crate::phrases::lexicon();
        for w in ["stella", "zimmer", "boom", "sepatu", "convertir", "numpty"] {
            let best = crate::phrases::LEXICON_FILES
                .iter()
                .filter_map(|(code, _)| lexicon_zipf_in(code, w))
                .max();
            assert_eq!(best, merged.zipf(w), "{w}");
        }
    }

    #[test]
    fn one_edit() {
        assert!(near_mark("nikon", &c("nikon")));
        assert!(near_mark("guci", &c("gucci")));
        assert!(near_mark("gucic", &c("gucci")));
        assert!(near_mark("gucsi", &c("gucci")));
        assert!(near_mark("adidsa", &c("adidas")));
        assert!(near_mark("adidass", &c("adidas")));
        assert!(!near_mark("abibas", &c("adidas")));
        assert!(!near_mark("gcuic", &c("gucci")));
        assert!(!near_mark("stel", &c("stellar")));
        assert!(!near_mark("", &c("ab")));
        assert!(near_mark("", &c("a")));
    }

    #[test]
    fn inflections_of_ordinary_words_in_their_own_language() {
        // Portuguese: subjunctive of "autenticar" (qu → c), future of
        // "duplicar", imperfect of "converter".
        assert!(ordinary("autentiqueis", "rolex"));
        assert!(ordinary("duplicarei", "rolex"));
        assert!(ordinary("convertais", "rolex"));
        // Italian past participle of "supplicare".
        assert!(ordinary("supplicati", "rolex"));
        // German plural and genitive.
        assert!(ordinary("trillers", "rolex"));
        assert!(ordinary("sparbuchs", "rolex"));
        // English: -ings with final e, undoubling.
        assert!(ordinary("swipings", "rolex"));
        assert!(ordinary("stopped", "rolex"));
        // No ending gives a word.
        assert!(!ordinary("stlelar", "rolex"));
        assert!(!ordinary("paprik", "rolex"));
        // The lemma must be a word of the ending's language: "sparbuch"
        // is German, "-ado" a Spanish and Portuguese ending.
        assert!(!ordinary("sparbuchado", "rolex"));
    }

    #[test]
    fn the_mark_plus_an_ending_is_the_mark() {
        assert!(!ordinary("nikons", "nikon"));
        assert!(!ordinary("adidass", "adidas"));
        assert!(!ordinary("guccis", "gucci"));
        // "guci" is an Indonesian word, but one edit from "gucci".
        assert!(!ordinary("gucis", "gucci"));
        // Not ASCII letters.
        assert!(!ordinary("trillers1", "trolley"));
    }
}
