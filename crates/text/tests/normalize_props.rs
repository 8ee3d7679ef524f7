//! Property tests for the normaliser: no panics, spans on character
//! boundaries of the original, monotone spans, idempotence.

use proptest::prelude::*;
use shopshield_text::normalize;

fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('A', 'Z'),
        2 => proptest::char::range('0', '9'),
        2 => prop::sample::select(vec![
            ' ', '.', '-', '_', ':', '/', ',', '@', '$', '!', '|', '\'', '\n', '*', '&'
        ]),
        1 => prop::sample::select(vec![
            '\u{200B}', '\u{200D}', '\u{FEFF}', '\u{00AD}', '\u{0301}', '\u{0308}', '\u{3099}',
            '\u{FF9F}', 'а', 'е', 'о', 'с', 'і', 'ѕ', 'Ν', 'ο', 'ï', 'é', 'ß', 'Æ', 'ﬁ', 'Ｎ',
            '𝐍', '™', 'ｶ', '高', '仿', 'コ', 'ー', 'ก', '่', 'ا', 'ل', '١', '½', 'ǅ', 'İ',
        ]),
        1 => any::<char>(),
    ]
}

fn tricky_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(tricky_char(), 0..40).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn spans_lie_on_char_boundaries(s in tricky_string()) {
        let z = normalize(&s);
        let t = z.text();
        prop_assert!(!t.starts_with(' ') && !t.ends_with(' ') && !t.contains("  "));
        let mut last_start = 0;
        for (i, c) in t.char_indices() {
            let r = z.original_span(i..i + c.len_utf8());
            prop_assert!(r.start <= r.end && r.end <= s.len());
            prop_assert!(s.is_char_boundary(r.start) && s.is_char_boundary(r.end));
            prop_assert!(r.start >= last_start, "spans go backwards");
            last_start = r.start;
        }
        // Arbitrary (even non-boundary) ranges are safe too.
        for a in 0..=t.len() + 1 {
            let r = z.original_span(a..a + 3);
            prop_assert!(s.is_char_boundary(r.start) && s.is_char_boundary(r.end));
            let _ = z.flags(a..a + 3);
        }
    }

    /// Idempotence holds for text without digits and leet symbols (with them,
    /// a second pass can see new letter context, e.g. `0@aab`, and a letter
    /// hyphenated to a word, `a a a-aa`, is no longer one after a pass); keyword lists
    /// are normalised from their raw form anyway.
    #[test]
    fn idempotent(s in tricky_string().prop_map(|s| s.replace(|c: char| c.is_ascii_digit() || "@$!|-".contains(c), " "))) {
        let once = normalize(&s);
        let twice = normalize(once.text());
        prop_assert_eq!(once.text(), twice.text());
    }

    #[test]
    fn ascii_words_keep_their_spans(w in "[a-z]{3,10}", pre in "[ ,.]{0,3}", post in "[ !?]{0,3}") {
        let s = format!("{pre}{w}{post}");
        let z = normalize(&s);
        let zw = normalize(&w);
        prop_assert_eq!(z.text(), zw.text());
        let r = z.original_span(0..z.text().len());
        prop_assert_eq!(&s[r], w.as_str());
    }
}
