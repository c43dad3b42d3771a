//! The HTML report (`--report FILE.html`): one self-contained page with the deployment diagram
//! (inline SVG), the verdict table, the findings, the RDP connections and a timeline of flows per
//! service. Owns the page, its styles and its small script; must not compute anything the
//! `Summary` lacks, fetch anything (no external script, style, font or image: the page opens
//! offline), or write a string without passing it through [`escape`].
//!
//! Safety: every string that could come from a file or the wire goes through [`escape`]; the
//! script reads only the DOM (no data is ever embedded in script text); and a
//! Content-Security-Policy allows exactly the page's own two inline scripts and its style sheet
//! by their SHA-256 hashes (and nothing from anywhere), so even a string that slipped through
//! could not run.
//!
//! Without colour, the status is carried by line style (solid working, double with ✕ rejected,
//! dashed unanswered, dotted not seen, dash-dot with "!" unexpected), by the words on every
//! label, and by the legend. Without the script, the tables are plain complete tables.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::IpAddr;

use super::graph::{severity_name, Graph, LineClass, NodeKind, TIER_NAMES};
use super::layout::{layout, Layout, LABEL_PAD, LINE_H, NODE_W};
use super::sha256::{base64, sha256};
use super::text::{group, human_bytes};
use super::Summary;
use crate::deployment::Cidr;
use crate::time::{format_utc, Timestamp};
use crate::verdict::{EdgeStatus, Severity, VerdictReport};

/// Escapes text for HTML and SVG content and quoted attribute values: `& < > " '` become
/// references; control characters (which HTML forbids) become visible Unicode control pictures
/// (U+2400…) or U+FFFD, so a hostile name shows what it is instead of hiding.
pub fn escape(text: &str) -> Cow<'_, str> {
    let needs = |c: char| {
        matches!(c, '&' | '<' | '>' | '"' | '\'') || (c.is_control() && c != '\n' && c != '\t')
    };
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            '\u{7f}' => out.push('\u{2421}'),
            c if (c as u32) < 0x20 => {
                out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'));
            }
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Short alias used throughout: every interpolated string goes through it.
fn e(text: &str) -> Cow<'_, str> {
    escape(text)
}

/// Runs first: records any script error on the root element, where the browser test (and a
/// curious reader's inspector) finds it.
const ERROR_SCRIPT: &str = "window.addEventListener('error',function(ev){document.documentElement.setAttribute('data-report-error',String((ev&&ev.message)||'error'));});";

/// Filters, sorting and diagram focus; reads only the DOM; marks the page when it ran.
const MAIN_SCRIPT: &str = r#"(function () {
  'use strict';
  var doc = document;
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function key(cell) {
    if (!cell) { return ''; }
    var v = cell.getAttribute('data-sort');
    if (v !== null && v !== '' && !isNaN(Number(v))) { return Number(v); }
    return (v !== null ? v : (cell.textContent || '')).trim().toLowerCase();
  }
  function compare(x, y) {
    var nx = typeof x === 'number', ny = typeof y === 'number';
    if (nx && ny) { return x - y; }
    if (nx !== ny) { return nx ? -1 : 1; }
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  each(doc.querySelectorAll('.filters'), function (bar) {
    var table = doc.getElementById(bar.getAttribute('data-for'));
    if (!table || !table.tBodies.length) { return; }
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var search = bar.querySelector('input[type=search]');
    var boxes = bar.querySelectorAll('input[type=checkbox]');
    var shown = bar.querySelector('.shown');
    function apply() {
      var q = search ? search.value.trim().toLowerCase() : '';
      var allowed = {};
      each(boxes, function (b) { allowed[b.value] = b.checked; });
      var n = 0;
      rows.forEach(function (r) {
        var k = r.getAttribute('data-filter');
        var ok = (k === null || allowed[k] !== false) &&
          (q === '' || (r.textContent || '').toLowerCase().indexOf(q) !== -1);
        r.hidden = !ok;
        if (ok) { n += 1; }
      });
      if (shown) { shown.textContent = n + ' of ' + rows.length + ' rows shown'; }
    }
    bar.addEventListener('input', apply);
    bar.addEventListener('change', apply);
    bar.hidden = false;
    apply();
  });
  each(doc.querySelectorAll('table.sortable'), function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    var heads = table.tHead.rows[0].cells;
    each(heads, function (th, col) {
      var button = doc.createElement('button');
      button.type = 'button';
      button.className = 'sort';
      while (th.firstChild) { button.appendChild(th.firstChild); }
      th.appendChild(button);
      button.addEventListener('click', function () {
        var asc = th.getAttribute('aria-sort') !== 'ascending';
        each(heads, function (h) { h.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).map(function (r, i) {
          return { row: r, key: key(r.cells[col]), index: i };
        });
        rows.sort(function (a, b) {
          var c = compare(a.key, b.key);
          return c !== 0 ? (asc ? c : -c) : a.index - b.index;
        });
        rows.forEach(function (r) { body.appendChild(r.row); });
      });
    });
  });
  var svg = doc.getElementById('diagram-svg');
  if (svg) {
    each(doc.querySelectorAll('.diagram-controls input[data-hide]'), function (box) {
      function apply() { svg.classList.toggle('hide-' + box.getAttribute('data-hide'), !box.checked); }
      box.addEventListener('change', apply);
      apply();
    });
    var focused = null;
    each(svg.querySelectorAll('[data-end]'), function (el) {
      el.addEventListener('click', function (ev) {
        ev.stopPropagation();
        var end = el.getAttribute('data-end');
        focused = focused === end ? null : end;
        var tokens = focused === null ? [] : focused.split(' ');
        svg.classList.toggle('focusing', focused !== null);
        each(svg.querySelectorAll('.line'), function (line) {
          var ends = (line.getAttribute('data-ends') || '').split(' ');
          var hit = tokens.some(function (t) { return ends.indexOf(t) !== -1; });
          line.classList.toggle('focus', hit);
        });
      });
    });
    var controls = doc.querySelector('.diagram-controls');
    if (controls) { controls.hidden = false; }
  }
  doc.documentElement.setAttribute('data-report-script', 'ok');
})();
"#;

