//! The streams, subjects and consumer one queue name stands for.

use crate::QueueError;

/// Checks a name that becomes one subject token and part of a stream
/// name: ASCII letters, digits, `-` and `_`, 1 to 64 of them.
pub(crate) fn check_token(field: &str, s: &str) -> Result<(), QueueError> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(QueueError::Invalid(format!(
            "{field}: {s:?} must be 1 to 64 ASCII letters, digits, '-' or '_'"
        )))
    }
}

/// A queue: its work stream `NAME` (subject `NAME.work`, work-queue
/// retention, durable consumer `workers`) and its results stream
/// `NAME-results` (subjects `NAME.results.RUN`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueName(String);

impl QueueName {
    pub fn new(name: &str) -> Result<QueueName, QueueError> {
        check_token("queue", name)?;
        Ok(QueueName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn work_stream(&self) -> String {
        self.0.clone()
    }

    pub fn work_subject(&self) -> String {
        format!("{}.work", self.0)
    }

    pub fn results_stream(&self) -> String {
        format!("{}-results", self.0)
    }

    /// Every run's results subject (the results stream's subjects).
    pub fn results_wildcard(&self) -> String {
        format!("{}.results.*", self.0)
    }

    pub fn results_subject(&self, run: &str) -> String {
        format!("{}.results.{run}", self.0)
    }

    /// The durable pull consumer every worker shares.
    pub fn consumer(&self) -> &'static str {
        "workers"
    }
}

impl Default for QueueName {
    fn default() -> Self {
        QueueName("shopshield".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_from_the_queue_name() {
        let q = QueueName::new("t-1_a").unwrap();
        assert_eq!(q.work_stream(), "t-1_a");
        assert_eq!(q.work_subject(), "t-1_a.work");
        assert_eq!(q.results_stream(), "t-1_a-results");
        assert_eq!(q.results_subject("r9"), "t-1_a.results.r9");
        assert_eq!(QueueName::default().as_str(), "shopshield");
    }

    #[test]
    fn names_that_would_break_subjects_are_refused() {
        for bad in ["", "a.b", "a b", "a*", "a>", &"x".repeat(65)] {
            let e = QueueName::new(bad).unwrap_err();
            assert!(e.to_string().starts_with("queue:"), "{e}");
        }
    }
}
