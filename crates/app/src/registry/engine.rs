//! Building the engine (every detector) from a registry snapshot.

use std::sync::{Arc, RwLock};

use shopshield_gate::{
    Engine, EngineBuilder, ImageBanks, ImageDetector, PolicyDetector, TextDetector, VideoBanks,
    VideoDetector,
};
use shopshield_model::Right;
use shopshield_policy::PolicySet;

use crate::AppConfig;

/// Builds the engine for a registry snapshot.
pub(crate) fn build_engine(
    version: u64,
    config: &AppConfig,
    rights: &[Right],
    banks: Arc<RwLock<ImageBanks>>,
    videos: Arc<RwLock<VideoBanks>>,
    policy: Arc<PolicySet>,
) -> Result<Engine, shopshield_text::BuildError> {
    let matcher = shopshield_text::MarkMatcher::build(rights, &config.text)?;
    Ok(EngineBuilder::new(version, config.gate)
        .detector(TextDetector::new(matcher))
        .detector(ImageDetector::new(banks, config.images.scoring))
        .detector(PolicyDetector::new(policy))
        .detector(VideoDetector::new(videos, config.video.matching))
        .build())
}
