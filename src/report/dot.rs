//! The deployment diagram as Graphviz DOT (`--dot FILE`), for people who want to restyle or
//! re-lay it out: the same nodes, role groups (clusters), tiers (ranks) and lines as the
//! report's SVG. Owns the DOT syntax and its escaping; must not compute anything the `Summary`
//! lacks, and writes every string as an escaped DOT quoted string ([`escape`]).
//!
//! Styles: working solid, rejected a double line (`color="red:invis:red"`) with "✕ REJECTED",
//! unanswered dashed, not seen dotted and grey, unexpected bold dashed with a `vee` arrowhead
//! and "!" (DOT has no dash-dot). Every label also says its status in words.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use super::graph::{label_lines, End, Graph, LineClass, NodeKind, TIER_NAMES};
use super::Summary;

/// Escapes text for a DOT double-quoted string: `"` and `\` are escaped (so Graphviz's own
/// `\N`, `\G`, `\l`… escapes cannot be smuggled in), a newline becomes `\n`, other control
/// characters become U+FFFD.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c == '"' || c == '\\' || c.is_control())
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn q(text: &str) -> String {
    format!("\"{}\"", escape(text))
}

fn attrs(class: LineClass) -> &'static str {
    match class {
        LineClass::Working => "color=\"#2e7d32\", fontcolor=\"#1b5e20\", penwidth=1.6",
        LineClass::Rejected => {
            "color=\"#c62828:invis:#c62828\", fontcolor=\"#c62828\", penwidth=1.6, arrowhead=tee"
        }
        LineClass::Unanswered => {
            "style=dashed, color=\"#d35400\", fontcolor=\"#a04000\", penwidth=2"
        }
        LineClass::NotSeen => {
            "style=dotted, color=\"#a3a8b0\", fontcolor=\"#6b717a\", penwidth=1.2"
        }
        LineClass::Unexpected => {
            "style=\"dashed,bold\", color=\"#6a1b9a\", fontcolor=\"#6a1b9a\", penwidth=2.4, arrowhead=vee"
        }
    }
}

/// Writes the diagram of the summary's verdict (an empty graph with a note when there is none).
///
/// # Errors
/// Any error from the writer.
pub fn write_dot(out: &mut impl Write, summary: &Summary) -> io::Result<()> {
    out.write_all(render(summary).as_bytes())
}

