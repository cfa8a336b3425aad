//! Ordering a trace's spans into display rows: depth-first by parent,
//! siblings by start time; spans whose parent is missing become roots, and
//! malformed parent links (cycles) never loop.

use std::collections::HashMap;

use opentelemetry::trace::SpanId;

use super::model::WaterfallSpan;

/// One display row: the span's index in the input, and the tree drawing in
/// front of its name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Row {
    /// Index into the slice given to [`rows`].
    pub index: usize,
    /// Tree glyphs before the name (`├─ `, `│  └─ `, …).
    pub prefix: String,
    /// Glyphs continuing the tree below this span's line (for its events).
    pub continuation: String,
}

/// The display rows for one trace's spans.
pub(crate) fn rows(spans: &[WaterfallSpan]) -> Vec<Row> {
    let by_id: HashMap<SpanId, usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_id, i))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    for (i, span) in spans.iter().enumerate() {
        match by_id.get(&span.parent_span_id) {
            Some(&parent) if span.parent_span_id != SpanId::INVALID && parent != i => {
                children[parent].push(i)
            }
            _ => roots.push(i),
        }
    }
    let by_start = |a: &usize, b: &usize| spans[*a].start.cmp(&spans[*b].start).then(a.cmp(b));
    for list in &mut children {
        list.sort_by(by_start);
    }
    roots.sort_by(by_start);

    let mut out = Vec::with_capacity(spans.len());
    let mut visited = vec![false; spans.len()];
    for root in roots {
        walk(root, &children, &mut visited, &mut out);
    }
    // Spans only reachable through a parent cycle: show them as roots.
    for i in 0..spans.len() {
        if !visited[i] {
            walk(i, &children, &mut visited, &mut out);
        }
    }
    out
}

/// Depth-first walk from `root` with an explicit stack (no recursion, so a
/// very deep or malformed trace cannot overflow the stack).
fn walk(root: usize, children: &[Vec<usize>], visited: &mut [bool], out: &mut Vec<Row>) {
    let mut stack: Vec<(usize, String, Option<bool>)> = vec![(root, String::new(), None)];
    while let Some((index, indent, last)) = stack.pop() {
        if visited[index] {
            continue;
        }
        visited[index] = true;
        let (prefix, child_indent) = match last {
            None => (String::new(), String::new()),
            Some(true) => (format!("{indent}└─ "), format!("{indent}   ")),
            Some(false) => (format!("{indent}├─ "), format!("{indent}│  ")),
        };
        let kids: Vec<usize> = children[index]
            .iter()
            .copied()
            .filter(|k| !visited[*k])
            .collect();
        let continuation = if kids.is_empty() {
            format!("{child_indent}   ")
        } else {
            format!("{child_indent}│  ")
        };
        out.push(Row {
            index,
            prefix,
            continuation,
        });
        let count = kids.len();
        for (n, kid) in kids.into_iter().enumerate().rev() {
            stack.push((kid, child_indent.clone(), Some(n + 1 == count)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanKind, Status, TraceId};
    use std::time::{Duration, UNIX_EPOCH};

    fn span(id: u64, parent: u64, start_ms: u64) -> WaterfallSpan {
        WaterfallSpan {
            trace_id: TraceId::from(1u128),
            span_id: SpanId::from(id),
            parent_span_id: SpanId::from(parent),
            service_name: "svc".into(),
            name: format!("s{id}"),
            kind: SpanKind::Internal,
            start: UNIX_EPOCH + Duration::from_millis(start_ms),
            end: UNIX_EPOCH + Duration::from_millis(start_ms + 1),
            status: Status::Unset,
            attributes: vec![],
            events: vec![],
        }
    }

    fn shape(spans: &[WaterfallSpan]) -> Vec<String> {
        rows(spans)
            .into_iter()
            .map(|r| format!("{}{}", r.prefix, spans[r.index].name))
            .collect()
    }

    #[test]
    fn nests_by_parent_and_orders_siblings_by_start() {
        let spans = vec![
            span(3, 1, 20),
            span(2, 1, 10),
            span(4, 2, 11),
            span(1, 0, 0),
        ];
        assert_eq!(shape(&spans), vec!["s1", "├─ s2", "│  └─ s4", "└─ s3"]);
    }

    #[test]
    fn orphans_become_roots_and_cycles_terminate() {
        let spans = vec![span(5, 9, 0), span(6, 7, 1), span(7, 6, 2), span(8, 8, 3)];
        let shape = shape(&spans);
        assert_eq!(shape.len(), 4);
        assert_eq!(shape[0], "s5");
        assert!(shape.contains(&"s8".to_string()));
    }
}
