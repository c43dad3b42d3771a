//! Layered layout of the deployment graph for the report's SVG: role groups in columns by tier
//! (clients → gateway/web → broker → session hosts → licensing and infrastructure), lines
//! routed through lanes between the groups of the columns they cross, ports spread along box
//! sides, and labels slid along their line to the least crowded place. Owns geometry only;
//! must not write SVG or HTML, and must stay deterministic (same graph → same numbers: no hash
//! order, no clock, no randomness).
//!
//! The method is Sugiyama's, cut down: layers are fixed by role tier rather than computed; a
//! line that skips columns gets one lane (a "dummy vertex") in each column it crosses; the order
//! within a column comes from alternating barycenter sweeps; coordinates come from isotonic
//! regression (pool adjacent violators), which puts every box as close as the order and the
//! spacing allow to the mean height of what it connects to.

use std::collections::BTreeMap;

use super::graph::{label_lines, End, Graph};

/// Space around the drawing.
pub const MARGIN: f64 = 16.0;
/// Height of the column titles row.
pub const TITLE_H: f64 = 22.0;
/// Width of a group box (and of a column).
pub const GROUP_W: f64 = 158.0;
/// Inset of host boxes inside their group.
pub const NODE_INSET: f64 = 8.0;
/// Width of a host box.
pub const NODE_W: f64 = GROUP_W - 2.0 * NODE_INSET;
/// Least height of a host box (name and addresses); hosts with many lines grow.
pub const NODE_H: f64 = 34.0;
/// Vertical distance between the lines meeting one side of a box.
pub const PORT_STEP: f64 = 11.0;
/// Space between host boxes in a group.
pub const NODE_GAP: f64 = 6.0;
/// Height of a group's title band.
pub const HEADER_H: f64 = 22.0;
/// Space under the last host box of a group.
pub const GROUP_PAD: f64 = 8.0;
/// Horizontal space between columns (where most labels go).
pub const GAP_X: f64 = 118.0;
/// Vertical space between groups of one column.
pub const GROUP_GAP: f64 = 36.0;
/// Vertical space between lanes crossing a column.
pub const LANE_GAP: f64 = 20.0;
/// Width of one character of label text (10 px DejaVu Sans Mono is 6.02 px; kept generous).
pub const CHAR_W: f64 = 6.2;
/// Height of one label text line.
pub const LINE_H: f64 = 12.0;
/// Padding inside a label box.
pub const LABEL_PAD: f64 = 3.0;
/// Barycenter sweeps.
const SWEEPS: usize = 24;

/// A point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    /// Left to right.
    pub x: f64,
    /// Top to bottom.
    pub y: f64,
}

/// An axis-aligned rectangle.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// The area two rectangles share (zero when they only touch).
    pub fn overlap(&self, other: &Self) -> f64 {
        let w = (self.x + self.w).min(other.x + other.w) - self.x.max(other.x);
        let h = (self.y + self.h).min(other.y + other.h) - self.y.max(other.y);
        if w > 0.0 && h > 0.0 {
            w * h
        } else {
            0.0
        }
    }

    /// Whether the point is inside.
    pub fn contains(&self, p: Point) -> bool {
        p.x >= self.x && p.x <= self.x + self.w && p.y >= self.y && p.y <= self.y + self.h
    }

    fn center(&self) -> Point {
        Point {
            x: self.x + self.w / 2.0,
            y: self.y + self.h / 2.0,
        }
    }

    fn shifted(self, dx: f64, dy: f64) -> Self {
        Self {
            x: self.x + dx,
            y: self.y + dy,
            ..self
        }
    }
}

/// A path of cubic Bézier segments.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// Where it starts.
    pub start: Point,
    /// Control point, control point, end point of each segment.
    pub curves: Vec<[Point; 3]>,
}

impl Path {
    /// SVG path data with one decimal (`M x y C …`).
    pub fn svg(&self) -> String {
        let mut d = format!("M{:.1} {:.1}", self.start.x, self.start.y);
        for [a, b, c] in &self.curves {
            d.push_str(&format!(
                " C{:.1} {:.1} {:.1} {:.1} {:.1} {:.1}",
                a.x, a.y, b.x, b.y, c.x, c.y
            ));
        }
        d
    }

