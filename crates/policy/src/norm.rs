//! The one place the policy matcher normalises text.
//!
//! Keywords and listing fields go through the same function, the shared
//! normaliser of `shopshield-text` (NFKC, case folding, confusable skeleton,
//! de-leeting, separators collapsed), so both sides agree on what a word looks
//! like once obfuscation is undone. Offsets in the normalised text map back to
//! byte offsets in the original field, which is what
//! [`shopshield_model::Evidence::span`] records.

pub(crate) use shopshield_text::normalize::Normalized as Norm;

pub(crate) fn normalize(s: &str) -> Norm {
    shopshield_text::normalize::normalize(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obfuscation_is_undone_and_spans_map_back() {
        let src = "Best V4PE  pen";
        let n = normalize(src);
        assert_eq!(n.text(), "best vape pen");
        let at = n.text().find("vape").unwrap();
        assert_eq!(&src[n.original_span(at..at + 4)], "V4PE");
        assert_eq!(normalize("ＶＡＰＥ").text(), "vape");
    }
}
