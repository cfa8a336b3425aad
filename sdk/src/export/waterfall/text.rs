//! Text pieces of a waterfall line: durations, bars, attribute values,
//! padding and truncation by displayed width.

use std::time::Duration;

use opentelemetry::Value;

/// A duration with about three significant digits: `850 ns`, `12.3 µs`,
/// `4.56 ms`, `310 ms`, `1.25 s`, `2m 05s`.
pub(crate) fn duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos < 1_000 {
        return format!("{nanos} ns");
    }
    let (value, unit) = if nanos < 1_000_000 {
        (nanos as f64 / 1e3, "µs")
    } else if nanos < 1_000_000_000 {
        (nanos as f64 / 1e6, "ms")
    } else if nanos < 60_000_000_000 {
        (nanos as f64 / 1e9, "s")
    } else {
        let secs = d.as_secs();
        return format!("{}m {:02}s", secs / 60, secs % 60);
    };
    if value < 10.0 {
        format!("{value:.2} {unit}")
    } else if value < 100.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

/// Left-aligned partial blocks, one to seven eighths of a cell.
const LEFT_EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/// A bar of `width` cells covering `[start, end]` (fractions of the whole,
/// 0.0–1.0) at one-eighth-cell resolution. Cells outside the span are
/// `track`. A span always shows at least a sliver.
pub(crate) fn bar(start: f64, end: f64, width: usize, track: char) -> String {
    let total = (width * 8) as f64;
    let clamp = |x: f64| {
        if x.is_finite() {
            x.clamp(0.0, 1.0)
        } else {
            0.0
        }
    };
    let mut s8 = (clamp(start) * total).floor() as usize;
    let mut e8 = (clamp(end) * total).ceil() as usize;
    let limit = width * 8;
    if s8 >= limit {
        s8 = limit.saturating_sub(1);
    }
    if e8 <= s8 {
        e8 = s8 + 1;
    }
    let e8 = e8.min(limit);
    let mut out = String::with_capacity(width * 3);
    for cell in 0..width {
        let lo = cell * 8;
        let hi = lo + 8;
        let from = s8.max(lo);
        let to = e8.min(hi);
        if to <= from {
            out.push(track);
        } else if from == lo && to == hi {
            out.push('█');
        } else if from == lo {
            out.push(LEFT_EIGHTHS[to - lo]);
        } else if to == hi {
            // Only a right-hand part of the cell is covered.
            out.push(if hi - from >= 4 { '▐' } else { '▕' });
        } else {
            // A sliver inside one cell.
            out.push('▏');
        }
    }
    out
}

/// A single marker at `at` (fraction of the whole) on a track.
pub(crate) fn marker(at: f64, width: usize, mark: char, track: char) -> String {
    let cell = if at.is_finite() {
        ((at.clamp(0.0, 1.0) * width as f64) as usize).min(width.saturating_sub(1))
    } else {
        0
    };
    (0..width)
        .map(|i| if i == cell { mark } else { track })
        .collect()
}

/// An attribute value for display: strings as they are, arrays in brackets.
pub(crate) fn value(v: &Value) -> String {
    match v {
        Value::String(s) => s.as_str().to_string(),
        other => other.to_string(),
    }
}

/// The number of terminal columns `s` takes (one per char; the glyphs used
/// here are all single-width).
pub(crate) fn width(s: &str) -> usize {
    s.chars().count()
}

/// `s` cut to at most `max` columns, ending with `…` when cut. Control
/// characters (which could garble a terminal) are replaced.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    let clean = |c: char| if c.is_control() { '�' } else { c };
    if width(s) <= max {
        return s.chars().map(clean).collect();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).map(clean).collect();
    out.push('…');
    out
}

/// `s` padded with spaces to `cols` columns.
pub(crate) fn pad(s: &str, cols: usize) -> String {
    let mut out = s.to_string();
    for _ in width(s)..cols {
        out.push(' ');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_three_significant_digits() {
        assert_eq!(duration(Duration::from_nanos(850)), "850 ns");
        assert_eq!(duration(Duration::from_nanos(12_340)), "12.3 µs");
        assert_eq!(duration(Duration::from_micros(4_561)), "4.56 ms");
        assert_eq!(duration(Duration::from_millis(310)), "310 ms");
        assert_eq!(duration(Duration::from_millis(1_250)), "1.25 s");
        assert_eq!(duration(Duration::from_secs(125)), "2m 05s");
    }

    #[test]
    fn bars_place_start_and_length() {
        assert_eq!(bar(0.0, 1.0, 4, '·'), "████");
        assert_eq!(bar(0.5, 1.0, 4, '·'), "··██");
        assert_eq!(bar(0.0, 0.25 + 1.0 / 32.0, 4, '·'), "█▏··");
        assert_eq!(bar(0.125, 0.5, 4, '·'), "▐█··");
        assert_eq!(bar(0.125 + 1.0 / 32.0, 0.5, 4, '·'), "▕█··");
        // Zero-length spans still show.
        assert_eq!(bar(0.5, 0.5, 4, '·'), "··▏·");
        assert_eq!(bar(1.0, 1.0, 4, '·'), "···▕");
        assert_eq!(bar(f64::NAN, 2.0, 2, ' '), "██");
    }

    #[test]
    fn markers_and_truncation() {
        assert_eq!(marker(0.5, 4, '◆', '·'), "··◆·");
        assert_eq!(marker(1.0, 4, '◆', '·'), "···◆");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("a\nb", 4), "a�b");
        assert_eq!(pad("ab", 4), "ab  ");
    }
}
