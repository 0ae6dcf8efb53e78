//! Routes against independent oracles: a Floyd–Warshall table on a small
//! graph, a textbook Dijkstra on the Jing'an OpenStreetMap network, and the
//! straight line, which no route may beat.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use geo::Point;
use proptest::prelude::*;
use riskmap_spatial::metric::geodesic_distance_m;
use riskmap_spatial::roads::{Access, RoadNetwork, RouteError};

const JINGAN: &[u8] = include_bytes!("../../../data/roads/shanghai-jingan.osm");

const ACCESS: Access = Access {
    off_road_m_s: 10.0 / 3.6,
    max_snap_m: 500.0,
};

fn speeds(class: &str) -> Option<f64> {
    let base = class.trim_end_matches("_link");
    Some(match base {
        "motorway" => 60.0,
        "trunk" => 50.0,
        "primary" => 40.0,
        "secondary" => 35.0,
        "tertiary" => 30.0,
        "unclassified" | "residential" => 20.0,
        "living_street" | "service" => 10.0,
        _ => return None,
    })
}

fn jingan() -> RoadNetwork {
    RoadNetwork::from_osm_xml(JINGAN, speeds).expect("the Jing'an file parses")
}

fn jingan_shared() -> &'static RoadNetwork {
    static NET: std::sync::OnceLock<RoadNetwork> = std::sync::OnceLock::new();
    NET.get_or_init(jingan)
}

