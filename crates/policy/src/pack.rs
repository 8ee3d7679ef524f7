//! The policy-pack file format, and the checks a pack passes when it loads.

use std::fmt;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use shopshield_model::{Region, Taxonomy};
use toml::Spanned;

use crate::error::PackIssue;
use crate::norm;

/// Longest accepted keyword or exception, in bytes.
pub const MAX_PATTERN_LEN: usize = 200;

/// The EU member states (ISO 3166-1 alpha-2). An `EU` pack applies to each.
pub const EU_MEMBERS: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];

/// True if `region` is an EU member state.
pub fn is_eu_member(region: Region) -> bool {
    EU_MEMBERS.contains(&region.as_str())
}

/// Where a pack applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Every region (`scope = "*"`).
    Global,
    /// Every EU member state (`scope = "EU"`).
    Eu,
    /// One region (`scope = "SG"`).
    Region(Region),
}

impl Scope {
    fn parse(s: &str) -> Option<Scope> {
        match s {
            "*" => Some(Scope::Global),
            "EU" | "eu" => Some(Scope::Eu),
            _ => Region::parse("scope", s)
                .ok()
                .filter(|r| !r.is_all())
                .map(Scope::Region),
        }
    }

    /// True if a listing sold in `region` falls under this scope.
    pub fn applies_to(self, region: Region) -> bool {
        match self {
            Scope::Global => true,
            Scope::Eu => is_eu_member(region),
            Scope::Region(r) => r == region,
        }
    }

    /// 0 for global, 1 for the EU, 2 for one region: a more specific pack
    /// may replace rules of a less specific one.
    pub fn specificity(self) -> u8 {
        match self {
            Scope::Global => 0,
            Scope::Eu => 1,
            Scope::Region(_) => 2,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Global => f.write_str("*"),
            Scope::Eu => f.write_str("EU"),
            Scope::Region(r) => f.write_str(r.as_str()),
        }
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Whether a rule bans goods outright or lets qualified sellers sell them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Never sellable in the pack's scope.
    Prohibited,
    /// Sellable only by a seller holding the rule's qualification.
    Restricted,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Prohibited => "prohibited",
            RuleKind::Restricted => "restricted",
        }
    }
}

/// A keyword or exception after normalisation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Pattern {
    /// The normalised text the automaton searches for.
    pub(crate) norm: String,
    /// The match must start at a word boundary.
    pub(crate) left: bool,
    /// The match must end at a word boundary (a plural `s`/`es` is allowed).
    pub(crate) right: bool,
}

/// One rule of a pack, checked and compiled.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    /// Unique across every loaded pack, e.g. `sg.ecig`.
    pub id: String,
    /// The pack it comes from.
    pub pack: String,
    pub kind: RuleKind,
    /// Category ids, `group/*` or `*`, as written.
    pub categories: Vec<String>,
    /// Keywords and phrases as written.
    pub keywords: Vec<String>,
    /// Exceptions as written: the rule's own, then the pack's, then those
    /// of the rules it replaces.
    pub exceptions: Vec<String>,
    /// For restricted rules: the qualification a seller needs.
    pub qualification: Option<String>,
    pub effective_from: Option<DateTime<Utc>>,
    pub effective_until: Option<DateTime<Utc>>,
    /// The law or public policy the rule follows, or `platform policy`.
    pub citation: String,
    /// A sentence a seller can read.
    pub summary: String,
    /// Listings in these categories (ids, `group/*` or `*`) are covered even
    /// without a keyword: the seller's own category says what the item is.
    pub match_categories: Vec<String>,
    /// Matches never go above review confidence.
    pub review_only: bool,
    /// Categories (ids, `group/*` or `*`) where the keywords cannot be the
    /// goods ("dynamite" on a belt, "gin" on headphones): there one keyword
    /// alone is weak evidence (`CONFIDENCE_WEAK`, below review), two
    /// different keywords of the rule go to review. Takes precedence over
    /// `categories` (so `categories = ["*"]` can still exclude apparel).
    pub weak_in: Vec<String>,
    /// Ids of rules in less specific packs this rule takes the place of.
    pub replaces: Vec<String>,
    /// 1-based line of the rule in its pack file.
    pub line: usize,
    #[serde(skip)]
    pub(crate) kw: Vec<Pattern>,
    #[serde(skip)]
    pub(crate) exc: Vec<Pattern>,
}

