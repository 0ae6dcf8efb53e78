//! The road network (道路网络) for arrival estimates: OpenStreetMap ways read
//! from OSM XML into a directed [`petgraph`] graph whose edges carry their
//! geodesic length and their travel time at a speed per road class (the
//! caller's table, e.g. `data/rules/road-speeds.toml`), and fastest routes
//! over it (A* with an admissible straight-line bound).
//!
//! - Ways tagged `highway=` with a speed in the caller's table become edges
//!   between consecutive nodes, split so that no edge is longer than
//!   [`MAX_EDGE_M`] (so the nearest node of a point is never far along a
//!   long straight road). `oneway=yes|true|1` and `-1`, `junction=roundabout`
//!   and `highway=motorway` (unless `oneway=no`) are one-way; `access=no` and
//!   `area=yes` ways are left out.
//! - A point reaches the network at its nearest node of the largest strongly
//!   connected component (every such node reaches every other), over a
//!   straight "off-road" leg counted at the caller's off-road speed; a point
//!   farther than the caller's limit from it is not routed.
//! - A route's distance is the sum of geodesic lengths of a connected
//!   polyline from one point to the other, so it is never shorter than the
//!   straight line between them.

use std::collections::HashMap;

use geo::Point;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use rstar::RTree;
use rstar::primitives::GeomWithData;

use crate::metric::geodesic_distance_m;

/// The longest edge kept whole, m; longer road pieces are split.
pub const MAX_EDGE_M: f64 = 50.0;

/// An edge: one road piece in its direction of travel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoadEdge {
    /// Geodesic length, m.
    pub length_m: f64,
    /// Travel time at the class speed, s.
    pub seconds: f64,
}

/// What a network was built from.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RoadStats {
    /// Ways used.
    pub ways: usize,
    /// Ways left out (no speed for their class, `access=no`, `area=yes`).
    pub ways_skipped: usize,
    /// Graph nodes (after splitting long pieces).
    pub nodes: usize,
    /// Directed edges.
    pub edges: usize,
    /// Nodes of the largest strongly connected component, the ones points
    /// are snapped to.
    pub connected_nodes: usize,
    /// Length of the roads, km (each two-way piece once).
    pub length_km: f64,
    /// Way node references missing from the file (the way is cut there).
    pub missing_nodes: usize,
}

/// Why a network cannot be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RoadError {
    /// Not well-formed OSM XML.
    #[error("OSM XML at byte {position}: {message}")]
    Xml {
        /// Byte offset.
        position: u64,
        /// What is wrong.
        message: String,
    },
    /// A number that does not parse or is out of range.
    #[error("OSM XML: node {id}: {message}")]
    Node {
        /// The node id as written.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// An edge of [`RoadNetwork::from_edges`] is wrong.
    #[error("road edge {index}: {message}")]
    Edge {
        /// Its index.
        index: usize,
        /// What is wrong.
        message: String,
    },
    /// Nothing routable.
    #[error("no road with a known speed: the file holds {ways} ways, none usable")]
    Empty {
        /// Ways seen.
        ways: usize,
    },
}

/// How points join the network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Access {
    /// Speed of the straight legs between a point and its nearest node, m/s.
    pub off_road_m_s: f64,
    /// The farthest a point may be from its nearest node, m.
    pub max_snap_m: f64,
}

/// A fastest route.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    /// Whole length, m: off-road legs plus road.
    pub distance_m: f64,
    /// Whole time at the class speeds, s.
    pub seconds: f64,
    /// Length on roads, m.
    pub road_m: f64,
    /// The straight legs at the start and at the end, m.
    pub off_road_m: [f64; 2],
    /// The polyline from start to end, `[lon, lat]`.
    pub path: Vec<[f64; 2]>,
}

/// Why a route was not found.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum RouteError {
    /// The start or the end lies too far from the network.
    #[error("the {end} is {distance_m:.0} m from the nearest road node (more than {limit_m:.0} m)")]
    FarFromRoad {
        /// `start` or `end`.
        end: &'static str,
        /// Its distance to the nearest node, m.
        distance_m: f64,
        /// The limit, m.
        limit_m: f64,
    },
    /// No directed path (cannot happen between nodes of one strongly
    /// connected component; kept for safety).
    #[error("no road path")]
    NoPath,
    /// A coordinate is not finite.
    #[error("a coordinate is not a finite number")]
    NotFinite,
}

