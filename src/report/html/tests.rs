//! The HTML report: escaping, hostile names, determinism, the CSP hashes, and the layout of the
//! sample and of a 50-host deployment.

use super::*;
use crate::report::fixtures;
use crate::report::layout::Rect;

#[test]
fn escape_covers_markup_quotes_and_controls() {
    assert_eq!(escape("rdsh1"), "rdsh1");
    assert!(matches!(escape("rdsh1"), Cow::Borrowed(_)));
    assert_eq!(
        escape("<script>alert('x')</script>"),
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
    );
    assert_eq!(escape("a&b \"c\""), "a&amp;b &quot;c&quot;");
    assert_eq!(escape("</svg>"), "&lt;/svg&gt;");
    assert_eq!(
        escape("nul\u{0}bel\u{7}del\u{7f}c1\u{85}"),
        "nul\u{2400}bel\u{2407}del\u{2421}c1\u{fffd}"
    );
    assert_eq!(escape("line\nnext\ttab"), "line\nnext\ttab");
}

/// Tag names the page may contain; anything else would be markup that came from data.
const ALLOWED_TAGS: &[&str] = &[
    "!doctype", "html", "head", "meta", "title", "script", "style", "body", "header", "h1", "h2",
    "p", "ul", "li", "b", "nav", "a", "section", "div", "svg", "defs", "marker", "path", "symbol",
    "text", "g", "rect", "tspan", "circle", "line", "pattern", "use", "table", "thead", "tbody",
    "tr", "th", "td", "br", "span", "label", "input", "footer",
];

/// Every tag in the page is one the writer makes, no attribute is an event handler, and only
/// the two scripts of the writer exist.
fn assert_only_our_markup(page: &str) {
    // The raw-text elements are exactly ours, once each; the scan covers everything else.
    let mut page = page.to_string();
    for ours in [
        format!("<script>{ERROR_SCRIPT}</script>"),
        format!("<script>{MAIN_SCRIPT}</script>"),
        format!("<style>{STYLE}</style>"),
    ] {
        assert_eq!(page.matches(&ours).count(), 1);
        page = page.replace(&ours, "");
    }
    assert!(!page.contains("<script") && !page.contains("<style"));
    let mut rest = page.as_str();
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let name: String = rest
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect::<String>()
            .to_ascii_lowercase();
        assert!(
            ALLOWED_TAGS.contains(&name.as_str()),
            "unexpected tag <{name}> near: {}",
            &rest[..rest.len().min(80)]
        );
        // The tag's attributes: name="value" (values never hold a raw quote or '>', since
        // escape turns them into references), none of them an event handler.
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        let mut attrs = tag
            .trim_start_matches('/')
            .trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '!');
        loop {
            attrs = attrs.trim_start();
            if attrs.is_empty() || attrs == "/" {
                break;
            }
            let name_len = attrs
                .find(|c: char| c == '=' || c.is_whitespace() || c == '/')
                .unwrap_or(attrs.len());
            let name = attrs[..name_len].to_ascii_lowercase();
            assert!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':'),
                "odd attribute name {name:?} in <{tag}>"
            );
            assert!(
                !name.starts_with("on"),
                "event handler attribute in <{tag}>"
            );
            attrs = &attrs[name_len..];
            if let Some(value) = attrs.strip_prefix("=\"") {
                let close = value.find('"').expect("unterminated attribute value");
                assert!(
                    !value[..close].contains('<'),
                    "raw < in an attribute of <{tag}>"
                );
                attrs = &value[close + 1..];
            } else if name != "doctype" && name != "html" {
                // Boolean attributes (checked, hidden) stand alone.
                assert!(
                    ["checked", "hidden"].contains(&name.as_str()),
                    "{name} without a value in <{tag}>"
                );
            }
        }
    }
}

fn hostile_deployment() -> String {
    fixtures::SAMPLE_DEPLOYMENT
        .replace(
            "name = \"rdsh1\"",
            "name = \"<script>alert(1)</script>\\\"'><img src=x onerror=alert(2)>\"",
        )
        .replace(
            "name = \"rdcb\"",
            "name = \"</svg></table><b>cb\\u0000\\u001b[31m\"",
        )
        .replace("name = \"office\"", "name = \"<!-- office\"")
}

