//! The DSA Transparency Database's validation rules for a statement of
//! reasons, re-expressed in Rust so every statement we write can be checked
//! before it is sent.
//!
//! Source: the European Commission's `digital-services-act/transparency-database`
//! repository at commit `69e80a0bc8eb3cbfbe8246e898194c3bdf490a4b`:
//! `app/Http/Requests/StatementStoreRequest.php` (the rules),
//! `app/Models/Statement.php` (the allowed values),
//! `app/Services/EuropeanCountriesService.php` (`EUROPEAN_COUNTRY_CODES`),
//! `app/Services/EuropeanLanguagesService.php` (`ALL_LANGUAGES`) and
//! `app/Http/Controllers/Api/v1/StatementMultipleAPIController.php`
//! (batches: `statements` is `required|array|between:1,100`, puids unique
//! within a batch).
//!
//! Laravel semantics kept: `required` means present, not null and not an
//! empty string or array; `max:N` on a string counts characters; `in:` on
//! an array checks every element; `exclude_*` fields are dropped, not
//! refused.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde_json::{Map, Value};

pub const DECISION_VISIBILITIES: [&str; 7] = [
    "DECISION_VISIBILITY_CONTENT_REMOVED",
    "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
];
pub const DECISION_MONETARIES: [&str; 3] = [
    "DECISION_MONETARY_SUSPENSION",
    "DECISION_MONETARY_TERMINATION",
    "DECISION_MONETARY_OTHER",
];
pub const DECISION_PROVISIONS: [&str; 4] = [
    "DECISION_PROVISION_PARTIAL_SUSPENSION",
    "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION",
    "DECISION_PROVISION_TOTAL_TERMINATION",
];
pub const DECISION_ACCOUNTS: [&str; 2] =
    ["DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED"];
