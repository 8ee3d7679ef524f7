//! What the content services (short videos, livestreams) share: the
//! stores they read and write, the registry whose engine screens, the
//! review service that enforces, the configuration and the clock.

use std::sync::Arc;

use shopshield_store::{CatalogStore, ContentStore, QualificationStore};

use crate::registry::Registry;
use crate::review::Review;
use crate::{AppConfig, Clock};

/// The dependencies of [`crate::Videos`] and [`crate::Streams`].
#[derive(Clone)]
pub(crate) struct ContentDeps {
    pub content: Arc<dyn ContentStore>,
    pub catalog: Arc<dyn CatalogStore>,
    pub qualifications: Arc<dyn QualificationStore>,
    pub registry: Arc<Registry>,
    pub review: Arc<Review>,
    pub config: AppConfig,
    pub clock: Arc<dyn Clock>,
}