/// The DOT text (deterministic: same summary, same bytes).
pub fn render(summary: &Summary) -> String {
    let mut d = String::new();
    let inputs: Vec<&str> = summary.inputs.iter().map(|i| i.path.as_str()).collect();
    let _ = writeln!(
        d,
        "// rdsflows {}: deployment diagram for {}\n// Render it with: dot -Tsvg THIS_FILE -o diagram.svg",
        env!("CARGO_PKG_VERSION"),
        inputs.join(", ").replace(['\n', '\r'], " ")
    );
    d.push_str("digraph rdsflows {\n");
    let Some(verdict) = &summary.verdict else {
        let _ = writeln!(d, "  label={};\n}}", q("no verdict was computed"));
        return d;
    };
    let c = &verdict.counts;
    let title = format!(
        "{}: {} expected flows: {} working, {} rejected, {} unanswered, {} not seen; {} unexpected",
        verdict.deployment.origin,
        c.expected,
        c.working,
        c.rejected,
        c.unanswered,
        c.not_seen,
        c.unexpected
    );
    let _ = writeln!(
        d,
        "  graph [rankdir=LR, newrank=true, compound=true, nodesep=0.25, ranksep=1.1, fontname=\"Helvetica\", fontsize=12, labelloc=t, label={}];",
        q(&title)
    );
    d.push_str("  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\", color=\"#44505e\", fontname=\"Helvetica\", fontsize=10];\n");
    d.push_str("  edge [fontname=\"Helvetica\", fontsize=9];\n");
    let graph = Graph::from_verdict(verdict);
    for (g, group) in graph.groups.iter().enumerate() {
        let _ = writeln!(
            d,
            "  subgraph cluster_g{g} {{\n    label={}; style=\"rounded,filled\"; fillcolor=\"#f4f6f9\"; color=\"#8894a3\"; fontsize=11;",
            q(&group.title)
        );
        for n in &group.nodes {
            if let Some(node) = graph.nodes.get(*n) {
                let _ = writeln!(
                    d,
                    "    n{n} [label={}, tooltip={}];",
                    q(&format!("{}\n{}", node.name, node.detail)),
                    q(&node.key)
                );
            }
        }
        d.push_str("  }\n");
    }
    for (tier, name) in TIER_NAMES.iter().enumerate() {
        // Administrators and the outbound internet are left free: Graphviz places them best
        // beside the boxes they talk to.
        let nodes: Vec<String> = graph
            .groups
            .iter()
            .filter(|g| g.tier == tier && !g.side)
            .flat_map(|g| g.nodes.iter())
            .filter(|n| {
                graph
                    .nodes
                    .get(**n)
                    .is_some_and(|node| node.kind != NodeKind::InternetOut)
            })
            .map(|n| format!("n{n}"))
            .collect();
        if !nodes.is_empty() {
            let _ = writeln!(d, "  {{ rank=same; {}; }} // {name}", nodes.join("; "));
        }
    }
    let first_node = |g: usize| graph.groups.get(g).and_then(|g| g.nodes.first().copied());
    for line in &graph.lines {
        let (from, ltail) = match line.from {
            End::Node(n) => (Some(n), None),
            End::Group(g) => (first_node(g), Some(g)),
        };
        let (to, lhead) = match line.to {
            End::Node(n) => (Some(n), None),
            End::Group(g) => (first_node(g), Some(g)),
        };
        let (Some(from), Some(to)) = (from, to) else {
            continue;
        };
        let mut extra = String::new();
        if let Some(g) = ltail {
            let _ = write!(extra, ", ltail=cluster_g{g}");
        }
        if let Some(g) = lhead {
            let _ = write!(extra, ", lhead=cluster_g{g}");
        }
        let _ = writeln!(
            d,
            "  n{from} -> n{to} [label={}, tooltip={}, class={}, {}{extra}];",
            q(&label_lines(line).join("\n")),
            q(&line.details.join("\n")),
            q(line.class.as_str()),
            attrs(line.class)
        );
    }
    d.push_str("}\n");
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures;

    #[test]
    fn escapes_quotes_backslashes_and_controls() {
        assert_eq!(escape("plain"), "plain");
        assert_eq!(escape("a\"b\\N\nc\u{7}"), "a\\\"b\\\\N\\nc\u{fffd}");
    }

    /// A minimal check that every quoted string closes: outside strings no stray quote or
    /// backslash, braces balance.
    fn well_formed(text: &str) -> bool {
        let mut in_string = false;
        let mut escaped = false;
        let mut depth = 0i32;
        for line in text.lines() {
            if !in_string && line.trim_start().starts_with("//") {
                continue;
            }
            for c in line.chars() {
                if in_string {
                    match (escaped, c) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => in_string = false,
                        _ => {}
                    }
                } else {
                    match c {
                        '"' => in_string = true,
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        '\\' => return false,
                        _ => {}
                    }
                }
            }
            if in_string {
                return false; // no string spans lines: newlines are written as \n
            }
        }
        depth == 0
    }

    /// The text with every quoted string's content removed.
    fn outside_strings(text: &str) -> String {
        let mut out = String::new();
        let (mut in_string, mut escaped) = (false, false);
        for c in text.chars() {
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => {}
                }
            } else {
                in_string = c == '"';
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn sample_dot_is_well_formed_and_deterministic() {
        let summary = fixtures::scenario("rds-firewall-misconfigured", fixtures::SAMPLE_DEPLOYMENT);
        let text = render(&summary);
        assert!(well_formed(&text), "{text}");
        assert_eq!(text, render(&summary));
        assert!(text.contains("subgraph cluster_g"));
        assert!(text.contains("✕ REJECTED"));
        assert!(text.contains("UNANSWERED"));
    }

    #[test]
    fn hostile_names_stay_inside_their_strings() {
        let deployment = fixtures::SAMPLE_DEPLOYMENT
            .replace(
                "name = \"rdsh1\"",
                "name = \"rdsh1\\\"]; x -> y [label=\\\"\\\\N</svg><script>\"",
            )
            .replace("name = \"rdcb\"", "name = \"rd\\u0007cb\\\\\"");
        let summary = fixtures::scenario("rds-incident", &deployment);
        let text = render(&summary);
        assert!(well_formed(&text), "{text}");
        assert!(
            text.contains("x -> y"),
            "the hostile name is kept, inside its string"
        );
        assert!(
            !outside_strings(&text).contains("x -> y"),
            "an injected edge escaped its string"
        );
    }

    /// Graphviz itself accepts the file (skipped when `dot` is not installed).
    #[test]
    fn graphviz_accepts_the_files() {
        let Ok(version) = std::process::Command::new("dot").arg("-V").output() else {
            eprintln!(
                "skipped: Graphviz `dot` is not installed (Debian: apt-get install graphviz)"
            );
            return;
        };
        assert!(version.status.success());
        let dir = std::env::temp_dir().join(format!("rdsflows-dot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, summary) in [
            (
                "incident",
                fixtures::scenario("rds-incident", fixtures::SAMPLE_DEPLOYMENT),
            ),
            ("big", fixtures::big_summary()),
        ] {
            let path = dir.join(format!("{name}.dot"));
            std::fs::write(&path, render(&summary)).unwrap();
            let out = std::process::Command::new("dot")
                .arg("-Tsvg")
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "dot rejected {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(String::from_utf8_lossy(&out.stdout).contains("<svg"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
