//! The compliance report as one self-contained HTML page: inline CSS, hand-written inline SVG
//! charts, no scripts and nothing fetched, so it opens offline, attaches to a ticket, and prints
//! to PDF from any browser (`@media print` starts each section on a new page and keeps the
//! background white). Everything that comes from the input is escaped.

use std::fmt::Write as _;

use super::{SECTIONS, Table};
use crate::compliance::{ComplianceReport, ControlResult, Evidence, Status, Summary};
use crate::rules::Severity;

const CSS: &str = "\
:root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--head:#f3f4f6;--pass:#15803d;--fail:#b91c1c;--na:#6b7280}\
*{box-sizing:border-box}\
body{margin:0;background:#fff;color:var(--fg);font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}\
main{max-width:1200px;margin:0 auto;padding:28px 32px 48px}\
h1{font-size:26px;margin:0 0 6px}\
h2{font-size:20px;margin:36px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}\
h3{font-size:16px;margin:24px 0 8px}\
h4{font-size:14px;margin:0 0 4px;display:flex;gap:10px;align-items:baseline}\
p{margin:6px 0}\
ul{margin:6px 0 10px;padding-left:22px}\
a{color:#1d4ed8}\
code{font:.9em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--head);padding:0 3px;border-radius:3px}\
.muted{color:var(--muted)}\
.lead{font-size:15px}\
.tiles{display:flex;flex-wrap:wrap;gap:12px;margin:14px 0}\
.tile{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:120px}\
.tile b{display:block;font-size:24px;line-height:1.2}\
.tile.pass b{color:var(--pass)}.tile.fail b{color:var(--fail)}.tile.not-assessed b{color:var(--na)}\
.charts{display:flex;flex-wrap:wrap;gap:40px;margin:10px 0 18px}\
.charts figure{margin:0}.charts figcaption{font-weight:600;margin-bottom:6px}\
table{border-collapse:collapse;width:100%;margin:8px 0 16px;font-size:12.5px}\
th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:break-word}\
table.overview td:first-child,table.parts td:first-child{white-space:nowrap}\
th{background:var(--head);font-weight:600}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\
table.kv td:first-child{width:160px;font-weight:600;white-space:nowrap}\
.badge{display:inline-block;padding:0 .6em;border-radius:1em;font-size:.85em;font-weight:600;border:1px solid;white-space:nowrap}\
.badge.pass{color:var(--pass);background:#f0fdf4}\
.badge.fail{color:var(--fail);background:#fef2f2}\
.badge.not-assessed{color:var(--na);background:#f9fafb}\
.sev{font-weight:600}.sev.critical{color:#7f1d1d}.sev.high{color:#b91c1c}.sev.medium{color:#a16207}.sev.low{color:#1d4ed8}.sev.info{color:var(--muted)}\
.control{border:1px solid var(--line);border-left:5px solid var(--na);border-radius:4px;padding:10px 14px 4px;margin:12px 0}\
.control.pass{border-left-color:var(--pass)}.control.fail{border-left-color:var(--fail)}\
.control table{margin:6px 0 10px}\
footer{margin-top:40px;border-top:1px solid var(--line);padding-top:8px;color:var(--muted);font-size:12px}\
@page{size:A4;margin:14mm 12mm}\
@media print{\
body{font-size:10.5px}\
main{max-width:none;padding:0}\
section{break-before:page}\
section:first-of-type{break-before:auto}\
h2,h3,h4{break-after:avoid}\
tr,.tile,figure{break-inside:avoid}\
thead{display:table-header-group}\
table{font-size:9.5px}\
a{color:inherit;text-decoration:none}\
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}\
}";