impl Rule {
    /// True if the rule is in force at `now`.
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.effective_from.is_none_or(|f| f <= now) && self.effective_until.is_none_or(|u| now < u)
    }

    /// True if listings in category `cat` are among the rule's categories.
    pub fn covers_category(&self, cat: &str) -> bool {
        category_in(&self.categories, cat)
    }

    /// True if the keywords cannot be the goods in category `cat`.
    pub fn weak_in_category(&self, cat: &str) -> bool {
        category_in(&self.weak_in, cat)
    }

    /// True if a listing in category `cat` is covered with no keyword.
    pub fn matches_category(&self, cat: &str) -> bool {
        category_in(&self.match_categories, cat)
    }

    /// A digest of everything that decides what the rule matches and says.
    pub fn fingerprint(&self, scope: Scope) -> String {
        let mut h = Sha256::new();
        let mut put = |s: &str| {
            h.update(s.as_bytes());
            h.update([0u8]);
        };
        put(&scope.to_string());
        put(self.kind.as_str());
        for c in &self.categories {
            put(c);
        }
        put("|");
        for p in &self.kw {
            put(&format!("{}{}{}", p.left as u8, p.norm, p.right as u8));
        }
        put("|");
        for p in &self.exc {
            put(&format!("{}{}{}", p.left as u8, p.norm, p.right as u8));
        }
        put("|");
        put(self.qualification.as_deref().unwrap_or(""));
        put(&format!(
            "{:?}{:?}",
            self.effective_from, self.effective_until
        ));
        put(&self.citation);
        put(&self.summary);
        for c in &self.match_categories {
            put(c);
        }
        put(&format!("{}", self.review_only));
        put("|weak_in");
        for c in &self.weak_in {
            put(c);
        }
        for r in &self.replaces {
            put(r);
        }
        hex::encode(&h.finalize()[..12])
    }
}

/// One loaded pack.
#[derive(Debug, Clone, Serialize)]
pub struct Pack {
    /// The pack's name, e.g. `sg`; unique in a set.
    pub name: String,
    pub scope: Scope,
    /// The version policy staff gave it.
    pub declared_version: String,
    /// The first 12 hex digits of the SHA-256 of the file.
    pub content_hash: String,
    /// `{declared_version}+{content_hash}`: what decisions record.
    pub version: String,
    /// The file it was loaded from.
    pub file: String,
    pub title: String,
    pub languages: Vec<String>,
    pub rules: Vec<Rule>,
}

impl Pack {
    /// `{declared version}+{content hash}`: what decisions record.
    pub fn version(&self) -> &str {
        &self.version
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    pack: Spanned<RawHeader>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: Option<Spanned<String>>,
    scope: Option<Spanned<String>>,
    version: Option<Spanned<String>>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    languages: Vec<String>,
    #[serde(default)]
    exceptions: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    #[serde(default)]
    categories: Vec<Spanned<String>>,
    #[serde(default)]
    keywords: Vec<Spanned<String>>,
    #[serde(default)]
    exceptions: Vec<Spanned<String>>,
    qualification: Option<Spanned<String>>,
    effective_from: Option<Spanned<toml::value::Datetime>>,
    effective_until: Option<Spanned<toml::value::Datetime>>,
    citation: Option<Spanned<String>>,
    summary: Option<String>,
    #[serde(default)]
    match_categories: Vec<Spanned<String>>,
    #[serde(default)]
    review_only: bool,
    #[serde(default)]
    weak_in: Vec<Spanned<String>>,
    #[serde(default)]
    replaces: Vec<Spanned<String>>,
}

/// Collects problems with their line numbers while a file is checked.
struct Checker<'a> {
    file: &'a str,
    text: &'a str,
    issues: Vec<PackIssue>,
}

impl Checker<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn issue(&mut self, offset: usize, rule: Option<&str>, reason: impl Into<String>) {
        let line = self.line(offset);
        self.issues.push(PackIssue {
            file: self.file.to_string(),
            line,
            rule_id: rule.map(str::to_string),
            reason: reason.into(),
        });
    }
}

