//! The text detector: word marks in titles, descriptions and brands, with
//! look-alikes, counterfeit cues, nominative use and price (see
//! `shopshield-text`).

use shopshield_model::Violation;
use shopshield_text::MarkMatcher;

use crate::{Detector, ScreenInput};

/// Screens listing text against every enabled word mark.
pub struct TextDetector {
    matcher: MarkMatcher,
}

impl TextDetector {
    pub fn new(matcher: MarkMatcher) -> TextDetector {
        TextDetector { matcher }
    }

    pub fn pattern_count(&self) -> usize {
        self.matcher.pattern_count()
    }
}

impl Detector for TextDetector {
    fn name(&self) -> &'static str {
        "text"
    }

    fn detect(&self, input: &ScreenInput<'_>, out: &mut Vec<Violation>) {
        out.extend(self.matcher.screen_normalized(
            input.listing,
            &input.category.nice,
            input.normalized,
        ));
    }
}