    /// Points along the path, `steps` per segment, the start included.
    pub fn polyline(&self, steps: usize) -> Vec<Point> {
        let mut out = vec![self.start];
        let mut from = self.start;
        for [a, b, c] in &self.curves {
            for i in 1..=steps {
                let t = i as f64 / steps as f64;
                let u = 1.0 - t;
                out.push(Point {
                    x: u * u * u * from.x
                        + 3.0 * u * u * t * a.x
                        + 3.0 * u * t * t * b.x
                        + t * t * t * c.x,
                    y: u * u * u * from.y
                        + 3.0 * u * u * t * a.y
                        + 3.0 * u * t * t * b.y
                        + t * t * t * c.y,
                });
            }
            from = *c;
        }
        out
    }

    fn shifted(&mut self, dx: f64, dy: f64) {
        let shift = |p: &mut Point| {
            p.x += dx;
            p.y += dy;
        };
        shift(&mut self.start);
        for curve in &mut self.curves {
            curve.iter_mut().for_each(shift);
        }
    }
}

/// A line placed: its path and its label.
#[derive(Clone, Debug, PartialEq)]
pub struct PlacedLine {
    /// Index into [`Graph::lines`].
    pub line: usize,
    /// The arrow, from the opener to the answerer.
    pub path: Path,
    /// The label box.
    pub label: Rect,
    /// Where a label set off its line is tied to it (a leader line is drawn from here to the
    /// label); `None` when the label sits on or touches its line.
    pub anchor: Option<Point>,
    /// The label text, one string per text line.
    pub text: Vec<String>,
}

/// A column: its left edge and the tier it shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Column {
    /// Left edge.
    pub x: f64,
    /// Index into `graph::TIER_NAMES`.
    pub tier: usize,
}

/// Everything placed.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    /// Drawing width.
    pub width: f64,
    /// Drawing height.
    pub height: f64,
    /// Columns, left to right.
    pub columns: Vec<Column>,
    /// Group boxes, by group index.
    pub groups: Vec<Rect>,
    /// Host boxes, by node index.
    pub nodes: Vec<Rect>,
    /// Lines, in drawing order (quiet ones first, problems last, so problems stay on top).
    pub lines: Vec<PlacedLine>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Group(usize),
    Lane,
}

#[derive(Clone, Debug)]
struct Vertex {
    col: usize,
    h: f64,
    kind: Kind,
    side: bool,
}

/// A link between vertices of adjacent columns: `a` left of `b`, with the heights inside each
/// where the line meets it.
#[derive(Clone, Copy, Debug)]
struct Link {
    a: usize,
    oa: f64,
    b: usize,
    ob: f64,
}

/// Heights of host boxes and where they sit in their group.
#[derive(Clone, Debug)]
struct Sizes {
    /// Per node: top offset inside its group, and height.
    node: Vec<(f64, f64)>,
    /// Per group: height.
    group: Vec<f64>,
}

impl Sizes {
    /// A host box is tall enough for the lines on its busier side, [`PORT_STEP`] apart.
    fn new(graph: &Graph, ports: &BTreeMap<(End, Side), usize>) -> Self {
        let mut node = vec![(0.0, NODE_H); graph.nodes.len()];
        let mut group = Vec::with_capacity(graph.groups.len());
        for (g, grp) in graph.groups.iter().enumerate() {
            let mut top = HEADER_H;
            for n in &grp.nodes {
                let busiest = [Side::Left, Side::Right]
                    .iter()
                    .map(|side| ports.get(&(End::Node(*n), *side)).copied().unwrap_or(0))
                    .max()
                    .unwrap_or(0);
                let h = NODE_H.max(busiest as f64 * PORT_STEP + 12.0);
                if let Some(slot) = node.get_mut(*n) {
                    *slot = (top, h);
                }
                top += h + NODE_GAP;
            }
            let busiest = [Side::Left, Side::Right]
                .iter()
                .map(|side| ports.get(&(End::Group(g), *side)).copied().unwrap_or(0))
                .max()
                .unwrap_or(0);
            let inner = (top - NODE_GAP - HEADER_H).max(NODE_H);
            let h = HEADER_H + inner.max(busiest as f64 * PORT_STEP + 12.0) + GROUP_PAD;
            group.push(h);
        }
        Self { node, group }
    }
}