pub const ACCOUNT_TYPES: [&str; 2] = ["ACCOUNT_TYPE_BUSINESS", "ACCOUNT_TYPE_PRIVATE"];
pub const DECISION_GROUNDS: [&str; 2] = [
    "DECISION_GROUND_ILLEGAL_CONTENT",
    "DECISION_GROUND_INCOMPATIBLE_CONTENT",
];
pub const YES_NO: [&str; 2] = ["Yes", "No"];
pub const CONTENT_TYPES: [&str; 8] = [
    "CONTENT_TYPE_APP",
    "CONTENT_TYPE_AUDIO",
    "CONTENT_TYPE_IMAGE",
    "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
];
pub const STATEMENT_CATEGORIES: [&str; 16] = [
    "STATEMENT_CATEGORY_ANIMAL_WELFARE",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
    "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
    "STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
    "STATEMENT_CATEGORY_PROTECTION_OF_MINORS",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD",
    "STATEMENT_CATEGORY_SELF_HARM",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
    "STATEMENT_CATEGORY_VIOLENCE",
];
pub const KEYWORDS: [&str; 69] = [
    "KEYWORD_ADULT_SEXUAL_MATERIAL",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS",
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
    "KEYWORD_ANIMAL_HARM",
    "KEYWORD_BIOMETRIC_DATA_BREACH",
    "KEYWORD_BULLYING_AGAINST_GIRLS",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
    "KEYWORD_CONTENT_PROMOTING_EATING_DISORDERS",
    "KEYWORD_COORDINATED_HARM",
    "KEYWORD_COPYRIGHT_INFRINGEMENT",
    "KEYWORD_CYBER_BULLYING_INTIMIDATION",
    "KEYWORD_CYBER_HARASSMENT",
    "KEYWORD_CYBER_HARASSMENT_AGAINST_WOMEN",
    "KEYWORD_CYBER_INCITEMENT",
    "KEYWORD_CYBER_STALKING",
    "KEYWORD_CYBER_STALKING_AGAINST_WOMEN",
    "KEYWORD_DATA_FALSIFICATION",
    "KEYWORD_DEFAMATION",
    "KEYWORD_DESIGN_INFRINGEMENT",
    "KEYWORD_DISCRIMINATION",
    "KEYWORD_FEMALE_GENDERED_DISINFORMATION",
    "KEYWORD_GEOGRAPHIC_INDICATIONS_INFRINGEMENT",
    "KEYWORD_GEOGRAPHICAL_REQUIREMENTS",
    "KEYWORD_GOODS_SERVICES_NOT_PERMITTED",
    "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
    "KEYWORD_HATE_SPEECH",
    "KEYWORD_HIDDEN_ADVERTISEMENT",
    "KEYWORD_HUMAN_EXPLOITATION",
    "KEYWORD_HUMAN_TRAFFICKING",
    "KEYWORD_ILLEGAL_ORGANIZATIONS",
    "KEYWORD_IMPERSONATION_ACCOUNT_HIJACKING",
    "KEYWORD_INAUTHENTIC_ACCOUNTS",
    "KEYWORD_INAUTHENTIC_LISTINGS",
    "KEYWORD_INAUTHENTIC_USER_REVIEWS",
    "KEYWORD_INCITEMENT_AGAINST_WOMEN",
    "KEYWORD_INCITEMENT_VIOLENCE_HATRED",
    "KEYWORD_INSUFFICIENT_INFORMATION_ON_TRADERS",
    "KEYWORD_LANGUAGE_REQUIREMENTS",
    "KEYWORD_MISINFORMATION_DISINFORMATION",
    "KEYWORD_MISLEADING_INFO_CONSUMER_RIGHTS",
    "KEYWORD_MISLEADING_INFO_GOODS_SERVICES",
    "KEYWORD_MISSING_PROCESSING_GROUND",
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING",
    "KEYWORD_NON_CONSENSUAL_IMAGE_SHARING_AGAINST_WOMEN",
    "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE",
    "KEYWORD_NON_CONSENSUAL_MATERIAL_DEEPFAKE_AGAINST_WOMEN",
    "KEYWORD_NONCOMPLIANCE_PRICING",
    "KEYWORD_NUDITY",
    "KEYWORD_PATENT_INFRINGEMENT",
    "KEYWORD_PHISHING",
    "KEYWORD_PROHIBITED_PRODUCTS",
    "KEYWORD_PYRAMID_SCHEMES",
    "KEYWORD_RIGHT_TO_BE_FORGOTTEN",
    "KEYWORD_RISK_ENVIRONMENTAL_DAMAGE",
    "KEYWORD_RISK_PUBLIC_HEALTH",
    "KEYWORD_SELF_MUTILATION",
    "KEYWORD_STALKING",
    "KEYWORD_SUICIDE",
    "KEYWORD_TERRORIST_CONTENT",
    "KEYWORD_TRADE_SECRET_INFRINGEMENT",
    "KEYWORD_TRADEMARK_INFRINGEMENT",
    "KEYWORD_TRAFFICKING_WOMEN_GIRLS",
    "KEYWORD_UNLAWFUL_SALE_ANIMALS",
    "KEYWORD_UNSAFE_CHALLENGES",
    "KEYWORD_UNSAFE_PRODUCTS",
    "KEYWORD_VIOLATION_EU_LAW",
    "KEYWORD_VIOLATION_NATIONAL_LAW",
    "KEYWORD_OTHER",
];
pub const SOURCE_TYPES: [&str; 4] = [
    "SOURCE_ARTICLE_16",
    "SOURCE_TRUSTED_FLAGGER",
    "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_VOLUNTARY",
];
pub const AUTOMATED_DECISIONS: [&str; 3] = [
    "AUTOMATED_DECISION_FULLY",
    "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
];
/// `EuropeanCountriesService::EUROPEAN_COUNTRY_CODES`.
pub const EUROPEAN_COUNTRY_CODES: [&str; 30] = crate::EU_EEA;
/// `EuropeanLanguagesService::ALL_LANGUAGES` keys.
pub const LANGUAGES: &str = "AB AA AF AK SQ AM AR AN HY AS AV AE AY AZ BM BA EU BE BN BH BI BS BR BG MY CA KM CH CE NY ZH CU CV KW CO CR HR CS DA DV NL DZ EN EO ET EE FO FJ FI FR FF GD GL LG KA DE KI EL KL GN GU HT HA HE HZ HI HO HU IS IO IG ID IA IE IU IK GA IT JA JV KN KR KS KK RW KV KG KO KJ KU KY LO LA LV LB LI LN LT LU MK MG MS ML MT GV MI MR MH RO MN NA NV ND NG NE SE NO NB NN II OC OJ OR OM OS PI PA PS FA PL PT QU RM RN RU SM SG SA SC SR SN SD SI SK SL SO ST NR ES SU SW SS SV TL TY TG TA TT TE TH BO TI TO TS TN TR TK TW UG UK UR UZ VE VI VO WA CY FY WO XH YI YO ZA ZU";

