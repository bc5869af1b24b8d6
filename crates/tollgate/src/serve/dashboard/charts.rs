//! Small SVG charts for the dashboard, written by hand: vertical bars (findings by severity), a
//! line over time (requests per minute) and one stacked bar (the status mix of a route).
//!
//! Every chart is a `viewBox` in user units that CSS scales to its box, and colours come from
//! CSS classes, never from inline styles (the CSP allows no `style` attributes). Geometry is
//! computed first, in plain numbers a test can check, then written out as markup. Labels are
//! XML-escaped here, because the templates include the finished markup unescaped.

use std::fmt::{self, Write as _};

/// Finished SVG markup, safe to include in a page as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Svg(String);

impl Svg {
    /// The markup.
    #[cfg(test)]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Svg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One bar, or one part of a stacked bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// What it counts (`high`, `2xx`).
    pub label: String,
    /// How many.
    pub value: u64,
    /// The CSS class that colours it (`sev-high`, `status-2xx`).
    pub class: String,
}

impl Part {
    /// A part from its label, value and class.
    pub fn new(label: &str, value: u64, class: &str) -> Part {
        Part {
            label: label.to_owned(),
            value,
            class: class.to_owned(),
        }
    }
}

/// One series of a line chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series<'a> {
    /// What it counts, for the accessible description.
    pub label: &'a str,
    /// One value per step, oldest first.
    pub values: &'a [u64],
    /// The CSS class that colours the line.
    pub class: &'a str,
}

/// A rectangle in chart units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// Height of the label row under bar charts and line charts.
const LABEL_ROW: f64 = 16.0;
/// Height kept above the tallest bar for its value.
const VALUE_ROW: f64 = 14.0;
/// Lines with at most this many points mark each point.
const MAX_DOTS: usize = 90;
/// The share of its slot a bar fills; the rest is the gap between bars.
const BAR_FILL: f64 = 0.6;

/// The rectangles of vertical bars for `values` in a plot `width` wide and `height` tall, with
/// the origin at the plot's top left: the largest value gets the full height, zero gets none,
/// and all-zero data draws empty bars (no division by zero).
pub fn bar_rects(values: &[u64], width: f64, height: f64) -> Vec<Rect> {
    let max = values.iter().copied().max().unwrap_or(0);
    let slot = if values.is_empty() {
        0.0
    } else {
        width / values.len() as f64
    };
    values
        .iter()
        .enumerate()
        .map(|(i, &value)| {
            let bar_height = scaled(value, max, height);
            Rect {
                x: slot * i as f64 + slot * (1.0 - BAR_FILL) / 2.0,
                y: height - bar_height,
                width: slot * BAR_FILL,
                height: bar_height,
            }
        })
        .collect()
}

/// The points of a line through `values` across `width`, with `height` for the largest value
/// (y grows downwards, so the largest value sits at y = 0 and zero at y = `height`). A single
/// value is drawn as a flat line across the whole width.
pub fn line_points(values: &[u64], max: u64, width: f64, height: f64) -> Vec<(f64, f64)> {
    match values {
        [] => Vec::new(),
        [only] => {
            let y = height - scaled(*only, max, height);
            vec![(0.0, y), (width, y)]
        }
        _ => {
            let step = width / (values.len() - 1) as f64;
            values
                .iter()
                .enumerate()
                .map(|(i, &value)| (step * i as f64, height - scaled(value, max, height)))
                .collect()
        }
    }
}

/// The segments of a stacked bar `width` wide: each part's share of the total, left to right,
/// zero parts left out; no segments when the total is zero.
pub fn stacked_segments(values: &[u64], width: f64) -> Vec<(usize, f64, f64)> {
    let total: u64 = values.iter().sum();
    if total == 0 {
        return Vec::new();
    }
    let mut x = 0.0;
    let mut segments = Vec::new();
    for (i, &value) in values.iter().enumerate() {
        if value == 0 {
            continue;
        }
        let w = value as f64 / total as f64 * width;
        segments.push((i, x, w));
        x += w;
    }
    segments
}

/// `value` out of `max` as a length out of `full`; zero when `max` is zero.
fn scaled(value: u64, max: u64, full: f64) -> f64 {
    if max == 0 {
        0.0
    } else {
        value.min(max) as f64 / max as f64 * full
    }
}

/// Vertical bars with the value above each bar and the label under it.
pub fn bars(parts: &[Part], width: u32, height: u32, description: &str) -> Svg {
    let (w, h) = (f64::from(width), f64::from(height));
    let plot = (h - LABEL_ROW - VALUE_ROW).max(0.0);
    let values: Vec<u64> = parts.iter().map(|p| p.value).collect();
    let mut out = open(width, height, "chart chart-bars", description);
    for (part, rect) in parts.iter().zip(bar_rects(&values, w, plot)) {
        let top = rect.y + VALUE_ROW;
        let centre = rect.x + rect.width / 2.0;
        let _ = write!(
            out,
            "<rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}: {}</title></rect>\
             <text class=\"chart-value\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\
             <text class=\"chart-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            escape(&part.class),
            num(rect.x),
            num(top),
            num(rect.width),
            num(rect.height),
            escape(&part.label),
            part.value,
            num(centre),
            num(top - 3.0),
            part.value,
            num(centre),
            num(h - 4.0),
            escape(&part.label),
        );
    }
    let _ = write!(
        out,
        "<line class=\"chart-axis\" x1=\"0\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\"/>",
        num(VALUE_ROW + plot),
        num(w)
    );
    out.push_str("</svg>");
    Svg(out)
}