/// Seconds and metres of the fastest path from one node to every node: a
/// binary-heap Dijkstra written from the textbook, on the network's own
/// edge list.
fn oracle_dijkstra(n: usize, edges: &[(usize, usize, f64, f64)], from: usize) -> Vec<(f64, f64)> {
    #[derive(PartialEq)]
    struct Item(f64, usize);
    impl Eq for Item {}
    impl Ord for Item {
        fn cmp(&self, o: &Self) -> Ordering {
            o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
        }
    }
    impl PartialOrd for Item {
        fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    let mut adj = vec![Vec::new(); n];
    for &(a, b, len, s) in edges {
        adj[a].push((b, len, s));
    }
    let mut best = vec![(f64::INFINITY, f64::INFINITY); n];
    best[from] = (0.0, 0.0);
    let mut heap = BinaryHeap::from([Item(0.0, from)]);
    while let Some(Item(t, u)) = heap.pop() {
        if t > best[u].0 {
            continue;
        }
        for &(v, len, s) in &adj[u] {
            let cand = (t + s, best[u].1 + len);
            if cand.0 < best[v].0 {
                best[v] = cand;
                heap.push(Item(cand.0, v));
            }
        }
    }
    best
}

fn edge_list(net: &RoadNetwork) -> Vec<(usize, usize, f64, f64)> {
    net.edges()
        .map(|(a, b, e)| (a, b, e.length_m, e.seconds))
        .collect()
}

/// A small graph where the fastest route is not the shortest (a slow direct
/// street and a fast ring road), with a one-way link.
#[test]
fn small_graph_routes_equal_floyd_warshall() {
    let p = vec![
        [120.000, 30.000], // 0
        [120.010, 30.000], // 1: 963 m east of 0
        [120.005, 30.005], // 2: the ring road's crest
        [120.010, 30.008], // 3
        [120.000, 30.008], // 4
    ];
    let edges = [
        (0, 1, 10.0),
        (1, 0, 10.0), // slow direct street
        (0, 2, 60.0),
        (2, 0, 60.0),
        (2, 1, 60.0),
        (1, 2, 60.0), // fast ring
        (1, 3, 30.0),
        (3, 1, 30.0),
        (3, 4, 30.0), // one-way to the west
        (4, 0, 30.0),
        (0, 4, 30.0),
    ];
    let net = RoadNetwork::from_edges(p.clone(), &edges).expect("builds");
    let n = p.len();
    let el = edge_list(&net);
    // Floyd–Warshall on (seconds, metres).
    let mut d = vec![vec![(f64::INFINITY, f64::INFINITY); n]; n];
    for (i, row) in d.iter_mut().enumerate() {
        row[i] = (0.0, 0.0);
    }
    for &(a, b, len, s) in &el {
        if s < d[a][b].0 {
            d[a][b] = (s, len);
        }
    }
    for k in 0..n {
        for i in 0..n {
            for j in 0..n {
                let via = (d[i][k].0 + d[k][j].0, d[i][k].1 + d[k][j].1);
                if via.0 < d[i][j].0 {
                    d[i][j] = via;
                }
            }
        }
    }
    for i in 0..n {
        for j in 0..n {
            let r = net.route(p[i], p[j], ACCESS).expect("all connected");
            assert!(
                (r.seconds - d[i][j].0).abs() < 1e-6,
                "{i}→{j}: {} s vs {} s",
                r.seconds,
                d[i][j].0
            );
            assert!(
                (r.distance_m - d[i][j].1).abs() < 1e-6,
                "{i}→{j}: {} m vs {} m",
                r.distance_m,
                d[i][j].1
            );
            assert_eq!(r.off_road_m, [0.0, 0.0]);
            assert_eq!((r.path[0], *r.path.last().expect("path")), (p[i], p[j]));
        }
    }
    // 0 → 1 takes the fast ring, longer than the street.
    let r = net.route(p[0], p[1], ACCESS).expect("route");
    assert!(
        r.path.contains(&p[2]) && r.distance_m > 963.0 + 100.0,
        "{r:?}"
    );
    // 4 → 3 may not drive the one-way 3 → 4 against its direction.
    let r = net.route(p[4], p[3], ACCESS).expect("route");
    assert!(r.path.windows(2).all(|w| w != [p[4], p[3]]), "{r:?}");
}

#[test]
fn jingan_routes_equal_a_textbook_dijkstra() {
    let net = jingan_shared();
    let s = net.stats();
    assert!(s.ways > 700 && s.connected_nodes > 2000, "{s:?}");
    let el = edge_list(net);
    // Nodes of the routable component are their own nearest node.
    let nodes: Vec<usize> = (0..s.nodes)
        .filter(|&i| {
            let p = net.position(i).expect("node");
            net.nearest_node(p).is_some_and(|(n, d)| n == i && d == 0.0)
        })
        .collect();
    assert!(nodes.len() > 1500, "{}", nodes.len());
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut next = |m: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % m as u64) as usize
    };
    for _ in 0..12 {
        let from = nodes[next(nodes.len())];
        let table = oracle_dijkstra(s.nodes, &el, from);
        for _ in 0..25 {
            let to = nodes[next(nodes.len())];
            let (a, b) = (
                net.position(from).expect("node"),
                net.position(to).expect("node"),
            );
            let r = net.route(a, b, ACCESS).expect("strongly connected");
            let (t, m) = table[to];
            assert!(
                (r.seconds - t).abs() < 1e-6 * t.max(1.0),
                "{from}→{to}: {} vs {t} s",
                r.seconds
            );
            assert!(
                (r.distance_m - m).abs() < 1e-6 * m.max(1.0),
                "{from}→{to}: {} vs {m} m",
                r.distance_m
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// No route is shorter than the straight line, and its polyline runs
    /// from one point to the other with the route's length.
    #[test]
    fn jingan_routes_are_never_shorter_than_the_straight_line(
        lon_a in 121.462f64..121.486, lat_a in 31.220f64..31.241,
        lon_b in 121.462f64..121.486, lat_b in 31.220f64..31.241,
    ) {
        let net = jingan_shared();
        let (a, b) = ([lon_a, lat_a], [lon_b, lat_b]);
        let straight = geodesic_distance_m(Point::from(a), Point::from(b));
        match net.route(a, b, ACCESS) {
            Ok(r) => {
                prop_assert!(r.distance_m >= straight - 1e-6, "{} < {straight}", r.distance_m);
                let along: f64 = r.path.windows(2)
                    .map(|w| geodesic_distance_m(Point::from(w[0]), Point::from(w[1])))
                    .sum();
                prop_assert!((along - r.distance_m).abs() < 1e-6 * along.max(1.0), "{along} vs {}", r.distance_m);
                prop_assert_eq!((r.path[0], *r.path.last().expect("path")), (a, b));
            }
            Err(RouteError::FarFromRoad { .. }) => {}
            Err(e) => prop_assert!(false, "{e}"),
        }
    }

    /// The same on random small graphs and points anywhere around them.
    #[test]
    fn random_graph_routes_are_never_shorter_than_the_straight_line(
        pts in prop::collection::vec((120.0f64..120.05, 30.0f64..30.05), 3..12),
        links in prop::collection::vec((0usize..12, 0usize..12, 5.0f64..80.0), 2..40),
        a in (120.0f64..120.05, 30.0f64..30.05),
        b in (120.0f64..120.05, 30.0f64..30.05),
    ) {
        let pos: Vec<[f64; 2]> = pts.iter().map(|&(x, y)| [x, y]).collect();
        let n = pos.len();
        let edges: Vec<(usize, usize, f64)> = links.iter()
            .map(|&(i, j, v)| (i % n, j % n, v))
            .flat_map(|(i, j, v)| [(i, j, v), (j, i, v)])
            .collect();
        let net = RoadNetwork::from_edges(pos, &edges).expect("builds");
        let access = Access { off_road_m_s: 3.0, max_snap_m: 1e7 };
        let (a, b) = ([a.0, a.1], [b.0, b.1]);
        let straight = geodesic_distance_m(Point::from(a), Point::from(b));
        let r = net.route(a, b, access).expect("snapped within any distance");
        prop_assert!(r.distance_m >= straight - 1e-6, "{} < {straight}", r.distance_m);
    }
}

/// One search for many places gives each the time of its own fastest route,
/// with a path that runs over real edges and adds up to it.
#[test]
fn one_search_for_many_places_equals_a_route_each() {
    let net = jingan_shared();
    let origin = [121.4745, 31.2300];
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % 1_000_000) as f64 / 1_000_000.0
    };
    let places: Vec<[f64; 2]> = (0..120)
        .map(|_| [121.462 + 0.024 * next(), 31.220 + 0.021 * next()])
        .collect();
    let edges: std::collections::HashMap<([u64; 2], [u64; 2]), f64> = net
        .edges()
        .map(|(a, b, e)| {
            let k = |n: usize| net.position(n).expect("node").map(f64::to_bits);
            ((k(a), k(b)), e.length_m)
        })
        .collect();
    for inbound in [true, false] {
        let many = net.routes_from(origin, &places, inbound, ACCESS);
        for (p, r) in places.iter().zip(&many) {
            let one = if inbound {
                net.route(*p, origin, ACCESS)
            } else {
                net.route(origin, *p, ACCESS)
            };
            match (r, one) {
                (Ok(r), Ok(one)) => {
                    assert!(
                        (r.seconds - one.seconds).abs() < 1e-6 * one.seconds.max(1.0),
                        "{p:?} inbound {inbound}: {} vs {} s",
                        r.seconds,
                        one.seconds
                    );
                    // Every inner step is an edge of the network, in its direction.
                    let inner = &r.path[1..r.path.len() - 1];
                    let along: f64 = inner
                        .windows(2)
                        .map(|w| {
                            *edges
                                .get(&(w[0].map(f64::to_bits), w[1].map(f64::to_bits)))
                                .expect("a real edge in its direction")
                        })
                        .sum();
                    assert!((along - r.road_m).abs() < 1e-6 * along.max(1.0));
                    let start = if inbound { *p } else { origin };
                    assert_eq!(r.path[0], start);
                }
                (Err(a), Err(b)) => assert_eq!(a, &b),
                (a, b) => panic!("{p:?}: {a:?} vs {b:?}"),
            }
        }
    }
}
