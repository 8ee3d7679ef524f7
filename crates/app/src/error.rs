use shopshield_intake::IntakeError;
use shopshield_model::ValidationError;
use shopshield_store::StoreError;

/// Why an application operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The input is wrong: the field and the reason.
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    /// The input could not be parsed or read.
    #[error("{0}")]
    Intake(#[from] IntakeError),
    /// Nothing by that id exists within the caller's scope.
    #[error("{what} {id:?} not found")]
    NotFound { what: &'static str, id: String },
    /// The operation clashes with existing data.
    #[error("{0}")]
    Conflict(String),
    /// The caller's role may not do this at all.
    #[error("{0}")]
    Forbidden(String),
    /// The caller sends faster than it is answered (a stream's events in
    /// flight are bounded): nothing was done; send again later.
    #[error("{0}")]
    Busy(String),
    /// Storage failed; nothing was changed.
    #[error("{0}")]
    Store(StoreError),
    /// Stored data failed an integrity check (the enforcement log was
    /// edited or truncated). The message names the first bad entry.
    #[error("{0}")]
    Integrity(String),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => AppError::Conflict(m),
            other => AppError::Store(other),
        }
    }
}

impl From<shopshield_model::Denied> for AppError {
    fn from(d: shopshield_model::Denied) -> Self {
        AppError::Forbidden(d.to_string())
    }
}

impl AppError {
    pub(crate) fn not_found(what: &'static str, id: &str) -> AppError {
        AppError::NotFound {
            what,
            id: id.to_string(),
        }
    }
}