/// Lines over time on one scale, with the largest value marked and `first` and `last` (the
/// times at either end) under the plot.
pub fn line(
    series: &[Series<'_>],
    first: &str,
    last: &str,
    width: u32,
    height: u32,
    description: &str,
) -> Svg {
    let (w, h) = (f64::from(width), f64::from(height));
    let plot = (h - LABEL_ROW - VALUE_ROW).max(0.0);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0);
    let mut out = open(width, height, "chart chart-line", description);
    let _ = write!(
        out,
        "<line class=\"chart-grid\" x1=\"0\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\"/>\
         <text class=\"chart-value\" x=\"0\" y=\"{2}\">max {3}/min</text>",
        num(VALUE_ROW),
        num(w),
        num(VALUE_ROW - 3.0),
        max
    );
    for s in series {
        let points = line_points(s.values, max, w, plot);
        if points.is_empty() {
            continue;
        }
        let text: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{},{}", num(*x), num(y + VALUE_ROW)))
            .collect();
        let _ = write!(
            out,
            "<polyline class=\"{}\" fill=\"none\" points=\"{}\"><title>{}</title></polyline>",
            escape(s.class),
            text.join(" "),
            escape(s.label)
        );
        // With few points a line hides where the measurements are (one minute of traffic is a
        // flat line): mark them.
        if s.values.len() <= MAX_DOTS {
            for (x, y) in &points {
                let _ = write!(
                    out,
                    "<circle class=\"chart-dot {}\" cx=\"{}\" cy=\"{}\" r=\"3\"/>",
                    escape(s.class),
                    num(*x),
                    num(y + VALUE_ROW)
                );
            }
        }
    }
    let _ = write!(
        out,
        "<line class=\"chart-axis\" x1=\"0\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\"/>\
         <text class=\"chart-label\" x=\"0\" y=\"{2}\">{3}</text>\
         <text class=\"chart-label\" x=\"{1}\" y=\"{2}\" text-anchor=\"end\">{4}</text></svg>",
        num(VALUE_ROW + plot),
        num(w),
        num(h - 4.0),
        escape(first),
        escape(last)
    );
    Svg(out)
}

/// One horizontal bar split into parts by their share of the total (an empty track when
/// everything is zero).
pub fn stacked(parts: &[Part], width: u32, height: u32, description: &str) -> Svg {
    let (w, h) = (f64::from(width), f64::from(height));
    let values: Vec<u64> = parts.iter().map(|p| p.value).collect();
    let mut out = open(width, height, "chart chart-stacked", description);
    let _ = write!(
        out,
        "<rect class=\"chart-track\" x=\"0\" y=\"0\" width=\"{}\" height=\"{}\"/>",
        num(w),
        num(h)
    );
    for (i, x, segment) in stacked_segments(&values, w) {
        let Some(part) = parts.get(i) else { continue };
        let _ = write!(
            out,
            "<rect class=\"{}\" x=\"{}\" y=\"0\" width=\"{}\" height=\"{}\"><title>{}: {}</title></rect>",
            escape(&part.class),
            num(x),
            num(segment),
            num(h),
            escape(&part.label),
            part.value
        );
    }
    out.push_str("</svg>");
    Svg(out)
}

fn open(width: u32, height: u32, class: &str, description: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"{class}\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"{}\">",
        escape(description)
    )
}

/// A coordinate with one decimal, and never `NaN` or infinite (written as 0).
fn num(value: f64) -> String {
    if value.is_finite() {
        let rounded = (value * 10.0).round() / 10.0;
        // `-0` reads oddly in markup.
        format!("{}", if rounded == 0.0 { 0.0 } else { rounded })
    } else {
        "0".to_owned()
    }
}

