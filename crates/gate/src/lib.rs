//! The pre-listing gate.
//!
//! A [`Gate`] holds the current [`Engine`]: an immutable snapshot built from
//! the rights registry (and, later, policy packs and image banks). Each
//! [`Detector`] in the engine looks at a listing and reports [`Violation`]s
//! with evidence; the engine combines them into one score and an
//! [`Action`]. When rights change, a new engine is built and swapped in
//! atomically, so the very next listing sees the change while listings being
//! screened finish on the snapshot they started with.
//!
//! Nothing here performs I/O.

mod detector;
mod engine;
mod wordmark;

pub use detector::{Detector, ScreenInput};
pub use engine::{Engine, EngineBuilder, Gate, GateConfig, Verdict};
pub use wordmark::WordMarkDetector;

pub use shopshield_model::{Action, Violation};
