//! A transparency report as Markdown or as one self-contained HTML page
//! with inline SVG charts (no scripts, fonts, images or style sheets from
//! anywhere else).

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::{Row, TransparencyReport};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_string(), |v| format!("{:.1}%", v * 100.0))
}

fn secs(v: Option<f64>) -> String {
    match v {
        None => "–".to_string(),
        Some(s) if s < 120.0 => format!("{s:.0} s"),
        Some(s) if s < 7200.0 => format!("{:.1} min", s / 60.0),
        Some(s) => format!("{:.1} h", s / 3600.0),
    }
}

/// The headline numbers as (label, value) pairs, in report order.
pub fn headline(r: &TransparencyReport) -> Vec<(&'static str, String)> {
    let t = &r.totals;
    vec![
        (
            "Listings rejected before listing",
            t.rejected_before_listing.to_string(),
        ),
        (
            "Listings taken down after listing",
            t.taken_down_after_listing.total.to_string(),
        ),
        (
            "… found by us",
            t.taken_down_after_listing.found_by_us.to_string(),
        ),
        (
            "… reported by notices",
            t.taken_down_after_listing.by_notice.to_string(),
        ),
        (
            "Restricted-goods removals",
            t.restricted_removals.to_string(),
        ),
        (
            "Prohibited-goods removals",
            t.prohibited_removals.to_string(),
        ),
        ("Videos removed", t.videos_removed.to_string()),
        ("Livestreams stopped", t.livestreams_stopped.to_string()),
        ("Creators revoked", t.creators_revoked.to_string()),
        ("Shops deactivated", t.shops_deactivated.to_string()),
        ("Notices received", t.notices_received.to_string()),
        ("Notices accepted", t.notices_accepted.to_string()),
        ("Counter-notices", t.counter_notices.to_string()),
        (
            "Notice filers suspended (unfounded notices)",
            t.reporters_restricted.to_string(),
        ),
        ("Review cases opened", t.cases_opened.to_string()),
        ("Review cases cleared", t.cases_cleared.to_string()),
        ("Appeals filed", t.appeals_filed.to_string()),
        ("Appeals decided", t.appeals_decided.to_string()),
        ("Appeals overturned", t.appeals_overturned.to_string()),
        (
            "Share of decided appeals overturned",
            pct(t.overturned_share),
        ),
        ("Median time to action", secs(t.median_time_to_action_secs)),
        ("Proactive share", pct(t.proactive_share)),
    ]
}

fn breakdowns(r: &TransparencyReport) -> [(&'static str, &'static str, &BTreeMap<String, Row>); 4] {
    [
        ("region", "By region", &r.by_region),
        ("category", "By category", &r.by_category),
        ("content_type", "By content type", &r.by_content_type),
        ("kind", "By kind of right or rule", &r.by_kind),
    ]
}

fn scope(r: &TransparencyReport) -> String {
    format!(
        "{} to {} (UTC){}",
        r.period.from.format("%Y-%m-%d %H:%M"),
        r.period.to.format("%Y-%m-%d %H:%M"),
        r.region
            .map(|g| format!(", region {}", g.as_str()))
            .unwrap_or_default()
    )
}

/// The report as Markdown.
pub fn markdown(r: &TransparencyReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Transparency report\n\n{}\n", scope(r));
    let _ = writeln!(s, "| measure | value |\n|---|---|");
    for (k, v) in headline(r) {
        let _ = writeln!(s, "| {k} | {v} |");
    }
    for (_, title, rows) in breakdowns(r) {
        let _ = writeln!(
            s,
            "\n## {title}\n\n| value | restrictions | before listing | after listing | automated | appeals | overturned |\n|---|---|---|---|---|---|---|"
        );
        for (k, row) in rows {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} |",
                k.replace('|', "\\|"),
                row.restrictions,
                row.rejected_before_listing,
                row.taken_down_after_listing,
                row.automated,
                row.appeals,
                row.overturned
            );
        }
        if rows.is_empty() {
            let _ = writeln!(s, "| (none) | 0 | 0 | 0 | 0 | 0 | 0 |");
        }
    }
    let _ = writeln!(
        s,
        "\nFolded from {} log events, {} review and reject decisions and {} notices.",
        r.sources.log_events, r.sources.decisions, r.sources.notices
    );
    s
}