/// Parses and checks one pack. All problems in the file are reported.
pub(crate) fn parse_pack(
    file: &str,
    text: &str,
    taxonomy: &Taxonomy,
) -> Result<Pack, Vec<PackIssue>> {
    let mut ck = Checker {
        file,
        text,
        issues: Vec::new(),
    };
    let raw: RawFile = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            let at = e.span().map(|s| s.start).unwrap_or(0);
            let msg = e.message().to_string();
            ck.issue(at, None, msg);
            return Err(ck.issues);
        }
    };
    let header_at = raw.pack.span().start;
    let header = raw.pack.into_inner();

    let name = match header.name {
        Some(n) if valid_pack_name(n.get_ref()) => n.into_inner(),
        Some(n) => {
            ck.issue(
                n.span().start,
                None,
                format!(
                    "pack name {:?} must be 1 to 64 lower-case ASCII letters, digits, '-' or '_'",
                    n.get_ref()
                ),
            );
            String::new()
        }
        None => {
            ck.issue(header_at, None, "[pack] needs a name");
            String::new()
        }
    };
    let scope = match header.scope {
        Some(s) => match Scope::parse(s.get_ref()) {
            Some(sc) => Some(sc),
            None => {
                ck.issue(
                    s.span().start,
                    None,
                    format!(
                        "scope {:?} must be \"*\", \"EU\" or an ISO 3166-1 alpha-2 region code",
                        s.get_ref()
                    ),
                );
                None
            }
        },
        None => {
            ck.issue(
                header_at,
                None,
                "[pack] needs a scope (\"*\", \"EU\" or a region code)",
            );
            None
        }
    };
    let version = match header.version {
        Some(v) if !v.get_ref().trim().is_empty() && v.get_ref().len() <= 64 => v.into_inner(),
        Some(v) => {
            ck.issue(v.span().start, None, "version must be 1 to 64 characters");
            String::new()
        }
        None => {
            ck.issue(header_at, None, "[pack] needs a version");
            String::new()
        }
    };
    let mut pack_exc = Vec::new();
    for e in &header.exceptions {
        if let Some(p) = compile_pattern(&mut ck, e, None, "exception") {
            pack_exc.push((e.get_ref().clone(), p));
        }
    }

    let mut rules = Vec::new();
    let mut seen = std::collections::HashMap::new();
    if raw.rule.is_empty() {
        ck.issue(header_at, None, "the pack has no [[rule]]");
    }
    for sr in raw.rule {
        let at = sr.span().start;
        let r = sr.into_inner();
        if let Some(rule) = check_rule(&mut ck, at, r, &name, taxonomy, &pack_exc) {
            if let Some(prev) = seen.insert(rule.id.clone(), rule.line) {
                let line = rule.line;
                ck.issues.push(PackIssue {
                    file: file.to_string(),
                    line,
                    rule_id: Some(rule.id.clone()),
                    reason: format!("duplicate rule id (first defined on line {prev})"),
                });
            }
            rules.push(rule);
        }
    }

    let content_hash = hex::encode(&Sha256::digest(text.as_bytes())[..6]);
    match scope {
        Some(scope) if ck.issues.is_empty() => Ok(Pack {
            name,
            scope,
            version: format!("{version}+{content_hash}"),
            content_hash,
            declared_version: version,
            file: file.to_string(),
            title: header.title,
            languages: header.languages,
            rules,
        }),
        _ => Err(ck.issues),
    }
}