/// Renders the report as one HTML page.
#[must_use]
pub fn render(report: &ComplianceReport) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta name=\"generator\" content=\"{} {}\">\
         <title>{}</title><style>{CSS}</style></head>\n<body><main>\n",
        esc(report.tool.name),
        esc(report.tool.version),
        esc(&super::title(report)),
    );
    let _ = writeln!(out, "<h1>{}</h1>", esc(&super::title(report)));
    let _ = writeln!(
        out,
        "<p class=\"muted\">{} <a href=\"{}\">{}</a></p>",
        inline(&super::source_line(report)),
        esc(&report.framework.source.url),
        esc(&report.framework.source.url)
    );
    let _ = writeln!(
        out,
        "<p class=\"lead\"><b>{}</b> {}</p>",
        esc(&super::status_line(report)),
        esc(&super::findings_line(report))
    );
    tiles(&mut out, &report.summary);
    let _ = write!(out, "<nav><ol>");
    for (anchor, heading) in SECTIONS {
        let _ = write!(out, "<li><a href=\"#{anchor}\">{}</a></li>", esc(heading));
    }
    out.push_str("</ol></nav>\n");

    for (number, (anchor, heading)) in SECTIONS.iter().enumerate() {
        let _ = writeln!(
            out,
            "<section id=\"{anchor}\"><h2>{}. {}</h2>",
            number + 1,
            esc(heading)
        );
        match number {
            0 => table(&mut out, &super::scope_rows(report), "kv", false),
            1 => match &report.exposure {
                Evidence::Assessed(e) => {
                    paragraph(&mut out, &super::exposure_line(e));
                    table(&mut out, &super::exposure_table(e), "", true);
                }
                Evidence::NotAssessed { reason } => not_assessed(&mut out, reason),
            },
            2 => controls(&mut out, report),
            3 => match &report.certificates {
                Evidence::Assessed(c) => table(&mut out, &super::certificates_table(c), "", true),
                Evidence::NotAssessed { reason } => not_assessed(&mut out, reason),
            },
            4 => match &report.rbac {
                Evidence::Assessed(m) => {
                    table(&mut out, &super::rbac_table(m), "", true);
                    bullets(&mut out, &super::rbac_notes(m));
                }
                Evidence::NotAssessed { reason } => not_assessed(&mut out, reason),
            },
            5 => match &report.history {
                Evidence::Assessed(h) => {
                    bullets(&mut out, &super::history_lines(h));
                    out.push_str("<h3>Changes by kind</h3>");
                    table(&mut out, &super::history_kinds_table(h), "", true);
                    out.push_str("<h3>Changes by actor</h3>");
                    table(&mut out, &super::history_actors_table(h), "", true);
                    out.push_str("<h3>Out-of-band, risky and refused changes</h3>");
                    table(&mut out, &super::history_notable_table(h), "", true);
                    if h.notable_omitted > 0 {
                        paragraph(&mut out, &format!("{} more not listed.", h.notable_omitted));
                    }
                }
                Evidence::NotAssessed { reason } => not_assessed(&mut out, reason),
            },
            6 => match &report.access {
                Evidence::Assessed(a) => {
                    bullets(&mut out, &super::access_lines(a));
                    out.push_str("<h3>Files</h3>");
                    table(&mut out, &super::access_files_table(a), "", true);
                    out.push_str("<h3>Busiest routes</h3>");
                    table(&mut out, &super::access_routes_table(a), "", true);
                    out.push_str("<h3>Alerts by detector</h3>");
                    table(&mut out, &super::access_detectors_table(a), "", true);
                    out.push_str("<h3>Alerts</h3>");
                    table(&mut out, &super::access_alerts_table(a), "", true);
                    if a.alerts_omitted > 0 {
                        paragraph(&mut out, &format!("{} more not listed.", a.alerts_omitted));
                    }
                }
                Evidence::NotAssessed { reason } => not_assessed(&mut out, reason),
            },
            _ => match &report.suppressions {
                Evidence::Assessed(s) => {
                    table(&mut out, &super::suppressions_table(s), "", true);
                    bullets(&mut out, &super::suppression_notes(s));
                }
                Evidence::NotAssessed { reason } => not_assessed(&mut out, reason),
            },
        }
        out.push_str("</section>\n");
    }
    let _ = writeln!(
        out,
        "<footer>{}</footer>\n</main></body></html>",
        inline(&super::colophon(report))
    );
    out
}

fn tiles(out: &mut String, s: &Summary) {
    out.push_str("<div class=\"tiles\">");
    for (class, label, value) in [
        ("", "controls", s.controls),
        ("pass", "pass", s.pass),
        ("fail", "fail", s.fail),
        ("not-assessed", "not assessed", s.not_assessed),
        ("", "findings in force", s.findings),
        ("", "suppressed", s.suppressed),
    ] {
        let _ = write!(
            out,
            "<div class=\"tile {class}\"><b>{value}</b>{label}</div>"
        );
    }
    out.push_str("</div>\n");
}

fn controls(out: &mut String, report: &ComplianceReport) {
    out.push_str("<div class=\"charts\">");
    let _ = write!(
        out,
        "<figure><figcaption>Controls by status</figcaption>{}</figure>",
        status_svg(&report.summary)
    );
    let _ = write!(
        out,
        "<figure><figcaption>Findings in force by severity</figcaption>{}</figure>",
        severity_svg(&report.summary)
    );
    out.push_str("</div>\n");
    overview(out, &report.controls);
    let mut section = "";
    for c in &report.controls {
        if c.section != section {
            section = &c.section;
            let _ = writeln!(out, "<h3>{}</h3>", esc(section));
        }
        control(out, c);
    }
}

