use std::fmt;
use std::path::PathBuf;

/// One problem found in a policy pack: where it is and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackIssue {
    /// The pack's file name, e.g. `sg.toml`.
    pub file: String,
    /// 1-based line of the offending value (0 when unknown).
    pub line: usize,
    /// The rule the problem is in, if it is inside a rule.
    pub rule_id: Option<String>,
    /// A sentence policy staff can act on.
    pub reason: String,
}

impl fmt::Display for PackIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(r) = &self.rule_id {
            write!(f, "rule {r}: ")?;
        }
        f.write_str(&self.reason)
    }
}

/// Why a set of policy packs was refused. A refused set changes nothing: the
/// caller keeps the packs it had.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// One or more packs are invalid; every problem found is listed.
    #[error("{} problem(s) in policy packs:\n{}", .0.len(), Issues(.0))]
    Invalid(Vec<PackIssue>),
    /// A pack file or the pack directory could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The directory holds no `*.toml` pack.
    #[error("{0}: no policy packs (*.toml) found")]
    NoPacks(PathBuf),
}

impl PolicyError {
    /// The individual problems, for `Invalid`; empty otherwise.
    pub fn issues(&self) -> &[PackIssue] {
        match self {
            PolicyError::Invalid(v) => v,
            _ => &[],
        }
    }
}

struct Issues<'a>(&'a [PackIssue]);

impl fmt::Display for Issues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "  {issue}")?;
        }
        Ok(())
    }
}