fn valid_pack_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn check_rule(
    ck: &mut Checker<'_>,
    at: usize,
    r: RawRule,
    pack: &str,
    taxonomy: &Taxonomy,
    pack_exc: &[(String, Pattern)],
) -> Option<Rule> {
    let before = ck.issues.len();
    let id = match &r.id {
        Some(id) => {
            if let Err(e) = shopshield_model::validate_id("id", id.get_ref()) {
                ck.issue(
                    id.span().start,
                    None,
                    format!("rule id {:?} {}", id.get_ref(), e.reason),
                );
            }
            id.get_ref().clone()
        }
        None => {
            ck.issue(at, None, "[[rule]] needs an id");
            String::new()
        }
    };
    let rid = Some(id.as_str()).filter(|s| !s.is_empty());
    let kind = match &r.kind {
        Some(k) if k.get_ref() == "prohibited" => Some(RuleKind::Prohibited),
        Some(k) if k.get_ref() == "restricted" => Some(RuleKind::Restricted),
        Some(k) => {
            ck.issue(
                k.span().start,
                rid,
                format!(
                    "kind {:?} must be \"prohibited\" or \"restricted\"",
                    k.get_ref()
                ),
            );
            None
        }
        None => {
            ck.issue(at, rid, "needs a kind (\"prohibited\" or \"restricted\")");
            None
        }
    };
    if r.categories.is_empty() {
        ck.issue(
            at,
            rid,
            "needs at least one category (a taxonomy id, \"group/*\" or \"*\")",
        );
    }
    for c in r
        .categories
        .iter()
        .chain(&r.match_categories)
        .chain(&r.weak_in)
    {
        let s = c.get_ref();
        let known = s == "*"
            || taxonomy.get(s).is_some()
            || s.strip_suffix("/*").is_some_and(|g| {
                taxonomy
                    .categories()
                    .iter()
                    .any(|t| t.id.split_once('/').is_some_and(|(tg, _)| tg == g))
            });
        if !known {
            ck.issue(c.span().start, rid, format!("unknown category {s:?}"));
        }
    }
    for w in &r.weak_in {
        let s = w.get_ref();
        if r.categories.iter().any(|c| c.get_ref() == s && s != "*") {
            ck.issue(
                w.span().start,
                rid,
                format!("category {s:?} is in both categories and weak_in"),
            );
        }
        if s == "*" {
            ck.issue(
                w.span().start,
                rid,
                "weak_in = [\"*\"] would make every keyword weak; list the categories where the goods cannot be",
            );
        }
        if r.match_categories.iter().any(|c| c.get_ref() == s) {
            ck.issue(
                w.span().start,
                rid,
                format!("category {s:?} is in both match_categories and weak_in"),
            );
        }
    }
    if !r.weak_in.is_empty() && r.keywords.is_empty() {
        ck.issue(at, rid, "weak_in needs keywords: it scopes keyword matches");
    }
    if r.keywords.is_empty() && r.match_categories.is_empty() {
        ck.issue(
            at,
            rid,
            "empty rule: it has no keywords and no match_categories",
        );
    }
    let mut kw = Vec::new();
    for k in &r.keywords {
        if let Some(p) = compile_pattern(ck, k, rid, "keyword") {
            kw.push(p);
        }
    }
    let mut exc = Vec::new();
    let mut exc_src = Vec::new();
    for e in &r.exceptions {
        if let Some(p) = compile_pattern(ck, e, rid, "exception") {
            exc.push(p);
            exc_src.push(e.get_ref().clone());
        }
    }
    for (src, p) in pack_exc {
        exc.push(p.clone());
        exc_src.push(src.clone());
    }
    let qualification = match (&kind, &r.qualification) {
        (Some(RuleKind::Restricted), None) => {
            ck.issue(
                at,
                rid,
                "a restricted rule needs the qualification a seller must hold",
            );
            None
        }
        (Some(RuleKind::Prohibited), Some(q)) => {
            ck.issue(
                q.span().start,
                rid,
                "a prohibited rule cannot name a qualification (use kind = \"restricted\")",
            );
            None
        }
        (_, Some(q)) => {
            if let Err(e) = shopshield_model::validate_id("qualification", q.get_ref()) {
                ck.issue(q.span().start, rid, format!("qualification {}", e.reason));
            }
            Some(q.get_ref().clone())
        }
        (_, None) => None,
    };
    let from = r.effective_from.as_ref().and_then(|d| to_utc(ck, d, rid));
    let until = r.effective_until.as_ref().and_then(|d| to_utc(ck, d, rid));
    if let (Some(f), Some(u)) = (from, until)
        && f >= u
    {
        ck.issue(at, rid, "effective_from must be before effective_until");
    }
    let citation = match &r.citation {
        Some(c) if !c.get_ref().trim().is_empty() => c.get_ref().clone(),
        _ => {
            ck.issue(
                at,
                rid,
                "needs a citation (the law it follows, or \"platform policy\")",
            );
            String::new()
        }
    };
    let replaces: Vec<String> = r.replaces.iter().map(|s| s.get_ref().clone()).collect();
    if ck.issues.len() > before {
        return None;
    }
    let kind = kind?;
    let summary = r.summary.unwrap_or_else(|| match kind {
        RuleKind::Prohibited => "This product may not be sold in this region.".to_string(),
        RuleKind::Restricted => {
            "This product may only be sold by a seller holding the required qualification."
                .to_string()
        }
    });
    Some(Rule {
        id,
        pack: pack.to_string(),
        kind,
        categories: r.categories.iter().map(|c| c.get_ref().clone()).collect(),
        keywords: r.keywords.iter().map(|k| k.get_ref().clone()).collect(),
        exceptions: exc_src,
        qualification,
        effective_from: from,
        effective_until: until,
        citation,
        summary,
        match_categories: r
            .match_categories
            .iter()
            .map(|c| c.get_ref().clone())
            .collect(),
        review_only: r.review_only,
        weak_in: r.weak_in.iter().map(|c| c.get_ref().clone()).collect(),
        replaces,
        line: ck.line(at),
        kw,
        exc,
    })
}

