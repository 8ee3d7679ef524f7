use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// The currency codes a price may use: the alphabetic codes of ISO 4217
/// List One ("current currency & funds", as published by SIX, the
/// standard's maintenance agency, with its amendments through 2025: `SLE`,
/// `VED`, `ZWG` and `XCG` are in; withdrawn codes such as `HRK`, `SLL` and
/// `ZWL` are not), sorted.
///
/// Left out on purpose: the codes that are not money a shop can charge in,
/// which List One also carries (`XAU`, `XAG`, `XPD`, `XPT` precious
/// metals; `XBA`–`XBD` bond-market units; `XDR` and `XSU` drawing rights;
/// `XUA`; `XTS`, reserved for testing; `XXX`, "no currency").
pub const ISO_4217: [&str; 165] = [
    "AED", "AFN", "ALL", "AMD", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN",
    "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE", "CZK",
    "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS",
    "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD",
    "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD",
    "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT",
    "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK",
    "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD",
    "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP",
    "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS",
    "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV", "WST",
    "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

/// Is `code` a currency of [`ISO_4217`]?
pub fn is_currency(code: &str) -> bool {
    ISO_4217.binary_search(&code).is_ok()
}

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
        if !is_currency(&self.currency) {
            return Err(ValidationError::new(
                format!("{field}.currency"),
                format!(
                    "{:?} is not an ISO 4217 currency code (USD, EUR, IDR...)",
                    self.currency
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_list_is_sorted_and_well_formed() {
        assert!(ISO_4217.windows(2).all(|w| w[0] < w[1]));
        assert!(
            ISO_4217
                .iter()
                .all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()))
        );
        for c in ["USD", "EUR", "IDR", "JPY", "VND", "SLE", "ZWG", "XOF"] {
            assert!(is_currency(c), "{c}");
        }
        for c in ["ZZZ", "XXX", "XTS", "XAU", "HRK", "usd", "US", ""] {
            assert!(!is_currency(c), "{c}");
        }
    }

    #[test]
    fn an_unknown_currency_names_the_field() {
        let e = Money::new(5.0, "ZZZ").validate("price").unwrap_err();
        assert_eq!(e.field, "price.currency");
        assert!(e.to_string().contains("ISO 4217"), "{e}");
        Money::new(5.0, "EUR").validate("price").unwrap();
    }
}