/// Largest batch the multiple-statements endpoint takes.
pub const MAX_BATCH: usize = 100;

/// Laravel's `filled`: present, not null, not "" and not [].
fn filled(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(_) => true,
    }
}

fn is_in(v: &Value, set: &[&str]) -> bool {
    v.as_str().is_some_and(|s| set.contains(&s))
}

struct Check<'a> {
    s: &'a Map<String, Value>,
    errors: Vec<String>,
}

impl Check<'_> {
    fn get(&self, k: &str) -> Option<&Value> {
        self.s.get(k)
    }

    fn err(&mut self, field: &str, why: impl Into<String>) {
        self.errors.push(format!("{field}: {}", why.into()));
    }

    fn required(&mut self, k: &str) -> bool {
        if filled(self.get(k)) {
            true
        } else {
            self.err(k, "is required");
            false
        }
    }

    /// `in:` for a scalar or every element of an array; null passes when
    /// `nullable`.
    fn in_set(&mut self, k: &str, set: &[&str], nullable: bool) {
        let bad = match self.get(k) {
            None => false,
            Some(Value::Null) => !nullable,
            Some(Value::Array(a)) => a.iter().any(|e| !is_in(e, set)),
            Some(v) => !is_in(v, set),
        };
        if bad {
            self.err(k, "has a value that is not allowed");
        }
    }

    fn array(&mut self, k: &str, nullable: bool) {
        match self.get(k) {
            None | Some(Value::Array(_)) => {}
            Some(Value::Null) if nullable => {}
            Some(_) => self.err(k, "must be an array"),
        }
    }

    fn max_chars(&mut self, k: &str, max: usize) {
        if let Some(Value::String(s)) = self.get(k)
            && s.chars().count() > max
        {
            self.err(k, format!("must not be longer than {max} characters"));
        }
    }

    fn date(&mut self, k: &str, min: Option<NaiveDate>, max: NaiveDate) {
        match self.get(k) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => {
                // `date_format:Y-m-d`: exactly four-digit year, two-digit
                // month and day.
                let shape = s.len() == 10
                    && s.bytes().enumerate().all(|(i, b)| {
                        if i == 4 || i == 7 {
                            b == b'-'
                        } else {
                            b.is_ascii_digit()
                        }
                    });
                match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                    Ok(d) if shape => {
                        if min.is_some_and(|m| d < m) || d > max {
                            self.err(k, "is out of the allowed range");
                        }
                    }
                    _ => self.err(k, "does not match the format YYYY-MM-DD"),
                }
            }
            Some(_) => self.err(k, "does not match the format YYYY-MM-DD"),
        }
    }

    fn contains(&self, k: &str, value: &str) -> bool {
        match self.get(k) {
            Some(Value::Array(a)) => a.iter().any(|e| e.as_str() == Some(value)),
            Some(Value::String(s)) => s == value,
            _ => false,
        }
    }
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// Every rule `statement` breaks, as `field: reason`; empty when valid.
pub fn validate(statement: &Value) -> Vec<String> {
    let Some(s) = statement.as_object() else {
        return vec!["statement: must be a JSON object".into()];
    };
    let mut c = Check { s, errors: vec![] };
    let restrictions = [
        "decision_visibility",
        "decision_monetary",
        "decision_provision",
        "decision_account",
    ];
    if !restrictions.iter().any(|k| filled(c.get(k))) {
        c.err(
            "decision_visibility",
            "one of decision_visibility, decision_monetary, decision_provision, decision_account is required",
        );
    }
    c.array("decision_visibility", true);
    c.in_set("decision_visibility", &DECISION_VISIBILITIES, true);
    if c.contains("decision_visibility", "DECISION_VISIBILITY_OTHER") {
        c.required("decision_visibility_other");
        c.max_chars("decision_visibility_other", 500);
    }
    c.in_set("decision_monetary", &DECISION_MONETARIES, true);
    if c.contains("decision_monetary", "DECISION_MONETARY_OTHER") {
        c.required("decision_monetary_other");
        c.max_chars("decision_monetary_other", 500);
    }
    c.in_set("decision_provision", &DECISION_PROVISIONS, true);
    c.in_set("decision_account", &DECISION_ACCOUNTS, true);
    c.in_set("account_type", &ACCOUNT_TYPES, true);
    c.array("category_specification", true);
    c.in_set("category_specification", &KEYWORDS, true);
    c.max_chars("category_specification_other", 500);

    if c.required("decision_ground") {
        c.in_set("decision_ground", &DECISION_GROUNDS, false);
    }
    if let Some(Value::String(u)) = c.get("decision_ground_reference_url")
        && !(u.starts_with("https://") || u.starts_with("http://"))
    {
        c.err("decision_ground_reference_url", "must be a URL");
    }
    c.max_chars("decision_ground_reference_url", 500);
    if c.contains("decision_ground", "DECISION_GROUND_ILLEGAL_CONTENT") {
        c.required("illegal_content_legal_ground");
        c.required("illegal_content_explanation");
        c.max_chars("illegal_content_legal_ground", 500);
        c.max_chars("illegal_content_explanation", 2000);
    }
    if c.contains("decision_ground", "DECISION_GROUND_INCOMPATIBLE_CONTENT") {
        c.required("incompatible_content_ground");
        c.required("incompatible_content_explanation");
        c.max_chars("incompatible_content_ground", 500);
        c.max_chars("incompatible_content_explanation", 2000);
        c.in_set("incompatible_content_illegal", &YES_NO, false);
    }

    if c.required("content_type") {
        c.array("content_type", false);
        c.in_set("content_type", &CONTENT_TYPES, false);
    }
    if c.contains("content_type", "CONTENT_TYPE_OTHER") {
        c.required("content_type_other");
        c.max_chars("content_type_other", 500);
    }
    if c.required("category") {
        c.in_set("category", &STATEMENT_CATEGORIES, false);
    }
    c.array("category_addition", false);
    c.in_set("category_addition", &STATEMENT_CATEGORIES, false);
    c.array("territorial_scope", true);
    c.in_set("territorial_scope", &EUROPEAN_COUNTRY_CODES, true);
    let languages: Vec<&str> = LANGUAGES.split(' ').collect();
    c.in_set("content_language", &languages, true);

    let end = ymd(2038, 1, 1);
    if c.required("content_date") {
        c.date("content_date", Some(ymd(2000, 1, 1)), end);
    }
    if c.required("application_date") {
        c.date("application_date", Some(ymd(2020, 1, 1)), end);
    }
    for k in [
        "end_date_account_restriction",
        "end_date_monetary_restriction",
        "end_date_service_restriction",
        "end_date_visibility_restriction",
    ] {
        c.date(k, None, end);
    }
    if c.required("decision_facts") {
        c.max_chars("decision_facts", 5000);
    }
    if c.required("source_type") {
        c.in_set("source_type", &SOURCE_TYPES, false);
    }
    if !c.contains("source_type", "SOURCE_VOLUNTARY") {
        c.max_chars("source_identity", 500);
    }
    if c.required("automated_detection") {
        c.in_set("automated_detection", &YES_NO, false);
    }
    if c.required("automated_decision") {
        c.in_set("automated_decision", &AUTOMATED_DECISIONS, false);
    }
    if c.required("puid") {
        c.max_chars("puid", 500);
        let ok = c.get("puid").and_then(Value::as_str).is_some_and(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
        if !ok {
            c.err("puid", "The puid format is invalid.");
        }
    }
    c.errors
}

/// Every rule a batch (the body of the multiple-statements endpoint)
/// breaks: 1 to 100 statements, each valid, puids unique.
pub fn validate_batch(batch: &Value) -> Vec<String> {
    let Some(list) = batch.get("statements").and_then(Value::as_array) else {
        return vec!["statements: is required and must be an array".into()];
    };
    let mut errors = Vec::new();
    if list.is_empty() || list.len() > MAX_BATCH {
        errors.push(format!(
            "statements: must have between 1 and {MAX_BATCH} items, has {}",
            list.len()
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, s) in list.iter().enumerate() {
        for e in validate(s) {
            errors.push(format!("statements.{i}.{e}"));
        }
        if let Some(p) = s.get("puid").and_then(Value::as_str)
            && !seen.insert(p.to_string())
        {
            errors.push(format!(
                "statements.{i}.puid: {p:?} is not unique in the batch"
            ));
        }
    }
    errors
}