const STYLE: &str = r#"
:root { --ink:#1b1f24; --muted:#5f6b7a; --rule:#d5dbe3; --bg:#ffffff; --band:#f4f6f9;
  --working:#2e7d32; --rejected:#c62828; --unanswered:#d35400; --not_seen:#8a8f98; --unexpected:#6a1b9a; }
* { box-sizing: border-box; }
body { margin: 0; padding: 12px 12px 40px; font: 14px/1.45 system-ui, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg); }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--rule); }
p.meta { margin: 2px 0; color: var(--muted); }
nav { margin: 10px 0 0; }
nav a { margin-right: 14px; }
.tiles { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0 4px; padding: 0; list-style: none; }
.tiles li { border: 1px solid var(--rule); border-left: 6px solid var(--rule); border-radius: 4px; padding: 6px 12px; min-width: 120px; background: var(--band); }
.tiles b { display: block; font-size: 22px; }
.tiles .working { border-left-color: var(--working); } .tiles .rejected { border-left-color: var(--rejected); border-left-style: double; border-left-width: 8px; }
.tiles .unanswered { border-left-color: var(--unanswered); border-left-style: dashed; } .tiles .not_seen { border-left-color: var(--not_seen); border-left-style: dotted; }
.tiles .unexpected { border-left-color: var(--unexpected); }
.warning { border: 2px solid var(--rejected); padding: 6px 10px; border-radius: 4px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 6px 0; padding: 0; list-style: none; font-size: 13px; }
.legend li { display: flex; align-items: center; gap: 6px; }
.note { color: var(--muted); font-size: 13px; margin: 4px 0; }
.scroll { overflow: auto; border: 1px solid var(--rule); border-radius: 4px; background: #fff; }
svg text { font-family: system-ui, "Segoe UI", "DejaVu Sans", sans-serif; }
svg .mono, svg .label text { font-family: "DejaVu Sans Mono", Consolas, "Liberation Mono", monospace; }
svg .label text { white-space: pre; }
#diagram-svg .node, #diagram-svg .group-title { cursor: pointer; }
#diagram-svg.hide-not_seen .line.not_seen, #diagram-svg.hide-working .line.working { display: none; }
#diagram-svg.focusing .line:not(.focus) { opacity: 0.12; }
#diagram-svg .line:hover .label rect { stroke-width: 2; }
.diagram-controls { margin: 6px 0; font-size: 13px; }
.diagram-controls label { margin-right: 14px; }
.filters { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 14px; margin: 6px 0; font-size: 13px; }
.filters input[type=search] { padding: 3px 6px; min-width: 220px; }
.filters .shown { color: var(--muted); }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; vertical-align: top; padding: 4px 6px; border-bottom: 1px solid var(--rule); }
th { background: var(--band); position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
th button.sort { font: inherit; font-weight: 600; border: 0; background: none; padding: 0; cursor: pointer; color: inherit; text-align: inherit; }
th[aria-sort=ascending] button.sort::after { content: " ▲"; } th[aria-sort=descending] button.sort::after { content: " ▼"; }
tr[hidden] { display: none; }
.status { font-weight: 700; white-space: nowrap; }
.status.working { color: var(--working); } .status.rejected { color: var(--rejected); } .status.unanswered { color: var(--unanswered); }
.status.not_seen { color: var(--not_seen); font-weight: 400; } .status.high { color: var(--rejected); } .status.warning { color: var(--unanswered); } .status.info { color: var(--muted); }
tr.not_seen td { color: var(--muted); }
.hint { max-width: 520px; }
code, .mono { font-family: "DejaVu Sans Mono", Consolas, "Liberation Mono", monospace; font-size: 12px; }
footer { margin-top: 30px; color: var(--muted); font-size: 12px; }
@media print { .filters, .diagram-controls, nav { display: none !important; } .scroll { overflow: visible; border: 0; } }
"#;

/// Colour and stroke of each line class, as SVG presentation attributes (so the drawing keeps
/// its look when copied out of the page).
fn stroke(class: LineClass) -> (&'static str, &'static str) {
    match class {
        LineClass::Working => ("#2e7d32", r#"stroke-width="2""#),
        LineClass::Rejected => ("#c62828", r#"stroke-width="6""#),
        LineClass::Unanswered => ("#d35400", r#"stroke-width="2.4" stroke-dasharray="9 5""#),
        LineClass::NotSeen => (
            "#a3a8b0",
            r#"stroke-width="1.3" stroke-dasharray="1.5 4" stroke-linecap="round""#,
        ),
        LineClass::Unexpected => (
            "#6a1b9a",
            r#"stroke-width="2.6" stroke-dasharray="12 4 2.5 4""#,
        ),
    }
}

/// A capture time (seconds since the epoch) as UTC text; `short` drops the date.
fn utc(secs: f64, short: bool) -> String {
    let text = format_utc(Timestamp::from_nanos((secs * 1e9) as i64));
    if short {
        text.get(11..).unwrap_or(&text).to_string()
    } else {
        text
    }
}

/// At most `max` characters, with "…" when cut.
fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// A finding for the findings table. Today every finding is an unexpected flow of the verdict;
/// the incident rules to come produce the same shape (severity, rule, flows), so they slot in.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// Which rule raised it (`rds_service`, `unlisted_port`, …).
    pub rule: String,
    /// Who opened the flows.
    pub from: String,
    /// Who answered (or was asked).
    pub to: String,
    /// Service and port (`rdp 3389/tcp`).
    pub what: String,
    /// Flows behind it.
    pub flows: u64,
    /// Of those, answered.
    pub answered: u64,
    /// First packet (seconds since the epoch).
    pub first_seen: Option<f64>,
    /// Last packet.
    pub last_seen: Option<f64>,
    /// Why it is listed, in words.
    pub reason: String,
    /// Client addresses behind it (up to 10).
    pub clients: Vec<String>,
}

/// The findings of a verdict, most severe first.
pub fn findings(verdict: &VerdictReport) -> Vec<Finding> {
    verdict
        .unexpected
        .iter()
        .map(|u| Finding {
            severity: u.severity,
            rule: u.kind.to_string(),
            from: u.from.clone(),
            to: u.to.clone(),
            what: format!(
                "{} {}/{}",
                u.service.as_deref().unwrap_or("unlisted port"),
                u.port,
                u.transport
            ),
            flows: u.evidence.flows,
            answered: u.evidence.answered,
            first_seen: u.evidence.first_seen,
            last_seen: u.evidence.last_seen,
            reason: u.reason.clone(),
            clients: u.evidence.clients.clone(),
        })
        .collect()
}

/// Names for addresses: deployment hosts by address, networks by block.
struct Names {
    hosts: Vec<(String, String)>,
    networks: Vec<(Cidr, String)>,
}

impl Names {
    fn new(verdict: Option<&VerdictReport>) -> Self {
        let Some(v) = verdict else {
            return Self {
                hosts: Vec::new(),
                networks: Vec::new(),
            };
        };
        Self {
            hosts: v
                .deployment
                .hosts
                .iter()
                .flat_map(|h| h.addresses.iter().map(|a| (a.clone(), h.name.clone())))
                .collect(),
            networks: v
                .deployment
                .networks
                .iter()
                .filter_map(|n| {
                    let cidr = Cidr::parse(n.get("cidr")?).ok()?;
                    Some((cidr, n.get("name")?.clone()))
                })
                .collect(),
        }
    }

    fn of(&self, ip: IpAddr) -> String {
        let text = ip.to_string();
        if let Some((_, name)) = self.hosts.iter().find(|(a, _)| *a == text) {
            return format!("{name} ({text})");
        }
        if let Some((_, name)) = self.networks.iter().find(|(c, _)| c.contains(ip)) {
            return format!("{text} ({name})");
        }
        if crate::verdict::is_private(ip) {
            text
        } else {
            format!("{text} (internet)")
        }
    }
}

/// Writes the whole report.
///
/// # Errors
/// Any error from the writer.
pub fn write_html(out: &mut impl Write, summary: &Summary) -> io::Result<()> {
    let page = render(summary);
    out.write_all(page.as_bytes())
}

/// The page as a string (deterministic: same summary, same bytes).
pub fn render(summary: &Summary) -> String {
    let mut p = String::with_capacity(256 * 1024);
    let inputs: Vec<&str> = summary.inputs.iter().map(|i| i.path.as_str()).collect();
    let csp = format!(
        "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}' 'sha256-{}'; base-uri 'none'; form-action 'none'",
        base64(&sha256(STYLE.as_bytes())),
        base64(&sha256(ERROR_SCRIPT.as_bytes())),
        base64(&sha256(MAIN_SCRIPT.as_bytes()))
    );
    let _ = write!(
        p,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"rdsflows {}\">\n\
         <title>rdsflows report: {}</title>\n<script>{ERROR_SCRIPT}</script>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        e(&csp),
        env!("CARGO_PKG_VERSION"),
        e(&inputs.join(", "))
    );
    let short = same_day(summary);
    header(&mut p, summary, &inputs);
    match &summary.verdict {
        Some(verdict) => {
            diagram(&mut p, verdict);
            verdict_table(&mut p, verdict, short);
            findings_section(&mut p, verdict, short);
            incident_findings(&mut p, summary, short);
        }
        None => {
            p.push_str("<p class=\"note\">No verdict was computed for this run.</p>\n");
        }
    }
    sessions(&mut p, summary, short);
    timeline(&mut p, summary);
    let _ = write!(
        p,
        "<footer>Written by rdsflows {} from {}. This file is self-contained: it loads nothing \
         from the network, and its tables work without its script.</footer>\n\
         <script>{MAIN_SCRIPT}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        e(&inputs.join(", "))
    );
    p
}

/// True when the capture starts and ends on one UTC day (tables then show times only).
fn same_day(summary: &Summary) -> bool {
    match (summary.capture.first_ts, summary.capture.last_ts) {
        (Some(a), Some(b)) => utc(a, false).get(..10) == utc(b, false).get(..10),
        _ => false,
    }
}

fn header(p: &mut String, summary: &Summary, inputs: &[&str]) {
    let _ = writeln!(p, "<header>\n<h1>RDS flows: observed versus expected</h1>");
    let _ = writeln!(
        p,
        "<p class=\"meta\">Capture: {}</p>",
        e(&inputs.join(", "))
    );
    match (summary.capture.first_ts, summary.capture.last_ts) {
        (Some(a), Some(b)) => {
            let _ = writeln!(
                p,
                "<p class=\"meta\">{} → {} UTC ({:.0} s); {} packets, {} flows ({} matched an RDS service)</p>",
                e(&utc(a, false)),
                e(&utc(b, false)),
                summary.capture.duration,
                group(summary.totals.packets),
                group(summary.totals.flows),
                group(summary.totals.rds_flows)
            );
        }
        _ => p.push_str("<p class=\"meta\">The capture holds no packets.</p>\n"),
    }
    for input in summary.inputs.iter().filter(|i| i.error.is_some()) {
        let _ = writeln!(
            p,
            "<p class=\"warning\">DAMAGED INPUT: {} (analysed up to there; the verdict may miss flows)</p>",
            e(input.error.as_deref().unwrap_or_default())
        );
    }
    if let Some(v) = &summary.verdict {
        let d = &v.deployment;
        let origin = d.describe();
        let _ = writeln!(p, "<p class=\"meta\">Deployment: {}</p>", e(&origin));
        let c = &v.counts;
        let _ = writeln!(p, "<ul class=\"tiles\" id=\"counts\">");
        let tile = |p: &mut String, class: &str, n: u64, word: &str| {
            let _ = writeln!(
                p,
                "<li class=\"{class}\"><b>{}</b>{}</li>",
                group(n),
                e(word)
            );
        };
        tile(p, "expected", c.expected, "expected flows");
        tile(p, "working", c.working, "✓ working");
        tile(p, "rejected", c.rejected, "✕ REJECTED");
        tile(p, "unanswered", c.unanswered, "UNANSWERED");
        tile(p, "not_seen", c.not_seen, "not seen");
        tile(
            p,
            "unexpected",
            c.unexpected,
            &format!("! unexpected ({} high)", c.unexpected_high),
        );
        let _ = writeln!(p, "</ul>");
    }
    let _ = writeln!(
        p,
        "<nav><a href=\"#diagram\">Diagram</a><a href=\"#verdict\">Verdict</a><a href=\"#findings\">Findings</a><a href=\"#incident-findings\">Incident</a><a href=\"#sessions\">RDP connections</a><a href=\"#timeline\">Timeline</a></nav>\n</header>"
    );
}

/// A short sample of each line style for the legend.
fn legend_swatch(class: LineClass) -> String {
    let (colour, attrs) = stroke(class);
    let mut s =
        String::from("<svg width=\"64\" height=\"16\" viewBox=\"0 0 64 16\" aria-hidden=\"true\">");
    let _ = write!(
        s,
        "<path d=\"M2 8 H52\" fill=\"none\" stroke=\"{colour}\" {attrs}/>"
    );
    if class == LineClass::Rejected {
        s.push_str("<path d=\"M2 8 H52\" fill=\"none\" stroke=\"#fff\" stroke-width=\"2\"/>");
    }
    let _ = write!(s, "<use href=\"#mk-{}\" x=\"40\" y=\"1\"/>", class.as_str());
    s.push_str("</svg>");
    s
}

/// Marker shapes: an arrowhead per class, with a ✕ before it for rejected and a "!" for
/// unexpected. Drawn as `<symbol>`s reused by the legend and as `<marker>`s on the lines.
fn marker_defs(p: &mut String) {
    p.push_str("<defs>\n");
    for class in LineClass::ALL {
        let (colour, _) = stroke(class);
        let name = class.as_str();
        let extra = match class {
            LineClass::Rejected => format!(
                "<path d=\"M1 2 L10 12 M1 12 L10 2\" stroke=\"{colour}\" stroke-width=\"2.4\" fill=\"none\"/>"
            ),
            _ => String::new(),
        };
        let _ = writeln!(
            p,
            "<marker id=\"arrow-{name}\" markerUnits=\"userSpaceOnUse\" viewBox=\"0 0 24 14\" markerWidth=\"24\" markerHeight=\"14\" refX=\"23\" refY=\"7\" orient=\"auto\">{extra}<path d=\"M13 1.5 L23 7 L13 12.5 Z\" fill=\"{colour}\"/></marker>"
        );
        let _ = writeln!(
            p,
            "<symbol id=\"mk-{name}\" viewBox=\"0 0 24 14\" width=\"24\" height=\"14\">{extra}<path d=\"M13 1.5 L23 7 L13 12.5 Z\" fill=\"{colour}\"/></symbol>"
        );
    }
    p.push_str("</defs>\n");
}

fn diagram(p: &mut String, verdict: &VerdictReport) {
    let graph = Graph::from_verdict(verdict);
    let placed = layout(&graph);
    let quiet_by_group = graph.lines.iter().any(|l| {
        l.class == LineClass::NotSeen
            && [l.from, l.to]
                .iter()
                .any(|e| matches!(e, super::graph::End::Group(g) if graph.groups.get(*g).is_some_and(|g| g.nodes.len() <= super::graph::AGGREGATE_ABOVE)))
    });
    let _ = writeln!(p, "<section id=\"diagram\">\n<h2>Deployment diagram</h2>");
    let _ = writeln!(
        p,
        "<p class=\"note\">Roles are boxes with their hosts inside. An arrow goes from the side that opens the flows to the side that answers, labelled with the services and ports (TCP unless marked /udp); one arrow per status between two boxes. Expected flows not seen between boxes that have other traffic are counted on that arrow's label (+N not seen). Groups of more than {} hosts get their working and not-seen flows as one arrow to the group box (×N counts the hosts){}; problems are always drawn per host. Click a box to show only its lines; hover an arrow for every flow it stands for.</p>",
        super::graph::AGGREGATE_ABOVE,
        if quiet_by_group {
            ", and in a deployment this size every not-seen arrow joins two role groups"
        } else {
            ""
        }
    );
    // Legend (the defs live in the diagram's SVG; the swatches refer to them by id).
    p.push_str("<ul class=\"legend\" id=\"legend\">\n");
    for (class, words) in [
        (LineClass::Working, "✓ working: answered"),
        (
            LineClass::Rejected,
            "✕ REJECTED (double line): refused by a TCP reset or ICMP unreachable",
        ),
        (
            LineClass::Unanswered,
            "UNANSWERED (dashed): tried, never answered",
        ),
        (
            LineClass::NotSeen,
            "not seen (dotted): expected, absent from the capture; not proof of a block",
        ),
        (
            LineClass::Unexpected,
            "! UNEXPECTED (dash-dot): traffic the roles do not call for",
        ),
    ] {
        let _ = writeln!(
            p,
            "<li class=\"{}\">{}<span>{}</span></li>",
            class.as_str(),
            legend_swatch(class),
            e(words)
        );
    }
    p.push_str("</ul>\n");
    p.push_str(
        "<div class=\"diagram-controls\" hidden><label><input type=\"checkbox\" data-hide=\"working\" checked> show working lines</label><label><input type=\"checkbox\" data-hide=\"not_seen\" checked> show not-seen lines</label></div>\n",
    );
    svg_diagram(p, &graph, &placed);
    p.push_str("</section>\n");
}

fn end_token(end: super::graph::End) -> String {
    match end {
        super::graph::End::Node(n) => format!("n{n}"),
        super::graph::End::Group(g) => format!("g{g}"),
    }
}

fn svg_diagram(p: &mut String, graph: &Graph, placed: &Layout) {
    let _ = writeln!(
        p,
        "<div class=\"scroll\"><svg id=\"diagram-svg\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" role=\"img\" aria-labelledby=\"diagram-title\">\n<title id=\"diagram-title\">Deployment diagram: roles, hosts and the status of every expected flow</title>",
        w = placed.width.ceil(),
        h = placed.height.ceil()
    );
    marker_defs(p);
    for column in &placed.columns {
        let _ = writeln!(
            p,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"#5f6b7a\" font-weight=\"600\">{}</text>",
            column.x,
            super::layout::MARGIN + 12.0,
            e(TIER_NAMES.get(column.tier).copied().unwrap_or(""))
        );
    }
    // Groups and hosts.
    for (g, group) in graph.groups.iter().enumerate() {
        let Some(r) = placed.groups.get(g) else {
            continue;
        };
        let count = if group.nodes.len() > 1 {
            format!(" ({})", group.nodes.len())
        } else {
            String::new()
        };
        let title = format!("{}{count}", group.title);
        let _ = writeln!(
            p,
            "<g class=\"group\" data-end=\"g{g}{}\"><title>{}</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"6\" fill=\"#f4f6f9\" stroke=\"#8894a3\" stroke-width=\"1.2\"/><text class=\"group-title\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" font-weight=\"700\" fill=\"#1b1f24\">{}</text></g>",
            group
                .nodes
                .iter()
                .map(|n| format!(" n{n}"))
                .collect::<String>(),
            e(&title),
            r.x,
            r.y,
            r.w,
            r.h,
            r.x + 8.0,
            r.y + 15.0,
            e(&fit(&title, 24))
        );
        for n in &group.nodes {
            let (Some(node), Some(r)) = (graph.nodes.get(*n), placed.nodes.get(*n)) else {
                continue;
            };
            let (fill, stroke_colour) = match node.kind {
                NodeKind::Host => ("#ffffff", "#44505e"),
                NodeKind::Network | NodeKind::Internal => ("#eef4fb", "#44505e"),
                NodeKind::External | NodeKind::InternetOut => ("#fdf3e7", "#44505e"),
                NodeKind::Other => ("#ffffff", "#8894a3"),
            };
            let max_name = ((NODE_W - 12.0) / 7.4) as usize;
            let max_detail = ((NODE_W - 12.0) / 6.1) as usize;
            let _ = writeln!(
                p,
                "<g class=\"node\" data-end=\"n{n} g{g}\" data-name=\"{}\"><title>{}</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"3\" fill=\"{fill}\" stroke=\"{stroke_colour}\" stroke-width=\"1\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" font-weight=\"700\" fill=\"#1b1f24\">{}</text><text class=\"mono\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#44505e\">{}</text></g>",
                e(&node.name),
                e(&node.key),
                r.x,
                r.y,
                r.w,
                r.h,
                r.x + 6.0,
                r.y + 14.0,
                e(&fit(&node.name, max_name)),
                r.x + 6.0,
                r.y + 27.0,
                e(&fit(&node.detail, max_detail))
            );
        }
    }
    // Lines, quiet first.
    for placed_line in &placed.lines {
        let Some(line) = graph.lines.get(placed_line.line) else {
            continue;
        };
        let class = line.class;
        let (colour, attrs) = stroke(class);
        let d = placed_line.path.svg();
        let _ = write!(
            p,
            "<g class=\"line {}\" data-ends=\"{} {}\"><title>{}</title>",
            class.as_str(),
            end_token(line.from),
            end_token(line.to),
            e(&line.details.join("\n"))
        );
        if class != LineClass::NotSeen {
            // A white halo keeps crossing lines apart.
            let _ = write!(
                p,
                "<path d=\"{d}\" fill=\"none\" stroke=\"#fff\" stroke-width=\"{}\" stroke-opacity=\"0.85\"/>",
                if class == LineClass::Rejected { 9 } else { 5 }
            );
        }
        if class == LineClass::Rejected {
            let _ = write!(
                p,
                "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" {attrs}/><path d=\"{d}\" fill=\"none\" stroke=\"#fff\" stroke-width=\"2\" marker-end=\"url(#arrow-{})\"/>",
                class.as_str()
            );
        } else {
            let _ = write!(
                p,
                "<path d=\"{d}\" fill=\"none\" stroke=\"{colour}\" {attrs} marker-end=\"url(#arrow-{})\"/>",
                class.as_str()
            );
        }
        // The label: a box on the line (or tied to it by a leader), status word first.
        let r = placed_line.label;
        if let Some(a) = placed_line.anchor {
            let (tx, ty) = (a.x.clamp(r.x, r.x + r.w), a.y.clamp(r.y, r.y + r.h));
            let _ = write!(
                p,
                "<path class=\"leader\" d=\"M{:.1} {:.1} L{tx:.1} {ty:.1}\" stroke=\"{colour}\" stroke-width=\"1\"/><circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.2\" fill=\"{colour}\"/>",
                a.x, a.y, a.x, a.y
            );
        }
        let (text_colour, border_dash) = match class {
            LineClass::NotSeen => ("#6b717a", " stroke-dasharray=\"1.5 2.5\""),
            LineClass::Unanswered => ("#1b1f24", " stroke-dasharray=\"4 2\""),
            _ => ("#1b1f24", ""),
        };
        let _ = write!(
            p,
            "<g class=\"label\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"2\" fill=\"#fff\" fill-opacity=\"0.94\" stroke=\"{colour}\" stroke-width=\"{}\"{border_dash}/>",
            r.x,
            r.y,
            r.w,
            r.h,
            if class == LineClass::Rejected { 2 } else { 1 }
        );
        if class == LineClass::Unexpected {
            let _ = write!(
                p,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"7\" fill=\"#6a1b9a\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" font-weight=\"700\" fill=\"#fff\" text-anchor=\"middle\">!</text>",
                r.x,
                r.y,
                r.x,
                r.y + 4.0
            );
        }
        let _ = write!(
            p,
            "<text font-size=\"10\" fill=\"{text_colour}\" xml:space=\"preserve\">"
        );
        for (k, text) in placed_line.text.iter().enumerate() {
            let weight = if k == 0 && class != LineClass::NotSeen {
                format!(" font-weight=\"700\" fill=\"{colour}\"")
            } else {
                String::new()
            };
            let _ = write!(
                p,
                "<tspan x=\"{:.1}\" y=\"{:.1}\"{weight}>{}</tspan>",
                r.x + LABEL_PAD,
                r.y + LABEL_PAD + (k as f64 + 1.0) * LINE_H - 2.5,
                e(text)
            );
        }
        p.push_str("</text></g></g>\n");
    }
    p.push_str("</svg></div>\n");
}

fn status_words(status: EdgeStatus) -> (&'static str, &'static str) {
    match status {
        EdgeStatus::Working => ("working", "✓ working"),
        EdgeStatus::Rejected => ("rejected", "✕ REJECTED"),
        EdgeStatus::Unanswered => ("unanswered", "UNANSWERED"),
        EdgeStatus::NotSeen => ("not_seen", "not seen"),
    }
}

fn time_cell(p: &mut String, secs: Option<f64>, short: bool) {
    match secs {
        Some(s) => {
            let _ = write!(
                p,
                "<td class=\"mono\" data-sort=\"{s:.6}\" title=\"{}\">{}</td>",
                e(&utc(s, false)),
                e(&utc(s, short))
            );
        }
        None => p.push_str("<td data-sort=\"\"></td>"),
    }
}

fn filter_bar(p: &mut String, table: &str, boxes: &[(&str, &str, u64)]) {
    let _ = write!(
        p,
        "<div class=\"filters\" data-for=\"{table}\" hidden><input type=\"search\" placeholder=\"filter rows: host, service, port…\" aria-label=\"filter rows\">"
    );
    for (value, words, n) in boxes {
        let _ = write!(
            p,
            "<label><input type=\"checkbox\" value=\"{}\" checked> {} ({n})</label>",
            e(value),
            e(words)
        );
    }
    p.push_str("<span class=\"shown\"></span></div>\n");
}

fn verdict_table(p: &mut String, v: &VerdictReport, short: bool) {
    let _ = writeln!(
        p,
        "<section id=\"verdict\">\n<h2>Verdict: every expected flow</h2>"
    );
    let c = &v.counts;
    filter_bar(
        p,
        "verdict-table",
        &[
            ("working", "✓ working", c.working),
            ("rejected", "✕ REJECTED", c.rejected),
            ("unanswered", "UNANSWERED", c.unanswered),
            ("not_seen", "not seen", c.not_seen),
        ],
    );
    p.push_str("<table id=\"verdict-table\" class=\"sortable\"><thead><tr><th>Status</th><th>From</th><th>To</th><th>Service</th><th>Port</th><th>Need</th><th class=\"num\">Flows</th><th>First seen</th><th>Last seen</th><th>What it means</th></tr></thead><tbody>\n");
    for edge in &v.edges {
        let (class, words) = status_words(edge.status);
        let rank = match edge.status {
            EdgeStatus::Rejected => 0,
            EdgeStatus::Unanswered => 1,
            EdgeStatus::Working => 2,
            EdgeStatus::NotSeen => 3,
        };
        let _ = write!(
            p,
            "<tr class=\"{class}\" data-filter=\"{class}\"><td class=\"status {class}\" data-sort=\"{rank}\">{}</td><td>{}<br><span class=\"note\">{}</span></td><td>{}<br><span class=\"note\">{}</span></td><td>{}</td><td class=\"mono\">{}/{}</td><td>{}</td><td class=\"num\" data-sort=\"{}\">{}</td>",
            e(words),
            e(&edge.from),
            e(edge.from_role.as_str()),
            e(&edge.to),
            e(edge.to_role.as_str()),
            e(&edge.service),
            e(&edge.ports),
            e(edge.transport.as_str()),
            e(edge.requirement),
            edge.evidence.flows,
            group(edge.evidence.flows)
        );
        time_cell(p, edge.evidence.first_seen, short);
        time_cell(p, edge.evidence.last_seen, short);
        // The not-seen hint is the same sentence every time: it is said once, under the table.
        let mut hint = match edge.status {
            EdgeStatus::NotSeen => String::new(),
            _ => edge.hint.clone().unwrap_or_default(),
        };
        if edge.evidence.syn_retries > 0 {
            hint = format!("{} SYN retries. {hint}", edge.evidence.syn_retries);
        }
        let sources = edge.sources.join("; ");
        if !hint.is_empty() {
            hint.push('\n');
        }
        let _ = writeln!(
            p,
            "<td class=\"hint\">{}<span class=\"note\">rules: {} ({})</span></td></tr>",
            e(&hint).replace('\n', "<br>"),
            e(&edge.rules.join(", ")),
            e(&sources)
        );
    }
    p.push_str("</tbody></table>\n");
    if c.not_seen > 0 {
        p.push_str("<p class=\"note\">Not seen: not needed while the capture ran, or the capture point does not see the path; not proof of a block.</p>\n");
    }
    if v.unattributed_flows > 0 {
        let _ = writeln!(
            p,
            "<p class=\"warning\">{} flows beyond the observed-edge bound were not attributed to any edge.</p>",
            group(v.unattributed_flows)
        );
    }
    p.push_str("</section>\n");
}

fn findings_section(p: &mut String, v: &VerdictReport, short: bool) {
    let list = findings(v);
    let _ = writeln!(p, "<section id=\"findings\">\n<h2>Findings</h2>");
    p.push_str("<p class=\"note\">Traffic the roles do not call for, most severe first.</p>\n");
    if list.is_empty() {
        p.push_str("<p id=\"no-findings\">No findings: every flow to an RDS role host is one the roles call for.</p>\n</section>\n");
        return;
    }
    let count = |s: Severity| list.iter().filter(|f| f.severity == s).count() as u64;
    filter_bar(
        p,
        "findings-table",
        &[
            ("high", "HIGH", count(Severity::High)),
            ("warning", "warning", count(Severity::Warning)),
            ("info", "info", count(Severity::Info)),
        ],
    );
    p.push_str("<table id=\"findings-table\" class=\"sortable\"><thead><tr><th>Severity</th><th>Rule</th><th>From</th><th>To</th><th>Service</th><th class=\"num\">Flows</th><th>First seen</th><th>Last seen</th><th>Why</th></tr></thead><tbody>\n");
    for f in &list {
        let name = severity_name(f.severity);
        let rank = match f.severity {
            Severity::High => 0,
            Severity::Warning => 1,
            Severity::Info => 2,
        };
        let _ = write!(
            p,
            "<tr class=\"finding {name}\" data-filter=\"{name}\"><td class=\"status {name}\" data-sort=\"{rank}\">! {}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"num\" data-sort=\"{}\">{} ({} answered)</td>",
            e(&name.to_uppercase()),
            e(&f.rule),
            e(&f.from),
            e(&f.to),
            e(&f.what),
            f.flows,
            group(f.flows),
            group(f.answered)
        );
        time_cell(p, f.first_seen, short);
        time_cell(p, f.last_seen, short);
        let clients = if f.clients.is_empty() {
            String::new()
        } else {
            format!("clients: {}", f.clients.join(", "))
        };
        let _ = writeln!(
            p,
            "<td class=\"hint\">{}<br><span class=\"note\">{}</span></td></tr>",
            e(&f.reason),
            e(&clients)
        );
    }
    p.push_str("</tbody></table>\n</section>\n");
}

/// The incident rules' findings (issue 8): password spraying, scanning, lateral movement…
fn incident_findings(p: &mut String, summary: &Summary, short: bool) {
    let Some(incident) = &summary.incident else {
        return;
    };
    let _ = writeln!(
        p,
        "<section id=\"incident-findings\">\n<h2>Incident findings</h2>"
    );
    p.push_str("<p class=\"note\">What in the RDP traffic looks like an attack or a weakness, most severe first; the flows are the uids of the flow lines (<code>--flows</code>).</p>\n");
    if incident.findings.is_empty() {
        p.push_str("<p id=\"no-incident-findings\">No incident finding.</p>\n</section>\n");
        return;
    }
    let list = &incident.findings;
    let count = |s: Severity| list.iter().filter(|f| f.severity == s).count() as u64;
    filter_bar(
        p,
        "incident-findings-table",
        &[
            ("high", "HIGH", count(Severity::High)),
            ("warning", "warning", count(Severity::Warning)),
            ("info", "info", count(Severity::Info)),
        ],
    );
    p.push_str("<table id=\"incident-findings-table\" class=\"sortable\"><thead><tr><th>Severity</th><th>Rule</th><th>Sources</th><th>Targets</th><th class=\"num\">Flows</th><th class=\"num\">Sessions</th><th>First seen</th><th>First packet</th><th>What</th></tr></thead><tbody>\n");
    for f in list {
        let name = severity_name(f.severity);
        let rank = match f.severity {
            Severity::High => 0,
            Severity::Warning => 1,
            Severity::Info => 2,
        };
        let _ = write!(
            p,
            "<tr class=\"incident-finding {name}\" data-filter=\"{name}\"><td class=\"status {name}\" data-sort=\"{rank}\">! {}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td>",
            e(&name.to_uppercase()),
            e(f.rule.id()),
            e(&f.sources.join(", ")),
            e(&f.targets.join(", ")),
            f.flows.len(),
            group(f.flows.len() as u64),
            f.sessions.len(),
            group(f.sessions.len() as u64),
        );
        time_cell(p, Some(f.first_seen), short);
        let _ = writeln!(
            p,
            "<td class=\"mono\">{}#{}</td><td class=\"hint\">{}<br><span class=\"note mono\">{}</span></td></tr>",
            e(&f.first_packet.file),
            f.first_packet.number,
            e(&f.summary),
            e(&f.flows.iter().take(10).cloned().collect::<Vec<_>>().join(" ")),
        );
    }
    p.push_str("</tbody></table>\n</section>\n");
}

/// The RDP session table, from the incident view's sessions (the folded per-edge table when
/// there are none to show: a run without a verdict).
fn sessions(p: &mut String, summary: &Summary, short: bool) {
    let Some(incident) = summary.incident.as_ref() else {
        return rdp_edges(p, summary, short);
    };
    use crate::incident::SessionOutcome as O;
    let list = &incident.sessions;
    let _ = writeln!(p, "<section id=\"sessions\">\n<h2>RDP connections</h2>");
    p.push_str("<p class=\"note\">One row per RDP session: its TCP connection, the RDP-UDP side channel, the broker hop and the RD Gateway tunnel where they could be linked. The outcome is read from the negotiation and, once encrypted, from the connection's shape (the evidence column says what decided it).</p>\n");
    if list.is_empty() {
        p.push_str("<p id=\"no-sessions\">No RDP flow in the capture.</p>\n</section>\n");
        return;
    }
    let class = |o: O| match o {
        O::Established => "established",
        O::AuthFailed | O::TlsFailed | O::NegotiationFailed => "failed",
        O::Unanswered | O::Refused => "attempt",
        O::NotRdp | O::Unknown => "other",
    };
    let count = |c: &str| list.iter().filter(|s| class(s.outcome) == c).count() as u64;
    filter_bar(
        p,
        "sessions-table",
        &[
            ("established", "established", count("established")),
            ("failed", "failed", count("failed")),
            ("attempt", "unanswered or refused", count("attempt")),
            ("other", "other", count("other")),
        ],
    );
    p.push_str("<table id=\"sessions-table\" class=\"sortable\"><thead><tr><th>Start</th><th class=\"num\">Duration</th><th>Client</th><th>Server</th><th>User</th><th>Security</th><th>Outcome</th><th class=\"num\">To server</th><th class=\"num\">To client</th><th>Via</th><th>First packet</th></tr></thead><tbody>\n");
    for s in list {
        let c = class(s.outcome);
        let _ = write!(p, "<tr class=\"session {c}\" data-filter=\"{c}\">");
        time_cell(p, Some(s.start), short);
        let mut via = Vec::new();
        if let Some(g) = &s.via_gateway {
            via.push(format!("gateway {}", g.gateway));
        }
        if let Some(b) = &s.via_broker {
            via.push(format!("broker {}", b.broker));
        }
        if let Some(u) = &s.udp {
            via.push(if u.answered {
                "UDP".into()
            } else {
                "UDP unanswered".into()
            });
        }
        let outcome = match &s.failure_code {
            Some(code) => format!("{} ({code})", s.outcome.as_str()),
            None => s.outcome.as_str().to_string(),
        };
        let _ = writeln!(
            p,
            "<td class=\"num\" data-sort=\"{d:.3}\">{d:.0} s</td><td>{}</td><td>{}:{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td title=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td>{}</td><td class=\"mono\">{}#{}</td></tr>",
            e(&s.client),
            e(&s.server),
            s.server_port,
            e(s.user.as_deref().unwrap_or("")),
            e(s.selected.as_deref().unwrap_or("")),
            e(&s.evidence),
            e(&outcome),
            s.bytes_to_server,
            e(&human_bytes(s.bytes_to_server)),
            s.bytes_to_client,
            e(&human_bytes(s.bytes_to_client)),
            e(&via.join(", ")),
            e(&s.first_packet.file),
            s.first_packet.number,
            d = s.duration,
        );
    }
    p.push_str("</tbody></table>\n</section>\n");
}

/// RDP flows folded per client, server and port (the report of a run without sessions).
fn rdp_edges(p: &mut String, summary: &Summary, short: bool) {
    let names = Names::new(summary.verdict.as_ref());
    let rdp: Vec<_> = summary
        .observed
        .iter()
        .filter(|o| matches!(o.service.as_deref(), Some("rdp" | "rdp-udp")))
        .collect();
    let _ = writeln!(p, "<section id=\"sessions\">\n<h2>RDP connections</h2>");
    p.push_str("<p class=\"note\">Flows classified as RDP (TCP) or RDP over UDP, folded per client, server and port.</p>\n");
    if rdp.is_empty() {
        p.push_str("<p id=\"no-sessions\">No RDP flow in the capture.</p>\n</section>\n");
        return;
    }
    filter_bar(p, "sessions-table", &[]);
    p.push_str("<table id=\"sessions-table\" class=\"sortable\"><thead><tr><th>Client</th><th>Server</th><th>Service</th><th class=\"num\">Flows</th><th class=\"num\">Answered</th><th class=\"num\">Failed</th><th>First seen</th><th>Last seen</th><th class=\"num\">Duration</th><th class=\"num\">Packets</th><th class=\"num\">Bytes</th></tr></thead><tbody>\n");
    for o in rdp {
        let failed = o.rejected + o.icmp_rejected + o.unanswered;
        let (first, last) = (o.first_seen.as_secs_f64(), o.last_seen.as_secs_f64());
        let duration = o.last_seen.since(o.first_seen).as_secs_f64();
        let packets = o.packets[0] + o.packets[1];
        let bytes = o.bytes[0] + o.bytes[1];
        let _ = write!(
            p,
            "<tr><td>{}</td><td>{}</td><td class=\"mono\">{} {}/{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{}\">{}</td><td class=\"num\" data-sort=\"{failed}\">{}</td>",
            e(&names.of(o.client)),
            e(&names.of(o.server)),
            e(o.service.as_deref().unwrap_or_default()),
            o.server_port,
            super::protocol_name(o.protocol),
            o.flows,
            group(o.flows),
            o.answered,
            group(o.answered),
            group(failed)
        );
        time_cell(p, Some(first), short);
        time_cell(p, Some(last), short);
        let _ = writeln!(
            p,
            "<td class=\"num\" data-sort=\"{duration:.3}\">{duration:.0} s</td><td class=\"num\" data-sort=\"{packets}\">{}</td><td class=\"num\" data-sort=\"{bytes}\">{}</td></tr>",
            group(packets),
            e(&human_bytes(bytes))
        );
    }
    p.push_str("</tbody></table>\n</section>\n");
}

/// A bucket width in words.
fn width_words(seconds: f64) -> String {
    let s = seconds as i64;
    if s % 86_400 == 0 {
        format!("{} d", s / 86_400)
    } else if s % 3600 == 0 {
        format!("{} h", s / 3600)
    } else if s % 60 == 0 {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}

fn timeline(p: &mut String, summary: &Summary) {
    let t = &summary.timeline;
    let _ = writeln!(
        p,
        "<section id=\"timeline\">\n<h2>Timeline: flows per service</h2>"
    );
    let Some(start) = t.start.filter(|_| !t.services.is_empty() && t.buckets > 0) else {
        p.push_str("<p class=\"note\">No RDS flow in the capture.</p>\n</section>\n");
        return;
    };
    let _ = writeln!(
        p,
        "<p class=\"note\">Flows started per {} (UTC). Each row is scaled to its own peak (the most flows in one bucket), shown at its right. Solid: answered; hatched: rejected or unanswered.</p>",
        e(&width_words(t.bucket_seconds))
    );
    let label_w = 130.0;
    let bar_area = 1000.0_f64;
    let bar_w = bar_area / t.buckets as f64;
    let row_h = 26.0;
    let top = 8.0;
    let axis_h = 24.0;
    let width = label_w + bar_area + 210.0;
    let height = top + row_h * t.services.len() as f64 + axis_h;
    let _ = writeln!(
        p,
        "<div class=\"scroll\"><svg id=\"timeline-svg\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"Flows started per service over the capture\">\n<defs><pattern id=\"hatch\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"5\" height=\"5\" fill=\"#fbe3e3\"/><path d=\"M0 0 V5\" stroke=\"#c62828\" stroke-width=\"2.2\"/></pattern></defs>"
    );
    let short = t.bucket_seconds < 86_400.0 && same_day(summary);
    for (row, line) in t.services.iter().enumerate() {
        let y0 = top + row as f64 * row_h;
        let peak = line.flows.iter().copied().max().unwrap_or(0).max(1);
        let total: u64 = line.flows.iter().sum();
        let failed: u64 = line.failed.iter().sum();
        let _ = write!(
            p,
            "<g class=\"tl-row\" data-service=\"{}\"><text x=\"4\" y=\"{:.1}\" font-size=\"12\" class=\"mono\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#5f6b7a\">{} flows{}, peak {peak}</text><line x1=\"{label_w}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#d5dbe3\"/>",
            e(&line.service),
            y0 + 16.0,
            e(&fit(&line.service, 20)),
            label_w + bar_area + 6.0,
            y0 + 16.0,
            group(total),
            if failed > 0 {
                format!(", {} failed", group(failed))
            } else {
                String::new()
            },
            label_w + bar_area,
            y0 + row_h - 2.0,
            y0 + row_h - 2.0
        );
        for (k, (n, f)) in line.flows.iter().zip(&line.failed).enumerate() {
            if *n == 0 {
                continue;
            }
            let full = (row_h - 6.0) * *n as f64 / peak as f64;
            let failed_h = (row_h - 6.0) * *f as f64 / peak as f64;
            let x = label_w + k as f64 * bar_w + 0.5;
            let base = y0 + row_h - 2.0;
            let from = start + k as f64 * t.bucket_seconds;
            let _ = write!(
                p,
                "<g><title>{} to {}: {} flows started, {} failed</title><rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#4a7bb7\"/>",
                e(&utc(from, short)),
                e(&utc(from + t.bucket_seconds, short)),
                n,
                f,
                base - full,
                (bar_w - 1.0).max(1.0),
                full - failed_h
            );
            if *f > 0 {
                let _ = write!(
                    p,
                    "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{failed_h:.1}\" fill=\"url(#hatch)\" stroke=\"#c62828\" stroke-width=\"0.8\"/>",
                    base - failed_h,
                    (bar_w - 1.0).max(1.0)
                );
            }
            p.push_str("</g>");
        }
        p.push_str("</g>\n");
    }
    // Time axis: about eight ticks, on bucket boundaries.
    let axis_y = top + row_h * t.services.len() as f64;
    let every = t.buckets.div_ceil(8).max(1);
    let mut k = 0;
    while k <= t.buckets {
        let x = label_w + k as f64 * bar_w;
        let _ = write!(
            p,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#8a8f98\"/><text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#5f6b7a\" text-anchor=\"middle\" class=\"mono\">{}</text>",
            axis_y,
            axis_y + 4.0,
            axis_y + 15.0,
            e(&utc(start + k as f64 * t.bucket_seconds, short))
        );
        k += every;
    }
    p.push_str("\n</svg></div>\n</section>\n");
}

#[cfg(test)]
mod tests;