/// The overview table: one row per control, the row carrying its id, status and finding count
/// as data attributes for tools that read the page.
fn overview(out: &mut String, controls: &[ControlResult]) {
    let t = super::controls_table(controls);
    out.push_str("<table class=\"overview\"><thead><tr>");
    for (i, h) in t.headers.iter().enumerate() {
        let class = if t.numeric.contains(&i) {
            " class=\"n\""
        } else {
            ""
        };
        let _ = write!(out, "<th{class}>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>\n");
    for (c, row) in controls.iter().zip(&t.rows) {
        let _ = write!(
            out,
            "<tr data-control=\"{}\" data-status=\"{}\" data-findings=\"{}\">",
            esc(&c.id),
            c.status.as_str(),
            c.findings.len()
        );
        for (i, cell) in row.iter().enumerate() {
            cell_html(out, &t, i, cell);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

fn control(out: &mut String, c: &ControlResult) {
    let _ = write!(
        out,
        "<div class=\"control {}\" id=\"control-{}\"><h4><span>{} {}</span>{}</h4>",
        c.status.as_str(),
        anchor(&c.id),
        esc(&c.id),
        esc(&c.title),
        badge(c.status)
    );
    let _ = write!(out, "<p class=\"muted\">{}</p>", esc(&c.summary));
    if !c.reasons.is_empty() {
        let label = if c.status == Status::Fail {
            "Fails on"
        } else {
            "Not assessed"
        };
        let _ = write!(out, "<p><b>{label}:</b></p>");
        bullets(out, &c.reasons);
    }
    if !c.gaps.is_empty() {
        out.push_str("<p><b>Not assessed within it:</b></p>");
        bullets(out, &c.gaps);
    }
    table(out, &super::control_parts(c), "parts", true);
    if !c.findings.is_empty() {
        table(out, &super::findings_table(c), "", true);
    }
    out.push_str("</div>\n");
}

fn badge(status: Status) -> String {
    format!(
        "<span class=\"badge {}\">{}</span>",
        status.as_str(),
        status.label()
    )
}

/// An id attribute value: letters, digits, `.` and `-`; anything else becomes `-`.
fn anchor(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn paragraph(out: &mut String, line: &str) {
    let _ = write!(out, "<p>{}</p>", inline(line));
}

fn not_assessed(out: &mut String, reason: &str) {
    let _ = write!(
        out,
        "<p>{} {}.</p>",
        badge(Status::NotAssessed),
        inline(reason)
    );
}

fn bullets(out: &mut String, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    out.push_str("<ul>");
    for line in lines {
        let _ = write!(out, "<li>{}</li>", inline(line));
    }
    out.push_str("</ul>");
}

/// A table; one without rows is the word "None.". `header` says whether to print the heading
/// row (a key/value table has none).
fn table(out: &mut String, t: &Table, class: &str, header: bool) {
    if t.rows.is_empty() {
        out.push_str("<p class=\"muted\">None.</p>");
        return;
    }
    if class.is_empty() {
        out.push_str("<table>");
    } else {
        let _ = write!(out, "<table class=\"{class}\">");
    }
    if header {
        out.push_str("<thead><tr>");
        for (i, h) in t.headers.iter().enumerate() {
            let class = if t.numeric.contains(&i) {
                " class=\"n\""
            } else {
                ""
            };
            let _ = write!(out, "<th{class}>{}</th>", esc(h));
        }
        out.push_str("</tr></thead>");
    }
    out.push_str("<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            cell_html(out, t, i, cell);
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

fn cell_html(out: &mut String, t: &Table, column: usize, cell: &[String]) {
    let class = if t.numeric.contains(&column) {
        " class=\"n\""
    } else {
        ""
    };
    let _ = write!(out, "<td{class}>");
    for (i, line) in cell.iter().enumerate() {
        if i > 0 {
            out.push_str("<br>");
        }
        if t.status_column == Some(column) {
            let status = match line.as_str() {
                "pass" => Some(Status::Pass),
                "fail" => Some(Status::Fail),
                "not assessed" => Some(Status::NotAssessed),
                _ => None,
            };
            if let Some(status) = status {
                out.push_str(&badge(status));
                continue;
            }
            if line == "assessed" {
                out.push_str("<span class=\"badge pass\">assessed</span>");
                continue;
            }
        }
        if t.severity_column == Some(column)
            && let Ok(severity) = line.parse::<Severity>()
        {
            let _ = write!(
                out,
                "<span class=\"sev {}\">{}</span>",
                severity.as_str(),
                severity.as_str()
            );
            continue;
        }
        out.push_str(&breakable(&inline(line)));
    }
    out.push_str("</td>");
}

/// Escapes text, then shows `quoted` words as code. The backticks are Tollgate's own; one in
/// the input only pairs with another, and what lies between is escaped all the same.
fn inline(text: &str) -> String {
    let escaped = esc(text);
    if !escaped.contains('`') {
        return escaped;
    }
    let mut out = String::with_capacity(escaped.len() + 16);
    let mut parts = escaped.split('`').peekable();
    let mut in_code = false;
    while let Some(part) = parts.next() {
        out.push_str(part);
        if parts.peek().is_none() {
            break;
        }
        // An unpaired last backtick stays a backtick.
        let remaining_ticks = parts.clone().count();
        if !in_code && remaining_ticks < 2 {
            out.push('`');
            continue;
        }
        out.push_str(if in_code { "</code>" } else { "<code>" });
        in_code = !in_code;
    }
    if in_code {
        out.push_str("</code>");
    }
    out
}

/// Lets the browser wrap a cell after `.`, `/` and `,` (host names, paths, lists) rather than
/// in the middle of a name, so narrow columns stay readable. Takes escaped HTML: the characters
/// it breaks after never occur inside an entity, and breaks inside a tag are skipped.
fn breakable(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut in_tag = false;
    for c in html.chars() {
        out.push(c);
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            '.' | '/' | ',' if !in_tag => out.push_str("<wbr>"),
            _ => {}
        }
    }
    out
}

/// Escapes the five characters that matter in HTML text and attribute values.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A stacked bar of control statuses with a legend.
fn status_svg(s: &Summary) -> String {
    const WIDTH: f64 = 360.0;
    let total = s.controls.max(1) as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"86\" \
         viewBox=\"0 0 {WIDTH} 86\" role=\"img\" aria-label=\"{} pass, {} fail, {} not assessed\">",
        s.pass, s.fail, s.not_assessed
    );
    let mut x = 0.0;
    let parts = [
        ("pass", s.pass, "#15803d"),
        ("fail", s.fail, "#b91c1c"),
        ("not assessed", s.not_assessed, "#9ca3af"),
    ];
    for (_, count, color) in parts {
        let w = WIDTH * count as f64 / total;
        if w > 0.0 {
            let _ = write!(
                svg,
                "<rect x=\"{x:.1}\" y=\"0\" width=\"{w:.1}\" height=\"28\" fill=\"{color}\"/>"
            );
        }
        x += w;
    }
    for (i, (label, count, color)) in parts.iter().enumerate() {
        let y = 48 + 14 * (i as i32);
        let _ = write!(
            svg,
            "<rect x=\"0\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{color}\"/>\
             <text x=\"16\" y=\"{}\" font-size=\"12\" fill=\"#1f2937\">{count} {}</text>",
            y - 9,
            y,
            esc(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Horizontal bars of findings per severity.
fn severity_svg(s: &Summary) -> String {
    const LABEL: f64 = 70.0;
    const BAR: f64 = 250.0;
    let colors = [
        (Severity::Critical, "#7f1d1d"),
        (Severity::High, "#dc2626"),
        (Severity::Medium, "#d97706"),
        (Severity::Low, "#2563eb"),
    ];
    let max = colors
        .iter()
        .map(|(sev, _)| s.by_severity.get(*sev))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let height = 22 * colors.len();
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"360\" height=\"{height}\" \
         viewBox=\"0 0 360 {height}\" role=\"img\" aria-label=\"findings by severity\">"
    );
    for (i, (severity, color)) in colors.iter().enumerate() {
        let count = s.by_severity.get(*severity);
        let y = 22 * i;
        let w = BAR * count as f64 / max;
        let _ = write!(
            svg,
            "<text x=\"0\" y=\"{}\" font-size=\"12\" fill=\"#1f2937\">{}</text>\
             <rect x=\"{LABEL}\" y=\"{}\" width=\"{w:.1}\" height=\"14\" fill=\"{color}\"/>\
             <text x=\"{:.1}\" y=\"{}\" font-size=\"12\" fill=\"#1f2937\">{count}</text>",
            y + 13,
            severity.as_str(),
            y + 2,
            LABEL + w + 6.0,
            y + 13
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_escapes_markup_and_pairs_backticks_into_code() {
        assert_eq!(inline("a <b> & \"c\""), "a &lt;b&gt; &amp; &quot;c&quot;");
        assert_eq!(
            inline("set `history.gitops` first"),
            "set <code>history.gitops</code> first"
        );
        assert_eq!(inline("one ` alone"), "one ` alone");
        assert_eq!(
            inline("`<script>` and `x"),
            "<code>&lt;script&gt;</code> and `x"
        );
    }

    #[test]
    fn anchors_keep_only_safe_characters() {
        assert_eq!(anchor("4.2.1"), "4.2.1");
        assert_eq!(anchor("CC6.1"), "CC6.1");
        assert_eq!(anchor("a\"b c"), "a-b-c");
    }
}
