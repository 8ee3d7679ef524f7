//! The pre-listing gate.
//!
//! A [`Gate`] holds the current [`Engine`]: an immutable snapshot built from
//! the rights registry, the policy packs and the image banks. Each
//! [`Detector`] in the engine looks at a listing and reports [`Violation`]s
//! with evidence; the engine combines them into one score and an
//! [`Action`]. When rights change, a new engine is built and swapped in
//! atomically, so the very next listing sees the change while listings being
//! screened finish on the snapshot they started with.
//!
//! Nothing here performs I/O.

pub mod content;
mod detector;
mod engine;
mod image;
mod policy;
mod text;
mod video;

pub use detector::{Detector, ScreenInput};
pub use engine::{Engine, EngineBuilder, Gate, GateConfig, Verdict};
pub use image::{ImageBanks, ImageConfig, ImageDetector, ImageSignal};
pub use policy::PolicyDetector;
pub use text::TextDetector;
pub use video::{VideoBankError, VideoBanks, VideoDetector, VideoMatchConfig};

pub use content::{
    ContentInput, ContentKind, ContentUnit, Frame, Parties, TextField, strongest_per_subject,
};

pub use shopshield_model::{Action, Violation};