fn gap_between(a: &Vertex, b: &Vertex) -> f64 {
    match (a.kind, b.kind) {
        (Kind::Lane, Kind::Lane) => LANE_GAP,
        (Kind::Group(_), Kind::Group(_)) => GROUP_GAP,
        _ => (LANE_GAP + GROUP_GAP) / 2.0,
    }
}

/// Positions that keep `order` and the spacing, as close as possible (least squares, weighted)
/// to `desired`: pool adjacent violators over the desired tops minus the stacked offsets.
fn isotonic(order: &[usize], vertices: &[Vertex], desired: &[f64], weight: &[f64]) -> Vec<f64> {
    let mut offsets = Vec::with_capacity(order.len());
    let mut acc = 0.0;
    for (i, v) in order.iter().enumerate() {
        if i > 0 {
            let prev = &vertices[order[i - 1]];
            acc += prev.h + gap_between(prev, &vertices[*v]);
        }
        offsets.push(acc);
    }
    // Blocks of (total weight, weighted sum, count).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new();
    for (i, v) in order.iter().enumerate() {
        let w = weight[*v];
        blocks.push((w, w * (desired[*v] - offsets[i]), 1));
        while blocks.len() > 1 {
            let (w2, s2, n2) = blocks[blocks.len() - 1];
            let (w1, s1, n1) = blocks[blocks.len() - 2];
            if s1 / w1 > s2 / w2 {
                blocks.pop();
                blocks.pop();
                blocks.push((w1 + w2, s1 + s2, n1 + n2));
            } else {
                break;
            }
        }
    }
    let mut out = Vec::with_capacity(order.len());
    for (w, s, n) in blocks {
        for _ in 0..n {
            let i = out.len();
            out.push(s / w + offsets[i]);
        }
    }
    out
}

/// Where a line meets a box: on its left or right side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Side {
    Left,
    Right,
}

/// Lines meeting each side of each box: (height of where the line goes next, line index, true
/// for the line's opening end).
type Attachments = BTreeMap<(End, Side), Vec<(f64, usize, bool)>>;

/// The sides a line meets, given the columns of its two ends.
fn sides(from_col: usize, to_col: usize) -> (Side, Side) {
    match from_col.cmp(&to_col) {
        std::cmp::Ordering::Less => (Side::Right, Side::Left),
        std::cmp::Ordering::Greater => (Side::Left, Side::Right),
        std::cmp::Ordering::Equal => (Side::Right, Side::Right),
    }
}

