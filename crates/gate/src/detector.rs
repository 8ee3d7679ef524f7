use chrono::{DateTime, Utc};
use shopshield_model::{Category, Listing, Qualification, Violation};

/// Everything a detector may look at for one listing. Detectors never fetch
/// anything themselves: images arrive already hashed, qualifications already
/// loaded, and the time is given.
#[derive(Debug, Clone, Copy)]
pub struct ScreenInput<'a> {
    pub listing: &'a Listing,
    /// The listing's category, resolved from the taxonomy.
    pub category: &'a Category,
    /// The listing's title, description and brand, normalised once for
    /// every detector that matches on normalised text.
    pub normalized: &'a shopshield_text::NormalizedFields,
    /// The listing's images, decoded and hashed (empty when it has none).
    pub images: &'a [crate::ImageSignal],
    /// The shop's qualifications (licences, registrations).
    pub qualifications: &'a [Qualification],
    pub now: DateTime<Utc>,
}

/// One kind of check on a listing.
///
/// Implementations are built from a registry snapshot and are immutable
/// afterwards, so `detect` needs only `&self` and runs on many threads.
pub trait Detector: Send + Sync {
    /// A short stable name, recorded as `Violation::detector`.
    fn name(&self) -> &'static str;

    /// Appends what this detector finds to `out`. Each violation carries
    /// its own confidence in 0..=1 and evidence a seller can read.
    fn detect(&self, input: &ScreenInput<'_>, out: &mut Vec<Violation>);

    /// Versions of the data this detector used for this listing (e.g. the
    /// policy packs that apply in its region), recorded on its decision.
    fn data_versions(&self, _input: &ScreenInput<'_>) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Appends what this detector finds in a video or a stream window. By
    /// default the detector screens the content's listing-shaped `units`
    /// (one per text field, one with the frames) as it screens listings,
    /// and the evidence is relabelled with the field and time it points at.
    fn detect_content(
        &self,
        input: &crate::ContentInput<'_>,
        units: &[crate::ContentUnit],
        out: &mut Vec<Violation>,
    ) {
        crate::content::through_listings(self, input, units, out);
    }

    /// Versions of the data used for content in `region`.
    fn content_data_versions(&self, _region: shopshield_model::Region) -> Vec<(String, String)> {
        Vec::new()
    }
}