type Snap = GeomWithData<[f64; 2], NodeIndex>;

/// A road graph with a snapping index.
#[derive(Debug, Clone)]
pub struct RoadNetwork {
    graph: DiGraph<[f64; 2], RoadEdge>,
    snap: RTree<Snap>,
    /// Longitudes are scaled by this in the snapping index, so that its
    /// planar distances are nearly metric around the network.
    cos_lat: f64,
    /// Fastest speed on any edge, m/s: the A* bound.
    max_speed_m_s: f64,
    stats: RoadStats,
}

/// Tags of a way that matter here.
#[derive(Default)]
struct WayTags {
    highway: Option<String>,
    oneway: Option<String>,
    junction: Option<String>,
    access: Option<String>,
    area: Option<String>,
}

/// One directed road piece before the graph is built.
struct Piece {
    from: usize,
    to: usize,
    speed_kmh: f64,
}

impl RoadNetwork {
    /// Reads OSM XML (nodes and ways; relations are ignored). `speed_kmh`
    /// gives the speed of a `highway=` class, `None` leaving it out.
    pub fn from_osm_xml(
        xml: &[u8],
        speed_kmh: impl Fn(&str) -> Option<f64>,
    ) -> Result<RoadNetwork, RoadError> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_reader(xml);
        let mut nodes: HashMap<i64, [f64; 2]> = HashMap::new();
        let mut ways: Vec<(Vec<i64>, WayTags)> = Vec::new();
        let mut current: Option<(Vec<i64>, WayTags)> = None;
        let xml_err = |reader: &quick_xml::Reader<&[u8]>, message: String| RoadError::Xml {
            position: reader.buffer_position(),
            message,
        };
        loop {
            let event = reader
                .read_event()
                .map_err(|e| xml_err(&reader, e.to_string()))?;
            let (e, empty) = match &event {
                Event::Start(e) => (e, false),
                Event::Empty(e) => (e, true),
                Event::End(e) => {
                    if e.name().as_ref() == "way"
                        && let Some(w) = current.take()
                    {
                        ways.push(w);
                    }
                    continue;
                }
                Event::Eof => break,
                _ => continue,
            };
            let mut attrs: HashMap<&'static str, String> = HashMap::new();
            for a in e.attributes() {
                let a = a.map_err(|err| xml_err(&reader, err.to_string()))?;
                let key = match a.key.as_ref() {
                    "id" => "id",
                    "lat" => "lat",
                    "lon" => "lon",
                    "ref" => "ref",
                    "k" => "k",
                    "v" => "v",
                    _ => continue,
                };
                let value = a
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|err| xml_err(&reader, err.to_string()))?;
                attrs.insert(key, value.into_owned());
            }
            match e.name().as_ref() {
                "node" => {
                    let id = attrs.get("id").cloned().unwrap_or_default();
                    let num = |k: &str| -> Result<f64, RoadError> {
                        attrs
                            .get(k)
                            .and_then(|v| v.trim().parse::<f64>().ok())
                            .filter(|v| v.is_finite())
                            .ok_or_else(|| RoadError::Node {
                                id: id.clone(),
                                message: format!("`{k}` missing or not a number"),
                            })
                    };
                    let (lon, lat) = (num("lon")?, num("lat")?);
                    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                        return Err(RoadError::Node {
                            id,
                            message: format!("({lon}, {lat}) is not a WGS84 position"),
                        });
                    }
                    let nid = id.parse::<i64>().map_err(|_| RoadError::Node {
                        id: id.clone(),
                        message: "`id` is not an integer".into(),
                    })?;
                    nodes.insert(nid, [lon, lat]);
                }
                "way" if !empty => current = Some((Vec::new(), WayTags::default())),
                "nd" => {
                    if let Some((refs, _)) = &mut current
                        && let Some(r) = attrs.get("ref").and_then(|r| r.parse::<i64>().ok())
                    {
                        refs.push(r);
                    }
                }
                "tag" => {
                    if let Some((_, tags)) = &mut current {
                        let v = attrs.get("v").cloned();
                        match attrs.get("k").map(String::as_str) {
                            Some("highway") => tags.highway = v,
                            Some("oneway") => tags.oneway = v,
                            Some("junction") => tags.junction = v,
                            Some("access") => tags.access = v,
                            Some("area") => tags.area = v,
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        let mut stats = RoadStats::default();
        let mut positions: Vec<[f64; 2]> = Vec::new();
        let mut index_of: HashMap<i64, usize> = HashMap::new();
        let mut pieces: Vec<Piece> = Vec::new();
        let mut node_index = |id: i64, positions: &mut Vec<[f64; 2]>| -> Option<usize> {
            let p = *nodes.get(&id)?;
            Some(*index_of.entry(id).or_insert_with(|| {
                positions.push(p);
                positions.len() - 1
            }))
        };
        for (refs, tags) in &ways {
            let speed = tags
                .highway
                .as_deref()
                .and_then(&speed_kmh)
                .filter(|s| s.is_finite() && *s > 0.0);
            let (Some(speed), false, false) = (
                speed,
                tags.access.as_deref() == Some("no"),
                tags.area.as_deref() == Some("yes"),
            ) else {
                stats.ways_skipped += 1;
                continue;
            };
            stats.ways += 1;
            let oneway = tags.oneway.as_deref();
            let (forward, backward) = match oneway {
                Some("yes" | "true" | "1") => (true, false),
                Some("-1" | "reverse") => (false, true),
                Some("no" | "false" | "0") => (true, true),
                _ if matches!(tags.junction.as_deref(), Some("roundabout" | "circular"))
                    || tags.highway.as_deref() == Some("motorway") =>
                {
                    (true, false)
                }
                _ => (true, true),
            };
            let mut prev: Option<usize> = None;
            for r in refs {
                let Some(i) = node_index(*r, &mut positions) else {
                    stats.missing_nodes += 1;
                    prev = None;
                    continue;
                };
                if let Some(p) = prev
                    && p != i
                {
                    // Split long pieces at evenly spaced points.
                    let (a, b) = (positions[p], positions[i]);
                    let len = geodesic_distance_m(Point::from(a), Point::from(b));
                    let parts = (len / MAX_EDGE_M).ceil().max(1.0) as usize;
                    let mut last = p;
                    for k in 1..=parts {
                        let next = if k == parts {
                            i
                        } else {
                            let t = k as f64 / parts as f64;
                            positions.push([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]);
                            positions.len() - 1
                        };
                        if forward {
                            pieces.push(Piece {
                                from: last,
                                to: next,
                                speed_kmh: speed,
                            });
                        }
                        if backward {
                            pieces.push(Piece {
                                from: next,
                                to: last,
                                speed_kmh: speed,
                            });
                        }
                        last = next;
                    }
                }
                prev = Some(i);
            }
        }
        if pieces.is_empty() {
            return Err(RoadError::Empty { ways: ways.len() });
        }
        let mut net = RoadNetwork::build(positions, &pieces)?;
        net.stats.ways = stats.ways;
        net.stats.ways_skipped = stats.ways_skipped;
        net.stats.missing_nodes = stats.missing_nodes;
        Ok(net)
    }

    /// A network from positions and directed edges `(from, to, km/h)`
    /// (indices into `positions`); lengths are geodesic.
    pub fn from_edges(
        positions: Vec<[f64; 2]>,
        edges: &[(usize, usize, f64)],
    ) -> Result<RoadNetwork, RoadError> {
        for (index, &(a, b, v)) in edges.iter().enumerate() {
            let bad = |message: String| RoadError::Edge { index, message };
            if a >= positions.len() || b >= positions.len() {
                return Err(bad(format!("node {a} or {b} does not exist")));
            }
            if !(v.is_finite() && v > 0.0) {
                return Err(bad(format!("speed {v} km/h is not positive")));
            }
        }
        if let Some(p) = positions
            .iter()
            .find(|p| !(p[0].is_finite() && p[1].is_finite()))
        {
            return Err(RoadError::Node {
                id: format!("{p:?}"),
                message: "not a finite position".into(),
            });
        }
        let pieces: Vec<Piece> = edges
            .iter()
            .map(|&(from, to, speed_kmh)| Piece {
                from,
                to,
                speed_kmh,
            })
            .collect();
        if pieces.is_empty() {
            return Err(RoadError::Empty { ways: 0 });
        }
        RoadNetwork::build(positions, &pieces)
    }

    fn build(positions: Vec<[f64; 2]>, pieces: &[Piece]) -> Result<RoadNetwork, RoadError> {
        let mut graph: DiGraph<[f64; 2], RoadEdge> =
            DiGraph::with_capacity(positions.len(), pieces.len());
        for p in &positions {
            graph.add_node(*p);
        }
        let mut max_speed_m_s: f64 = 0.0;
        let mut length_m = 0.0;
        let mut seen: std::collections::HashSet<(usize, usize)> = Default::default();
        for piece in pieces {
            let (a, b) = (positions[piece.from], positions[piece.to]);
            let len = geodesic_distance_m(Point::from(a), Point::from(b));
            let v = piece.speed_kmh / 3.6;
            max_speed_m_s = max_speed_m_s.max(v);
            if seen.insert((piece.from.min(piece.to), piece.from.max(piece.to))) {
                length_m += len;
            }
            graph.add_edge(
                NodeIndex::new(piece.from),
                NodeIndex::new(piece.to),
                RoadEdge {
                    length_m: len,
                    seconds: len / v,
                },
            );
        }
        let largest = petgraph::algo::kosaraju_scc(&graph)
            .into_iter()
            .max_by_key(Vec::len)
            .unwrap_or_default();
        let mid_lat = {
            let (lo, hi) = positions
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
                    (lo.min(p[1]), hi.max(p[1]))
                });
            if lo.is_finite() { (lo + hi) / 2.0 } else { 0.0 }
        };
        let cos_lat = mid_lat.to_radians().cos().max(0.01);
        let snap = RTree::bulk_load(
            largest
                .iter()
                .map(|&n| {
                    let p = graph[n];
                    GeomWithData::new([p[0] * cos_lat, p[1]], n)
                })
                .collect(),
        );
        let stats = RoadStats {
            nodes: graph.node_count(),
            edges: graph.edge_count(),
            connected_nodes: largest.len(),
            length_km: length_m / 1000.0,
            ..RoadStats::default()
        };
        Ok(RoadNetwork {
            graph,
            snap,
            cos_lat,
            max_speed_m_s,
            stats,
        })
    }