fn to_utc(
    ck: &mut Checker<'_>,
    d: &Spanned<toml::value::Datetime>,
    rid: Option<&str>,
) -> Option<DateTime<Utc>> {
    let dt = d.get_ref();
    let date = dt.date.as_ref().and_then(|x| {
        NaiveDate::from_ymd_opt(i32::from(x.year), u32::from(x.month), u32::from(x.day))
    });
    let Some(date) = date else {
        ck.issue(
            d.span().start,
            rid,
            "effective dates must be dates, e.g. 2025-06-01",
        );
        return None;
    };
    let (h, m, s) = dt
        .time
        .as_ref()
        .map(|t| (u32::from(t.hour), u32::from(t.minute), u32::from(t.second)))
        .unwrap_or((0, 0, 0));
    let naive = date.and_hms_opt(h, m, s)?;
    let offset_min = match dt.offset {
        Some(toml::value::Offset::Custom { minutes }) => i64::from(minutes),
        _ => 0,
    };
    Some(Utc.from_utc_datetime(&naive) - chrono::Duration::minutes(offset_min))
}

fn category_in(list: &[String], cat: &str) -> bool {
    list.iter().any(|c| {
        c == "*"
            || c == cat
            || c.strip_suffix("/*")
                .is_some_and(|g| cat.split_once('/').is_some_and(|(cg, _)| cg == g))
    })
}

/// Checks and normalises one keyword or exception.
///
/// Syntax: a word or phrase; a `*` at the start or the end lifts the word
/// boundary on that side (`*vape*` matches inside longer words). Anything
/// else that is not a letter or digit is a separator, as in listing text.
fn compile_pattern(
    ck: &mut Checker<'_>,
    s: &Spanned<String>,
    rid: Option<&str>,
    what: &str,
) -> Option<Pattern> {
    let raw = s.get_ref();
    let at = s.span().start;
    let bad = |ck: &mut Checker<'_>, why: &str| {
        ck.issue(at, rid, format!("bad {what} pattern {raw:?}: {why}"));
        None
    };
    if raw.len() > MAX_PATTERN_LEN {
        return bad(ck, &format!("longer than {MAX_PATTERN_LEN} bytes"));
    }
    if raw.chars().any(char::is_control) {
        return bad(ck, "contains a control character");
    }
    let t = raw.trim();
    let (left_free, t) = match t.strip_prefix('*') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (right_free, t) = match t.strip_suffix('*') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    if t.contains('*') {
        return bad(ck, "'*' may only stand at the start or the end");
    }
    let n = norm::normalize(t);
    let text = n.text().to_string();
    let chars = text.chars().filter(|c| !c.is_whitespace()).count();
    if chars == 0 {
        return bad(ck, "has no letters or digits");
    }
    let spaced = text.chars().any(is_spaced_script);
    if spaced && chars < 2 {
        return bad(ck, "a single letter would match almost everything");
    }
    if (left_free || right_free) && spaced && chars < 4 {
        return bad(ck, "a wildcard needs at least 4 letters beside it");
    }
    let first = text.chars().next().is_some_and(is_spaced_script);
    let last = text.chars().last().is_some_and(is_spaced_script);
    Some(Pattern {
        norm: text,
        left: first && !left_free,
        right: last && !right_free,
    })
}

/// True for letters and digits of scripts that separate words with spaces.
/// Thai, Lao, Khmer, Myanmar, Chinese and Japanese do not, so keywords in
/// those scripts match as substrings.
pub(crate) fn is_spaced_script(c: char) -> bool {
    (c.is_alphanumeric() || matches!(c, '\u{0300}'..='\u{036F}')) && !is_unspaced(c)
}

pub(crate) fn is_unspaced(c: char) -> bool {
    matches!(c,
        '\u{0E00}'..='\u{0EFF}'     // Thai, Lao
        | '\u{1000}'..='\u{109F}'   // Myanmar
        | '\u{1780}'..='\u{17FF}'   // Khmer
        | '\u{2E80}'..='\u{9FFF}'   // CJK radicals, kana, CJK ideographs
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FF66}'..='\u{FF9F}'
        | '\u{20000}'..='\u{3FFFF}')
}