/// Lays the graph out.
pub fn layout(graph: &Graph) -> Layout {
    // Columns: the tiers that have groups, in order.
    let mut tiers: Vec<usize> = graph.groups.iter().map(|g| g.tier).collect();
    tiers.sort_unstable();
    tiers.dedup();
    let col_of_tier = |tier: usize| tiers.iter().position(|t| *t == tier).unwrap_or(0);
    let columns = tiers.len().max(1);
    let group_col: Vec<usize> = graph.groups.iter().map(|g| col_of_tier(g.tier)).collect();
    let end_col = |end: End| group_col.get(graph.group_of(end)).copied().unwrap_or(0);

    // How many lines meet each side of each box: hosts grow to fit theirs.
    let mut port_count: BTreeMap<(End, Side), usize> = BTreeMap::new();
    for line in &graph.lines {
        let (a, b) = sides(end_col(line.from), end_col(line.to));
        *port_count.entry((line.from, a)).or_default() += 1;
        *port_count.entry((line.to, b)).or_default() += 1;
    }
    let sizes = Sizes::new(graph, &port_count);

    // Vertices: groups first (index = group index), then lanes.
    let mut vertices: Vec<Vertex> = graph
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| Vertex {
            col: group_col[i],
            h: sizes.group[i],
            kind: Kind::Group(i),
            side: g.side,
        })
        .collect();
    let offset_in_group = |end: End| -> f64 {
        match end {
            End::Node(n) => sizes.node.get(n).map_or(0.0, |(top, h)| top + h / 2.0),
            End::Group(g) => sizes.group.get(g).map_or(0.0, |h| h / 2.0),
        }
    };
    // Each line's route: the vertices it passes, from the opener's group to the answerer's.
    let mut routes: Vec<Vec<usize>> = Vec::with_capacity(graph.lines.len());
    let mut links: Vec<Link> = Vec::new();
    // Lines within one column pull their two groups together (they are drawn as arcs).
    let mut column_links: Vec<(usize, f64, usize, f64)> = Vec::new();
    for line in &graph.lines {
        let (ga, gb) = (graph.group_of(line.from), graph.group_of(line.to));
        let (ca, cb) = (vertices[ga].col, vertices[gb].col);
        let mut route = vec![ga];
        let step: isize = if cb > ca { 1 } else { -1 };
        let mut c = ca as isize + step;
        while ca != cb && c != cb as isize {
            vertices.push(Vertex {
                col: c as usize,
                h: 0.0,
                kind: Kind::Lane,
                side: false,
            });
            route.push(vertices.len() - 1);
            c += step;
        }
        route.push(gb);
        if ca == cb {
            if ga != gb {
                column_links.push((ga, offset_in_group(line.from), gb, offset_in_group(line.to)));
            }
        } else {
            let n = route.len();
            for (i, pair) in route.windows(2).enumerate() {
                let oa = if i == 0 {
                    offset_in_group(line.from)
                } else {
                    0.0
                };
                let ob = if i + 2 == n {
                    offset_in_group(line.to)
                } else {
                    0.0
                };
                let (mut link_a, mut link_b) = ((pair[0], oa), (pair[1], ob));
                if vertices[pair[0]].col > vertices[pair[1]].col {
                    std::mem::swap(&mut link_a, &mut link_b);
                }
                links.push(Link {
                    a: link_a.0,
                    oa: link_a.1,
                    b: link_b.0,
                    ob: link_b.1,
                });
            }
        }
        routes.push(route);
    }

    // Initial order: groups as the deployment lists them (side groups last), then lanes.
    let mut order: Vec<Vec<usize>> = vec![Vec::new(); columns];
    for (i, v) in vertices.iter().enumerate() {
        order[v.col].push(i);
    }
    for col in &mut order {
        col.sort_by_key(|v| {
            (
                vertices[*v].side,
                matches!(vertices[*v].kind, Kind::Lane),
                *v,
            )
        });
    }
    let mut y = vec![0.0; vertices.len()];
    for col in &order {
        let ones = vec![1.0; vertices.len()];
        let zeros = vec![0.0; vertices.len()];
        for (v, top) in col.iter().zip(isotonic(col, &vertices, &zeros, &ones)) {
            y[*v] = top;
        }
    }
    // Neighbours of each vertex: (other vertex, height in other, height in self), to the left,
    // to the right, and in the same column.
    let mut left_links: Vec<Vec<(usize, f64, f64)>> = vec![Vec::new(); vertices.len()];
    let mut right_links: Vec<Vec<(usize, f64, f64)>> = vec![Vec::new(); vertices.len()];
    let mut same_links: Vec<Vec<(usize, f64, f64)>> = vec![Vec::new(); vertices.len()];
    for l in &links {
        left_links[l.b].push((l.a, l.oa, l.ob));
        right_links[l.a].push((l.b, l.ob, l.oa));
    }
    for (a, oa, b, ob) in &column_links {
        same_links[*a].push((*b, *ob, *oa));
        same_links[*b].push((*a, *oa, *ob));
    }
    let desired_from = |y: &[f64], v: usize, sides: &[&Vec<(usize, f64, f64)>]| -> (f64, f64) {
        let mut sum = 0.0;
        let mut n = 0.0;
        for side in sides {
            for (u, ou, ov) in side.iter() {
                sum += y[*u] + ou - ov;
                n += 1.0;
            }
        }
        if n > 0.0 {
            (sum / n, n)
        } else {
            (y[v], 0.05)
        }
    };
    for sweep in 0..SWEEPS {
        let forward = sweep % 2 == 0;
        let cols: Vec<usize> = if forward {
            (0..columns).collect()
        } else {
            (0..columns).rev().collect()
        };
        for c in cols {
            let mut desired = vec![0.0; vertices.len()];
            let mut weight = vec![0.0; vertices.len()];
            for v in &order[c] {
                // Two-sided: a box between its left and right neighbours (a one-sided sweep
                // gets stuck with a lane pulled below a tall group by a box that only followed
                // that lane).
                let (d, w) = desired_from(
                    &y,
                    *v,
                    &[&left_links[*v], &right_links[*v], &same_links[*v]],
                );
                desired[*v] = d + vertices[*v].h / 2.0;
                weight[*v] = w;
            }
            let position: BTreeMap<usize, usize> =
                order[c].iter().enumerate().map(|(i, v)| (*v, i)).collect();
            order[c].sort_by(|a, b| {
                (vertices[*a].side, desired[*a])
                    .partial_cmp(&(vertices[*b].side, desired[*b]))
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(position[a].cmp(&position[b]))
            });
            for v in &order[c] {
                desired[*v] -= vertices[*v].h / 2.0;
            }
            for (v, top) in order[c]
                .iter()
                .zip(isotonic(&order[c], &vertices, &desired, &weight))
            {
                y[*v] = top;
            }
        }
    }
    // Final coordinates: every neighbour counts, order kept.
    for _ in 0..8 {
        for col in &order {
            let mut desired = vec![0.0; vertices.len()];
            let mut weight = vec![0.0; vertices.len()];
            for v in col {
                let (d, w) = desired_from(
                    &y,
                    *v,
                    &[&left_links[*v], &right_links[*v], &same_links[*v]],
                );
                desired[*v] = d;
                weight[*v] = w;
            }
            for (v, top) in col.iter().zip(isotonic(col, &vertices, &desired, &weight)) {
                y[*v] = top;
            }
        }
    }

    // Boxes.
    let col_x = |c: usize| MARGIN + c as f64 * (GROUP_W + GAP_X);
    let groups: Vec<Rect> = (0..graph.groups.len())
        .map(|g| Rect {
            x: col_x(vertices[g].col),
            y: y[g],
            w: GROUP_W,
            h: sizes.group[g],
        })
        .collect();
    let mut nodes: Vec<Rect> = vec![
        Rect {
            x: 0.0,
            y: 0.0,
            w: 0.0,
            h: 0.0
        };
        graph.nodes.len()
    ];
    for (g, group) in graph.groups.iter().enumerate() {
        for n in &group.nodes {
            if let (Some(slot), Some((top, h))) = (nodes.get_mut(*n), sizes.node.get(*n)) {
                *slot = Rect {
                    x: groups[g].x + NODE_INSET,
                    y: groups[g].y + top,
                    w: NODE_W,
                    h: *h,
                };
            }
        }
    }
    let end_rect = |end: End| match end {
        End::Node(n) => nodes[n],
        End::Group(g) => groups[g],
    };

    // Ports: each line's two ends, spread along the side they meet, ordered by where the line
    // goes next so that lines leaving one box do not cross each other.
    let mut attachments: Attachments = BTreeMap::new();
    for (i, line) in graph.lines.iter().enumerate() {
        let route = &routes[i];
        let (from_side, to_side) = sides(end_col(line.from), end_col(line.to));
        let next_from = if route.len() > 2 {
            y[route[1]]
        } else {
            end_rect(line.to).center().y
        };
        let next_to = if route.len() > 2 {
            y[route[route.len() - 2]]
        } else {
            end_rect(line.from).center().y
        };
        attachments
            .entry((line.from, from_side))
            .or_default()
            .push((next_from, i, true));
        attachments
            .entry((line.to, to_side))
            .or_default()
            .push((next_to, i, false));
    }
    let mut ports: Vec<[Point; 2]> = vec![[Point { x: 0.0, y: 0.0 }; 2]; graph.lines.len()];
    for ((end, side), mut list) in attachments {
        list.sort_by(|a, b| {
            a.0.partial_cmp(&b.0)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.1.cmp(&b.1))
                .then(a.2.cmp(&b.2))
        });
        let rect = end_rect(end);
        let (top, height) = match end {
            End::Node(_) => (rect.y, rect.h),
            // A group's lines meet it beside its hosts, not in the title band.
            End::Group(_) => (rect.y + HEADER_H, rect.h - HEADER_H - GROUP_PAD),
        };
        let n = list.len() as f64;
        let spacing = ((height - 10.0).max(4.0) / n).min(PORT_STEP);
        let cy = top + height / 2.0;
        let x = match side {
            Side::Left => rect.x,
            Side::Right => rect.x + rect.w,
        };
        for (k, (_, line, is_from)) in list.iter().enumerate() {
            let p = Point {
                x,
                y: cy + (k as f64 - (n - 1.0) / 2.0) * spacing,
            };
            ports[*line][usize::from(!*is_from)] = p;
        }
    }

    // Paths.
    let horizontal = |p: Point, q: Point| -> [Point; 3] {
        let dx = (q.x - p.x) / 2.0;
        [
            Point {
                x: p.x + dx,
                y: p.y,
            },
            Point {
                x: q.x - dx,
                y: q.y,
            },
            q,
        ]
    };
    let mut paths: Vec<Path> = Vec::with_capacity(graph.lines.len());
    for (i, route) in routes.iter().enumerate() {
        let [start, end] = ports[i];
        let mut curves = Vec::new();
        if route.len() == 2 && vertices[route[0]].col == vertices[route[1]].col {
            let bulge = (28.0 + (end.y - start.y).abs() * 0.15).min(GAP_X * 0.4);
            curves.push([
                Point {
                    x: start.x + bulge,
                    y: start.y,
                },
                Point {
                    x: end.x + bulge,
                    y: end.y,
                },
                end,
            ]);
        } else {
            let mut at = start;
            for lane in &route[1..route.len() - 1] {
                let x0 = col_x(vertices[*lane].col);
                let (enter, exit) = if end.x > start.x {
                    (x0, x0 + GROUP_W)
                } else {
                    (x0 + GROUP_W, x0)
                };
                let ly = y[*lane];
                let p = Point { x: enter, y: ly };
                curves.push(horizontal(at, p));
                let q = Point { x: exit, y: ly };
                curves.push([
                    Point {
                        x: enter + (exit - enter) / 3.0,
                        y: ly,
                    },
                    Point {
                        x: enter + 2.0 * (exit - enter) / 3.0,
                        y: ly,
                    },
                    q,
                ]);
                at = q;
            }
            curves.push(horizontal(at, end));
        }
        paths.push(Path { start, curves });
    }

    let labels = place_labels(graph, &paths, &groups, &nodes);

    // Drawing order: quiet lines first so problems are drawn on top.
    let mut drawing: Vec<usize> = (0..graph.lines.len()).collect();
    drawing.sort_by_key(|i| (std::cmp::Reverse(graph.lines[*i].class), *i));
    let mut lines: Vec<PlacedLine> = drawing
        .into_iter()
        .map(|i| PlacedLine {
            line: i,
            path: paths[i].clone(),
            label: labels[i].0,
            anchor: labels[i].2,
            text: labels[i].1.clone(),
        })
        .collect();

    // Translate so the drawing starts at the margin, below the column titles.
    let mut min = Point {
        x: f64::INFINITY,
        y: f64::INFINITY,
    };
    let mut max = Point {
        x: f64::NEG_INFINITY,
        y: f64::NEG_INFINITY,
    };
    let mut extend = |r: &Rect| {
        min.x = min.x.min(r.x);
        min.y = min.y.min(r.y);
        max.x = max.x.max(r.x + r.w);
        max.y = max.y.max(r.y + r.h);
    };
    groups.iter().for_each(&mut extend);
    for l in &lines {
        extend(&l.label);
        for p in l.path.polyline(8) {
            extend(&Rect {
                x: p.x,
                y: p.y,
                w: 0.0,
                h: 0.0,
            });
        }
    }
    if !min.x.is_finite() {
        min = Point { x: 0.0, y: 0.0 };
        max = Point { x: 0.0, y: 0.0 };
    }
    let dx = MARGIN - min.x.min(MARGIN);
    let dy = MARGIN + TITLE_H - min.y;
    let groups: Vec<Rect> = groups.into_iter().map(|r| r.shifted(dx, dy)).collect();
    let nodes: Vec<Rect> = nodes.into_iter().map(|r| r.shifted(dx, dy)).collect();
    for l in &mut lines {
        l.label = l.label.shifted(dx, dy);
        l.path.shifted(dx, dy);
        if let Some(a) = &mut l.anchor {
            a.x += dx;
            a.y += dy;
        }
    }
    Layout {
        width: (max.x + dx + MARGIN).max(col_x(columns - 1) + GROUP_W + MARGIN + dx),
        height: max.y + dy + MARGIN,
        columns: tiers
            .iter()
            .enumerate()
            .map(|(c, tier)| Column {
                x: col_x(c) + dx,
                tier: *tier,
            })
            .collect(),
        groups,
        nodes,
        lines,
    }
}