/// Text for XML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tallest_bar_has_the_full_height_and_the_others_their_share() {
        let rects = bar_rects(&[2, 8, 4, 0], 400.0, 100.0);
        assert_eq!(rects.len(), 4);
        assert_eq!(rects[1].height, 100.0);
        assert_eq!(rects[1].y, 0.0);
        assert_eq!(rects[0].height, 25.0);
        assert_eq!(rects[0].y, 75.0);
        assert_eq!(rects[2].height, 50.0);
        assert_eq!(rects[3].height, 0.0);
        assert_eq!(rects[3].y, 100.0, "a zero bar sits on the axis");
        // Slots of 100, bars of 60 centred in them.
        assert_eq!(rects[0].x, 20.0);
        assert_eq!(rects[0].width, 60.0);
        assert_eq!(rects[3].x, 320.0);
    }

    #[test]
    fn zero_data_draws_flat_bars_lines_and_an_empty_stack_without_nan() {
        let rects = bar_rects(&[0, 0, 0], 300.0, 80.0);
        assert!(rects.iter().all(|r| r.height == 0.0 && r.y == 80.0));
        assert!(bar_rects(&[], 300.0, 80.0).is_empty());
        assert_eq!(
            line_points(&[0, 0], 0, 100.0, 50.0),
            vec![(0.0, 50.0), (100.0, 50.0)]
        );
        assert!(stacked_segments(&[0, 0, 0], 100.0).is_empty());

        let parts = [Part::new("high", 0, "sev-high")];
        for svg in [
            bars(&parts, 300, 120, "none"),
            bars(&[], 300, 120, "none"),
            line(
                &[Series {
                    label: "requests",
                    values: &[],
                    class: "series-requests",
                }],
                "",
                "",
                300,
                120,
                "none",
            ),
            stacked(&parts, 300, 16, "none"),
        ] {
            assert!(!svg.as_str().contains("NaN"), "{svg}");
            assert!(!svg.as_str().contains("inf"), "{svg}");
            assert!(svg.as_str().starts_with("<svg ") && svg.as_str().ends_with("</svg>"));
        }
    }

    #[test]
    fn the_largest_value_is_at_the_top_of_the_line_and_zero_at_the_bottom() {
        let points = line_points(&[0, 5, 10], 10, 200.0, 40.0);
        assert_eq!(points, vec![(0.0, 40.0), (100.0, 20.0), (200.0, 0.0)]);
        // One value spans the width so it is visible.
        assert_eq!(
            line_points(&[3], 3, 200.0, 40.0),
            vec![(0.0, 0.0), (200.0, 0.0)]
        );
    }

    #[test]
    fn stacked_segments_share_the_width_in_order_and_skip_zeros() {
        let segments = stacked_segments(&[0, 3, 0, 1], 100.0);
        assert_eq!(segments, vec![(1, 0.0, 75.0), (3, 75.0, 25.0)]);
        let total: f64 = segments.iter().map(|s| s.2).sum();
        assert_eq!(total, 100.0);
    }

    #[test]
    fn bar_markup_uses_classes_for_colour_and_escapes_labels() {
        let svg = bars(
            &[
                Part::new("<high>", 4, "sev-high"),
                Part::new("low", 2, "sev-low"),
            ],
            200,
            100,
            "findings by severity",
        );
        let text = svg.as_str();
        assert!(text.contains("class=\"sev-high\""), "{text}");
        assert!(text.contains("&lt;high&gt;: 4"), "{text}");
        assert!(!text.contains("<high>"), "{text}");
        assert!(!text.contains("style="), "{text}");
        assert!(!text.contains("fill=\"#"), "colours come from CSS: {text}");
        // The plot is 100 - 16 - 14 = 70 tall: the tallest bar is all of it, below the value row.
        assert!(
            text.contains("y=\"14\" width=\"60\" height=\"70\""),
            "{text}"
        );
        assert!(text.contains("height=\"35\""), "{text}");
        assert!(
            text.contains("aria-label=\"findings by severity\""),
            "{text}"
        );
    }

    #[test]
    fn line_markup_puts_both_series_on_one_scale_with_the_end_times() {
        let svg = line(
            &[
                Series {
                    label: "requests",
                    values: &[10, 20],
                    class: "series-requests",
                },
                Series {
                    label: "5xx",
                    values: &[0, 10],
                    class: "series-errors",
                },
            ],
            "09:00",
            "09:01",
            100,
            60,
            "requests per minute",
        );
        let text = svg.as_str();
        // Plot 60 - 16 - 14 = 30 tall, starting at y = 14.
        assert!(text.contains("points=\"0,29 100,14\""), "{text}");
        assert!(text.contains("points=\"0,44 100,29\""), "{text}");
        assert!(text.contains("max 20/min"), "{text}");
        assert!(text.contains(">09:00</text>") && text.contains(">09:01</text>"));
    }

    #[test]
    fn stacked_markup_draws_a_track_and_one_rect_per_non_zero_part() {
        let svg = stacked(
            &[
                Part::new("2xx", 3, "status-2xx"),
                Part::new("4xx", 0, "status-4xx"),
                Part::new("5xx", 1, "status-5xx"),
            ],
            400,
            20,
            "status mix",
        );
        let text = svg.as_str();
        assert!(text.contains("class=\"chart-track\""));
        assert!(text.contains("class=\"status-2xx\" x=\"0\" y=\"0\" width=\"300\""));
        assert!(text.contains("class=\"status-5xx\" x=\"300\" y=\"0\" width=\"100\""));
        assert!(!text.contains("status-4xx"));
    }

    #[test]
    fn coordinates_are_never_nan_or_negative_zero() {
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(f64::INFINITY), "0");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(12.345), "12.3");
    }
}
