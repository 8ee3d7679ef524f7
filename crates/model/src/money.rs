use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// An amount of money in an ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    /// The amount, a finite number ≥ 0.
    pub amount: f64,
    /// Three-letter ISO 4217 code, upper case (`USD`, `EUR`, `IDR`...).
    pub currency: String,
}

impl Money {
    pub fn new(amount: f64, currency: &str) -> Self {
        Self {
            amount,
            currency: currency.to_string(),
        }
    }

    /// Checks the amount and the currency code. `field` is the path of this
    /// value in its document, e.g. `price`.
    pub fn validate(&self, field: &str) -> Result<(), ValidationError> {
        if !self.amount.is_finite() || self.amount < 0.0 {
            return Err(ValidationError::new(
                format!("{field}.amount"),
                format!("{} is not a finite amount ≥ 0", self.amount),
            ));
        }
        if self.amount > 1e12 {
            return Err(ValidationError::new(
                format!("{field}.amount"),
                "is larger than 10^12",
            ));
        }
        if self.currency.len() != 3 || !self.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ValidationError::new(
                format!("{field}.currency"),
                format!(
                    "{:?} is not a three-letter upper-case ISO 4217 code",
                    self.currency
                ),
            ));
        }
        Ok(())
    }
}