/// Grid cell size for counting line points under a label.
const CELL: f64 = 24.0;
/// Cost of covering a box, another label (per covered fraction of the label): high enough
/// that any clear place wins.
const COVER_COST: f64 = 100_000.0;
/// Cost per point of another line under a label.
const CROSS_COST: f64 = 8.0;
/// Cost of sitting beside the line instead of on it.
const BESIDE_COST: f64 = 25.0;
/// Cost per pixel away from the preferred place along the line.
const SLIDE_COST: f64 = 0.03;
/// Cost of a leader line, plus this much per pixel of its length.
const LEADER_COST: f64 = 60.0;
const LEADER_COST_PER_PX: f64 = 1.5;
/// Cost per sampled point of a leader inside a box or another label.
const LEADER_BLOCKED_COST: f64 = 400.0;
/// How far from its line a label may be set (with a leader), above or below.
const LEADER_STEPS: [f64; 6] = [10.0, 22.0, 36.0, 52.0, 72.0, 96.0];

/// Places every line's label, problems first: on its line (or just beside it, touching it),
/// where it covers no box and no other label and as few other lines as possible, near the
/// middle of the line.
fn place_labels(
    graph: &Graph,
    paths: &[Path],
    groups: &[Rect],
    nodes: &[Rect],
) -> Vec<(Rect, Vec<String>, Option<Point>)> {
    // Points of every line, bucketed in a grid (BTreeMap: deterministic).
    let polylines: Vec<Vec<Point>> = paths.iter().map(|p| p.polyline(16)).collect();
    let mut grid: BTreeMap<(i64, i64), Vec<(usize, Point)>> = BTreeMap::new();
    let cell = |p: Point| ((p.x / CELL).floor() as i64, (p.y / CELL).floor() as i64);
    for (i, poly) in polylines.iter().enumerate() {
        for p in poly {
            grid.entry(cell(*p)).or_default().push((i, *p));
        }
    }
    let mut order: Vec<usize> = (0..graph.lines.len()).collect();
    order.sort_by_key(|i| (graph.lines[*i].class, *i));
    let mut placed: Vec<Rect> = Vec::new();
    let empty = Rect {
        x: 0.0,
        y: 0.0,
        w: 0.0,
        h: 0.0,
    };
    let mut out: Vec<(Rect, Vec<String>, Option<Point>)> =
        vec![(empty, Vec::new(), None); graph.lines.len()];
    for i in order {
        let line = &graph.lines[i];
        let text = label_lines(line);
        let chars = text.iter().map(|t| t.chars().count()).max().unwrap_or(0);
        let w = chars as f64 * CHAR_W + 2.0 * LABEL_PAD;
        let h = text.len() as f64 * LINE_H + 2.0 * LABEL_PAD;
        let poly = &polylines[i];
        // Arc length at each point.
        let mut length = vec![0.0];
        for pair in poly.windows(2) {
            let d = ((pair[1].x - pair[0].x).powi(2) + (pair[1].y - pair[0].y).powi(2)).sqrt();
            length.push(length[length.len() - 1] + d);
        }
        let total = length[length.len() - 1];
        let preferred = total / 2.0;
        let end_margin = 26.0_f64.min(total / 3.0);
        let mut best: Option<(f64, Rect, Option<Point>)> = None;
        let mut shifts: Vec<(f64, f64, bool)> = vec![
            (0.0, 0.0, false),
            (-(h / 2.0 + 1.0), BESIDE_COST, false),
            (h / 2.0 + 1.0, BESIDE_COST, false),
        ];
        for step in LEADER_STEPS {
            let cost = LEADER_COST + LEADER_COST_PER_PX * step;
            shifts.push((-(h / 2.0 + step), cost, true));
            shifts.push((h / 2.0 + step, cost, true));
        }
        for (k, p) in poly.iter().enumerate() {
            let s = length[k];
            if s < end_margin || s > total - end_margin {
                continue;
            }
            for &(shift, shift_cost, leader) in &shifts {
                let rect = Rect {
                    x: p.x - w / 2.0,
                    y: p.y - h / 2.0 + shift,
                    w,
                    h,
                };
                let area = w * h;
                let mut cover = 0.0;
                for n in nodes {
                    cover += rect.overlap(n);
                }
                for g in groups {
                    cover += rect.overlap(g);
                }
                for other in &placed {
                    let grown = Rect {
                        x: other.x - 2.0,
                        y: other.y - 2.0,
                        w: other.w + 4.0,
                        h: other.h + 4.0,
                    };
                    cover += rect.overlap(&grown);
                }
                let mut cost =
                    COVER_COST * cover / area + SLIDE_COST * (s - preferred).abs() + shift_cost;
                if leader {
                    // A leader should not run through a box or another label either.
                    let end = Point {
                        x: p.x.clamp(rect.x, rect.x + w),
                        y: p.y.clamp(rect.y, rect.y + h),
                    };
                    for t in 1..8 {
                        let t = f64::from(t) / 8.0;
                        let q = Point {
                            x: p.x + (end.x - p.x) * t,
                            y: p.y + (end.y - p.y) * t,
                        };
                        let blocked = nodes.iter().chain(&placed).any(|r| r.contains(q));
                        cost += if blocked { LEADER_BLOCKED_COST } else { 0.0 };
                    }
                }
                if best.as_ref().is_some_and(|(c, _, _)| cost >= *c) {
                    continue;
                }
                let (c0, c1) = (
                    cell(Point {
                        x: rect.x,
                        y: rect.y,
                    }),
                    cell(Point {
                        x: rect.x + w,
                        y: rect.y + h,
                    }),
                );
                let mut crossings = 0usize;
                for cx in c0.0..=c1.0 {
                    for cy in c0.1..=c1.1 {
                        if let Some(points) = grid.get(&(cx, cy)) {
                            crossings += points
                                .iter()
                                .filter(|(owner, q)| *owner != i && rect.contains(*q))
                                .count();
                        }
                    }
                }
                cost += CROSS_COST * crossings as f64;
                if best.as_ref().is_none_or(|(c, _, _)| cost < *c) {
                    best = Some((cost, rect, leader.then_some(*p)));
                }
            }
        }
        let (rect, anchor) = best.map(|(_, r, a)| (r, a)).unwrap_or_else(|| {
            let p = poly[poly.len() / 2];
            (
                Rect {
                    x: p.x - w / 2.0,
                    y: p.y - h / 2.0,
                    w,
                    h,
                },
                None,
            )
        });
        placed.push(rect);
        out[i] = (rect, text, anchor);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_keeps_order_and_spacing() {
        let vertices: Vec<Vertex> = (0..3)
            .map(|i| Vertex {
                col: 0,
                h: 10.0,
                kind: Kind::Group(i),
                side: false,
            })
            .collect();
        // All want to sit at 0: they spread around it, spaced by height + gap.
        let y = isotonic(&[0, 1, 2], &vertices, &[0.0, 0.0, 0.0], &[1.0, 1.0, 1.0]);
        assert_eq!(y[1] - y[0], 10.0 + GROUP_GAP);
        assert_eq!(y[2] - y[1], 10.0 + GROUP_GAP);
        assert!((y[0] + y[2]).abs() < 1e-9);
        // Far apart: each gets what it wants.
        let y = isotonic(
            &[0, 1, 2],
            &vertices,
            &[0.0, 100.0, 300.0],
            &[1.0, 1.0, 1.0],
        );
        assert_eq!(y, vec![0.0, 100.0, 300.0]);
    }

    #[test]
    fn rect_overlap_is_zero_when_touching() {
        let a = Rect {
            x: 0.0,
            y: 0.0,
            w: 10.0,
            h: 10.0,
        };
        let b = a.shifted(10.0, 0.0);
        assert_eq!(a.overlap(&b), 0.0);
        assert_eq!(a.overlap(&a.shifted(5.0, 5.0)), 25.0);
    }
}