    /// What the network holds.
    pub fn stats(&self) -> RoadStats {
        self.stats
    }

    /// Every directed edge: `(from, to, edge)` by node index.
    pub fn edges(&self) -> impl Iterator<Item = (usize, usize, RoadEdge)> + '_ {
        self.graph
            .edge_references()
            .map(|e| (e.source().index(), e.target().index(), *e.weight()))
    }

    /// A node's position, `[lon, lat]`.
    pub fn position(&self, node: usize) -> Option<[f64; 2]> {
        self.graph.node_weight(NodeIndex::new(node)).copied()
    }

    /// The nearest node of the largest strongly connected component and its
    /// geodesic distance, m.
    pub fn nearest_node(&self, p: [f64; 2]) -> Option<(usize, f64)> {
        if !(p[0].is_finite() && p[1].is_finite()) {
            return None;
        }
        let q = [p[0] * self.cos_lat, p[1]];
        // The scaled planar order is nearly metric; settle the first few
        // candidates geodesically.
        self.snap
            .nearest_neighbor_iter(q)
            .take(8)
            .map(|c| {
                let n = c.data;
                let d = geodesic_distance_m(Point::from(p), Point::from(self.graph[n]));
                (n.index(), d)
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
    }

    /// The fastest route from `from` to `to` (`[lon, lat]`), joining the
    /// network at each point's nearest connected node.
    pub fn route(&self, from: [f64; 2], to: [f64; 2], access: Access) -> Result<Route, RouteError> {
        let ends = [("start", from), ("end", to)];
        let mut snapped = [(0usize, 0.0f64); 2];
        for (k, (end, p)) in ends.iter().enumerate() {
            let (n, d) = self.nearest_node(*p).ok_or(RouteError::NotFinite)?;
            if d > access.max_snap_m {
                return Err(RouteError::FarFromRoad {
                    end,
                    distance_m: d,
                    limit_m: access.max_snap_m,
                });
            }
            snapped[k] = (n, d);
        }
        let (start, goal) = (NodeIndex::new(snapped[0].0), NodeIndex::new(snapped[1].0));
        let goal_pos = Point::from(self.graph[goal]);
        let bound = self.max_speed_m_s;
        let (_, nodes) = petgraph::algo::astar(
            &self.graph,
            start,
            |n| n == goal,
            |e| e.weight().seconds,
            // Admissible: no road path is shorter than the straight line
            // (Haversine is within 0.5 % of the geodesic), none faster than
            // the fastest class.
            |n| {
                use geo::Distance;
                0.99 * geo::Haversine.distance(Point::from(self.graph[n]), goal_pos) / bound
            },
        )
        .ok_or(RouteError::NoPath)?;
        let mut road_m = 0.0;
        let mut road_s = 0.0;
        for w in nodes.windows(2) {
            // The fastest of parallel edges, as A* took.
            let best = self
                .graph
                .edges_connecting(w[0], w[1])
                .map(|e| *e.weight())
                .min_by(|a, b| a.seconds.total_cmp(&b.seconds));
            if let Some(e) = best {
                road_m += e.length_m;
                road_s += e.seconds;
            }
        }
        let mut path = Vec::with_capacity(nodes.len() + 2);
        path.push(from);
        path.extend(nodes.iter().map(|&n| self.graph[n]));
        path.push(to);
        let off = [snapped[0].1, snapped[1].1];
        let v_off = access.off_road_m_s.max(f64::MIN_POSITIVE);
        Ok(Route {
            distance_m: off[0] + road_m + off[1],
            seconds: road_s + (off[0] + off[1]) / v_off,
            road_m,
            off_road_m: off,
            path,
        })
    }
}

impl RoadNetwork {
    /// The fastest routes between `origin` and each of `places`: from each
    /// place to the origin when `inbound` (teams driving to an incident),
    /// else from the origin to each place (people leaving it). One Dijkstra
    /// search from the origin's node (over the reversed graph when inbound)
    /// serves them all; each path is read back along the edges whose times
    /// add up exactly, so every route is a fastest one, as [`Self::route`]
    /// would give (one of them, where two are equally fast).
    pub fn routes_from(
        &self,
        origin: [f64; 2],
        places: &[[f64; 2]],
        inbound: bool,
        access: Access,
    ) -> Vec<Result<Route, RouteError>> {
        let origin_end = if inbound { "end" } else { "start" };
        let place_end = if inbound { "start" } else { "end" };
        let snap = |p: [f64; 2], end: &'static str| -> Result<(NodeIndex, f64), RouteError> {
            let (n, d) = self.nearest_node(p).ok_or(RouteError::NotFinite)?;
            if d > access.max_snap_m {
                return Err(RouteError::FarFromRoad {
                    end,
                    distance_m: d,
                    limit_m: access.max_snap_m,
                });
            }
            Ok((NodeIndex::new(n), d))
        };
        let (o, o_off) = match snap(origin, origin_end) {
            Ok(s) => s,
            Err(e) => return vec![Err(e); places.len()],
        };
        let scores = if inbound {
            petgraph::algo::dijkstra(petgraph::visit::Reversed(&self.graph), o, None, |e| {
                e.weight().seconds
            })
        } else {
            petgraph::algo::dijkstra(&self.graph, o, None, |e| e.weight().seconds)
        };
        // Seconds to (inbound) or from the origin's node, by node index.
        let mut seconds = vec![f64::INFINITY; self.graph.node_count()];
        for (n, t) in scores {
            seconds[n.index()] = t;
        }
        let cost = |n: NodeIndex| Some(seconds[n.index()]).filter(|t| t.is_finite());
        let v_off = access.off_road_m_s.max(f64::MIN_POSITIVE);
        places
            .iter()
            .map(|&p| {
                let (n, p_off) = snap(p, place_end)?;
                let total = cost(n).ok_or(RouteError::NoPath)?;
                // Walk from the place's node to the origin's along edges that
                // account exactly for the remaining time.
                let mut nodes = vec![n];
                let mut road_m = 0.0;
                let mut at = n;
                let mut left = total;
                while at != o {
                    let step = if inbound {
                        // The path runs at → next (forward edges).
                        self.graph
                            .edges_directed(at, petgraph::Direction::Outgoing)
                            .filter_map(|e| {
                                let c = cost(e.target())?;
                                Some((
                                    e.target(),
                                    *e.weight(),
                                    (c + e.weight().seconds - left).abs(),
                                ))
                            })
                            .min_by(|a, b| a.2.total_cmp(&b.2))
                    } else {
                        self.graph
                            .edges_directed(at, petgraph::Direction::Incoming)
                            .filter_map(|e| {
                                let c = cost(e.source())?;
                                Some((
                                    e.source(),
                                    *e.weight(),
                                    (c + e.weight().seconds - left).abs(),
                                ))
                            })
                            .min_by(|a, b| a.2.total_cmp(&b.2))
                    };
                    let Some((next, w, _)) = step else {
                        return Err(RouteError::NoPath);
                    };
                    road_m += w.length_m;
                    left = cost(next).unwrap_or(0.0);
                    nodes.push(next);
                    at = next;
                    if nodes.len() > self.graph.node_count() {
                        return Err(RouteError::NoPath);
                    }
                }
                // `nodes` runs place → origin; a route runs start → end.
                let (off, path_nodes): ([f64; 2], Vec<NodeIndex>) = if inbound {
                    ([p_off, o_off], nodes)
                } else {
                    ([o_off, p_off], nodes.into_iter().rev().collect())
                };
                let (start, end) = if inbound { (p, origin) } else { (origin, p) };
                let mut path = Vec::with_capacity(path_nodes.len() + 2);
                path.push(start);
                path.extend(path_nodes.iter().map(|&n| self.graph[n]));
                path.push(end);
                Ok(Route {
                    distance_m: off[0] + road_m + off[1],
                    seconds: total + (off[0] + off[1]) / v_off,
                    road_m,
                    off_road_m: off,
                    path,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCESS: Access = Access {
        off_road_m_s: 10.0 / 3.6,
        max_snap_m: 500.0,
    };

    fn osm(body: &str) -> String {
        format!("<?xml version='1.0'?><osm version='0.6'>{body}</osm>")
    }

    fn speeds(class: &str) -> Option<f64> {
        match class {
            "primary" => Some(40.0),
            "residential" => Some(20.0),
            _ => None,
        }
    }

    #[test]
    fn ways_become_split_edges_with_their_direction() {
        let xml = osm(r#"
            <node id="1" lat="30.0" lon="120.0"/>
            <node id="2" lat="30.0" lon="120.001"/>
            <node id="3" lat="30.001" lon="120.001"><tag k="highway" v="crossing"/></node>
            <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way>
            <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/><tag k="oneway" v="yes"/></way>
            <way id="12"><nd ref="3"/><nd ref="1"/><tag k="highway" v="footway"/></way>
        "#);
        let net = RoadNetwork::from_osm_xml(xml.as_bytes(), speeds).expect("parses");
        let s = net.stats();
        assert_eq!((s.ways, s.ways_skipped), (2, 1));
        // 96 m → 2 pieces each way; 111 m one-way → 3 pieces.
        assert_eq!(s.edges, 2 * 2 + 3);
        assert!(net.edges().all(|(_, _, e)| e.length_m <= MAX_EDGE_M + 1e-6));
        // Only the two-way primary is strongly connected.
        assert_eq!(s.connected_nodes, 3);
        assert!((s.length_km * 1000.0 - (96.5 + 110.9)).abs() < 1.0, "{s:?}");
    }

    #[test]
    fn bad_files_are_refused_by_name() {
        let e =
            RoadNetwork::from_osm_xml(osm(r#"<node id="7" lat="x" lon="1"/>"#).as_bytes(), speeds)
                .expect_err("bad lat");
        assert!(
            e.to_string().contains("node 7") && e.to_string().contains("lat"),
            "{e}"
        );
        let e =
            RoadNetwork::from_osm_xml(b"<osm><node id='1' lat='1' lon='1'></way></osm>", speeds)
                .expect_err("bad xml");
        assert!(matches!(e, RoadError::Xml { .. }), "{e}");
        let e = RoadNetwork::from_osm_xml(osm("").as_bytes(), speeds).expect_err("empty");
        assert!(matches!(e, RoadError::Empty { .. }));
        assert!(RoadNetwork::from_edges(vec![[0.0, 0.0]], &[(0, 1, 10.0)]).is_err());
        assert!(RoadNetwork::from_edges(vec![[0.0, 0.0], [0.0, 1.0]], &[(0, 1, 0.0)]).is_err());
    }

    #[test]
    fn far_points_are_not_routed() {
        let net = RoadNetwork::from_edges(
            vec![[120.0, 30.0], [120.01, 30.0]],
            &[(0, 1, 30.0), (1, 0, 30.0)],
        )
        .expect("builds");
        let r = net.route([120.0, 30.01], [120.01, 30.0], ACCESS);
        assert!(
            matches!(r, Err(RouteError::FarFromRoad { end: "start", .. })),
            "{r:?}"
        );
        let r = net.route([f64::NAN, 30.0], [120.01, 30.0], ACCESS);
        assert_eq!(r, Err(RouteError::NotFinite));
    }
}