/// A horizontal bar chart of restrictions per value, split into before and
/// after listing, as an inline SVG with a title and description for screen
/// readers.
pub fn bar_chart(id: &str, title: &str, rows: &BTreeMap<String, Row>) -> String {
    const BAR_H: u32 = 22;
    const LABEL_W: u32 = 180;
    const PLOT_W: u32 = 360;
    let n = rows.len().max(1) as u32;
    let h = n * (BAR_H + 6) + 30;
    let max = rows
        .values()
        .map(|r| r.restrictions)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg class="chart" id="chart-{id}" role="img" aria-labelledby="chart-{id}-t chart-{id}-d" width="{w}" height="{h}" viewBox="0 0 {w} {h}" xmlns="http://www.w3.org/2000/svg"><title id="chart-{id}-t">{t}</title><desc id="chart-{id}-d">Restrictions per value; dark: before listing, light: after listing.</desc>"##,
        w = LABEL_W + PLOT_W + 60,
        t = escape(title),
    );
    if rows.is_empty() {
        let _ = write!(
            s,
            r##"<text x="4" y="18" font-size="13" fill="#333">No restrictions in this period.</text>"##
        );
    }
    for (i, (label, row)) in rows.iter().enumerate() {
        let y = i as u32 * (BAR_H + 6) + 4;
        let wb = (row.rejected_before_listing * u64::from(PLOT_W) / max) as u32;
        let wa = (row.taken_down_after_listing * u64::from(PLOT_W) / max) as u32;
        let _ = write!(
            s,
            r##"<g class="bar" data-label="{l}" data-value="{v}"><text x="{lx}" y="{ty}" font-size="13" text-anchor="end" fill="#222">{l}</text><rect x="{x}" y="{y}" width="{wb}" height="{BAR_H}" fill="#1f4e79"/><rect x="{x2}" y="{y}" width="{wa}" height="{BAR_H}" fill="#7fb2e5"/><text x="{vx}" y="{ty}" font-size="13" fill="#222">{v}</text></g>"##,
            l = escape(label),
            v = row.restrictions,
            lx = LABEL_W - 6,
            ty = y + 16,
            x = LABEL_W,
            x2 = LABEL_W + wb,
            vx = LABEL_W + wb + wa + 6,
        );
    }
    s.push_str("</svg>");
    s
}

fn table_html(rows: &BTreeMap<String, Row>, caption: &str) -> String {
    let mut s = format!(
        "<table><caption>{}</caption><thead><tr><th scope=\"col\">value</th><th scope=\"col\">restrictions</th><th scope=\"col\">before listing</th><th scope=\"col\">after listing</th><th scope=\"col\">automated</th><th scope=\"col\">appeals</th><th scope=\"col\">overturned</th></tr></thead><tbody>",
        escape(caption)
    );
    for (k, r) in rows {
        let _ = write!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(k),
            r.restrictions,
            r.rejected_before_listing,
            r.taken_down_after_listing,
            r.automated,
            r.appeals,
            r.overturned
        );
    }
    s.push_str("</tbody></table>");
    s
}

/// The report's body (headline table, charts and breakdown tables), to be
/// placed inside a page.
pub fn html_body(r: &TransparencyReport) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<section class=\"report\"><p class=\"scope\">{}</p><table class=\"totals\"><caption>Headline numbers</caption><tbody>",
        escape(&scope(r))
    );
    for (k, v) in headline(r) {
        let _ = write!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            escape(k),
            escape(&v)
        );
    }
    s.push_str("</tbody></table>");
    for (id, title, rows) in breakdowns(r) {
        let _ = write!(
            s,
            "<h2 id=\"{id}\">{}</h2><figure>{}</figure>{}",
            escape(title),
            bar_chart(id, title, rows),
            table_html(rows, title)
        );
    }
    let _ = write!(
        s,
        "<p class=\"sources\">Folded from {} log events, {} review and reject decisions and {} notices.</p></section>",
        r.sources.log_events, r.sources.decisions, r.sources.notices
    );
    s
}

/// Inline style shared with the console.
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;color:#111;background:#fff;margin:1.5rem;max-width:70rem}\
table{border-collapse:collapse;margin:.75rem 0}th,td{border:1px solid #999;padding:.3rem .6rem;text-align:left}\
caption{font-weight:600;text-align:left;padding:.3rem 0}figure{margin:.5rem 0}.scope{font-weight:600}";

/// The report as a whole HTML page, with no external assets.
pub fn html(r: &TransparencyReport) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Transparency report</title><style>{STYLE}</style></head><body><main><h1>Transparency report</h1>{}</main></body></html>\n",
        html_body(r)
    )
}