#[test]
fn hostile_names_are_escaped_everywhere() {
    let summary = fixtures::scenario("rds-incident", &hostile_deployment());
    let page = render(&summary);
    assert_only_our_markup(&page);
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&lt;/svg&gt;&lt;/table&gt;&lt;b&gt;cb\u{2400}\u{241b}[31m"));
    assert!(!page.contains('\u{0}') && !page.contains('\u{1b}'));
}

#[test]
fn report_is_deterministic_and_complete() {
    let summary = fixtures::scenario("rds-incident", fixtures::SAMPLE_DEPLOYMENT);
    let page = render(&summary);
    assert_eq!(page, render(&summary));
    assert_only_our_markup(&page);
    for id in [
        "id=\"diagram-svg\"",
        "id=\"verdict-table\"",
        "id=\"findings-table\"",
        "id=\"sessions-table\"",
        "id=\"timeline-svg\"",
        "id=\"legend\"",
    ] {
        assert!(page.contains(id), "{id} missing");
    }
    let verdict = summary.verdict.as_ref().unwrap();
    for host in &verdict.deployment.hosts {
        assert!(page.contains(&format!("data-name=\"{}\"", host.name)));
    }
    assert!(page.contains("RDP from the internet straight to"));
    assert!(!page.contains("http://") || !page.contains("src=\"http"));
    assert!(
        !page.contains("https://"),
        "the page must not reference the network"
    );
}

#[test]
fn csp_names_the_scripts_and_style_by_hash() {
    let page = render(&fixtures::scenario(
        "rds-deployment",
        fixtures::SAMPLE_DEPLOYMENT,
    ));
    for script in [ERROR_SCRIPT, MAIN_SCRIPT, STYLE] {
        let hash = format!("&#39;sha256-{}&#39;", base64(&sha256(script.as_bytes())));
        assert!(page.contains(&hash));
        assert!(
            page.contains(&format!("<script>{script}</script>"))
                || page.contains(&format!("<style>{script}</style>"))
        );
    }
    assert!(page.contains("default-src &#39;none&#39;"));
}

fn assert_no_overlaps(rects: &[Rect], what: &str) {
    for (i, a) in rects.iter().enumerate() {
        for b in &rects[i + 1..] {
            assert_eq!(a.overlap(b), 0.0, "{what} overlap: {a:?} {b:?}");
        }
    }
}

fn check_layout(summary: &Summary) -> Layout {
    let graph = Graph::from_verdict(summary.verdict.as_ref().unwrap());
    let placed = layout(&graph);
    assert_eq!(placed, layout(&graph), "layout is not deterministic");
    assert_no_overlaps(&placed.groups, "groups");
    assert_no_overlaps(&placed.nodes, "hosts");
    // Every host box sits inside its group box.
    for (n, node) in graph.nodes.iter().enumerate() {
        let (r, g) = (placed.nodes[n], placed.groups[node.group]);
        assert!(r.x >= g.x && r.y >= g.y && r.x + r.w <= g.x + g.w && r.y + r.h <= g.y + g.h);
    }
    // No label covers a host box, and everything is on the canvas.
    for line in &placed.lines {
        for n in &placed.nodes {
            assert_eq!(
                line.label.overlap(n),
                0.0,
                "label {:?} covers a host",
                line.text
            );
        }
        assert!(line.label.x >= 0.0 && line.label.y >= 0.0);
        assert!(line.label.x + line.label.w <= placed.width);
        assert!(line.label.y + line.label.h <= placed.height);
    }
    placed
}

#[test]
fn sample_layout_is_clean() {
    let summary = fixtures::scenario("rds-firewall-misconfigured", fixtures::SAMPLE_DEPLOYMENT);
    let placed = check_layout(&summary);
    // Problems get labels that do not overlap any other label.
    let graph = Graph::from_verdict(summary.verdict.as_ref().unwrap());
    for (i, a) in placed.lines.iter().enumerate() {
        let class = graph.lines[a.line].class;
        if matches!(class, LineClass::Rejected | LineClass::Unanswered) {
            for (j, b) in placed.lines.iter().enumerate() {
                if i != j {
                    assert_eq!(
                        a.label.overlap(&b.label),
                        0.0,
                        "{:?} / {:?}",
                        a.text,
                        b.text
                    );
                }
            }
        }
    }
    assert!(
        placed.width <= 1400.0,
        "sample diagram is {} px wide",
        placed.width
    );
}

#[test]
fn fifty_hosts_lay_out_without_overlaps() {
    let summary = fixtures::big_summary();
    let verdict = summary.verdict.as_ref().unwrap();
    assert_eq!(verdict.deployment.hosts.len(), 50);
    let placed = check_layout(&summary);
    assert!(placed.width <= 1400.0);
    let page = render(&summary);
    assert_only_our_markup(&page);
    for host in &verdict.deployment.hosts {
        assert!(page.contains(&format!("data-name=\"{}\"", host.name)));
    }
}

#[test]
fn empty_capture_still_makes_a_whole_page() {
    let summary = fixtures::scenario("empty", fixtures::SAMPLE_DEPLOYMENT);
    let page = render(&summary);
    assert_only_our_markup(&page);
    assert!(page.contains("The capture holds no packets."));
    assert!(page.contains("No RDP flow in the capture."));
    assert!(page.contains("No RDS flow in the capture."));
    assert!(page.contains("id=\"diagram-svg\""));
    check_layout(&summary);
    let dot = crate::report::dot::render(&summary);
    assert!(dot.contains("not seen"));
}

/// Writes the pages the browser test also makes, for looking at by hand:
/// `RDSFLOWS_REPORT_DIR=/tmp/r cargo test --lib report::html::tests::write_pages_for_review`.
#[test]
fn write_pages_for_review() {
    let Some(dir) = std::env::var_os("RDSFLOWS_REPORT_DIR") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("big.html"), render(&fixtures::big_summary())).unwrap();
    std::fs::write(
        dir.join("hostile.html"),
        render(&fixtures::scenario("rds-incident", &hostile_deployment())),
    )
    .unwrap();
    std::fs::write(
        dir.join("big.dot"),
        crate::report::dot::render(&fixtures::big_summary()),
    )
    .unwrap();
}
