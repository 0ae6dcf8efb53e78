#!/usr/bin/env python3
"""Builds the offline basemap (底图) data: data/basemap/basemap.geojson.gz.

Usage: python3 scripts/build-basemap.py [SHARED_DATA_DIR]

SHARED_DATA_DIR defaults to ../shared/data relative to the repository root.
It is read only here, at build time; riskmap embeds the output and never
reads the shared directory at run time.

Inputs (all OpenStreetMap, ODbL 1.0):
- osm/hangzhou_landuse_geofabrik_style.geojson: Hangzhou land use (用地);
- osm/hangzhou_water_geofabrik_style.geojson: Hangzhou water (水系);
- osm/shanghai_bund_lujiazui_tilezen.geojson: central Shanghai roads,
  railways, buildings, water, land use and places;
- data/roads/shanghai-jingan.osm (already in the project): Jing'an roads;
- data/demo/districts.geojson (already in the project): district names
  (区名) placed at a point inside each district.

Output: one GeoJSON FeatureCollection, one feature per line, each with the
properties `layer` (water, landuse, roads, railways, buildings, places),
`kind` and, where the source has one, `name`; places have `minzoom`, the
zoom from which they are drawn (districts 0, an area's name where the area
spans 64 screen pixels; other points: 13 when absent). Geometries are simplified
(Douglas–Peucker, 1e-5 degrees, about 1 m) and rounded to 5 decimals. The
script uses the standard library only and is deterministic (gzip mtime 0).
"""

import gzip
import json
import math
import os
import sys
import xml.etree.ElementTree as ET

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOL = 1e-5
DECIMALS = 5

GREEN = {
    "forest", "grass", "park", "scrub", "heath", "meadow", "recreation_ground",
    "nature_reserve", "cemetery", "allotments", "farm", "vineyard", "orchard",
    "garden", "wood", "village_green",
}
BUILT = {"residential", "industrial", "commercial", "retail"}
WATER = {"water", "river", "wetland", "reservoir", "riverbank", "canal", "lake",
         "basin", "dock", "stream", "ditch", "drain"}
# OSM highway classes kept as roads, by the class the style draws.
HIGHWAY_CLASS = {
    "motorway": "motorway", "motorway_link": "motorway",
    "trunk": "trunk", "trunk_link": "trunk",
    "primary": "primary", "primary_link": "primary",
    "secondary": "secondary", "secondary_link": "secondary",
    "tertiary": "tertiary", "tertiary_link": "tertiary",
    "residential": "minor", "living_street": "minor", "unclassified": "minor",
    "service": "minor",
}


def dp(points, tol):
    """Douglas–Peucker on a list of (x, y)."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        a, b = stack.pop()
        ax, ay = points[a]
        bx, by = points[b]
        dx, dy = bx - ax, by - ay
        norm = math.hypot(dx, dy)
        best, idx = -1.0, -1
        for i in range(a + 1, b):
            px, py = points[i]
            if norm == 0:
                d = math.hypot(px - ax, py - ay)
            else:
                d = abs(dy * px - dx * py + bx * ay - by * ax) / norm
            if d > best:
                best, idx = d, i
        if best > tol:
            keep[idx] = True
            stack.append((a, idx))
            stack.append((idx, b))
    return [p for p, k in zip(points, keep) if k]


def q(p):
    return [round(p[0], DECIMALS), round(p[1], DECIMALS)]


def dedupe(points):
    out = []
    for p in points:
        if not out or out[-1] != p:
            out.append(p)
    return out


def line(coords):
    pts = dedupe([q(p) for p in dp([tuple(c[:2]) for c in coords], TOL)])
    return pts if len(pts) >= 2 else None


def ring(coords):
    pts = [tuple(c[:2]) for c in coords]
    if pts[0] != pts[-1]:
        pts.append(pts[0])
    pts = dedupe([q(p) for p in dp(pts, TOL)])
    if pts[0] != pts[-1]:
        pts.append(pts[0])
    return pts if len(pts) >= 4 and abs(ring_area(pts)) > 0 else None


def ring_area(r):
    return sum(r[i][0] * r[i + 1][1] - r[i + 1][0] * r[i][1] for i in range(len(r) - 1)) / 2


def polygon(rings):
    outer = ring(rings[0])
    if outer is None:
        return None
    return [outer] + [h for h in (ring(r) for r in rings[1:]) if h is not None]


def geometry(g):
    t, c = g["type"], g["coordinates"]
    if t == "Point":
        return {"type": "Point", "coordinates": q(c)}
    if t == "LineString":
        l = line(c)
        return l and {"type": "LineString", "coordinates": l}
    if t == "MultiLineString":
        ls = [l for l in (line(x) for x in c) if l]
        return ls and {"type": "MultiLineString", "coordinates": ls}
    if t == "Polygon":
        p = polygon(c)
        return p and {"type": "Polygon", "coordinates": p}
    if t == "MultiPolygon":
        ps = [p for p in (polygon(x) for x in c) if p]
        return ps and {"type": "MultiPolygon", "coordinates": ps}
    return None


def outer_rings(g):
    if g["type"] == "Polygon":
        return [g["coordinates"]]
    if g["type"] == "MultiPolygon":
        return g["coordinates"]
    return []


def inside(pt, rings):
    x, y = pt
    n = 0
    for r in rings:
        for i in range(len(r) - 1):
            (x1, y1), (x2, y2) = r[i][:2], r[i + 1][:2]
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                n += 1
    return n % 2 == 1


def label_point(g):
    """A point inside the largest part: its centroid when inside, else the
    middle of the widest span of the scanline through the centroid."""
    parts = outer_rings(g)
    if not parts:
        return None
    part = max(parts, key=lambda p: abs(ring_area(p[0])))
    r = part[0]
    a = ring_area(r)
    if a == 0:
        return None
    cx = sum((r[i][0] + r[i + 1][0]) * (r[i][0] * r[i + 1][1] - r[i + 1][0] * r[i][1]) for i in range(len(r) - 1)) / (6 * a)
    cy = sum((r[i][1] + r[i + 1][1]) * (r[i][0] * r[i + 1][1] - r[i + 1][0] * r[i][1]) for i in range(len(r) - 1)) / (6 * a)
    if inside((cx, cy), part):
        return q((cx, cy))
    xs = []
    for rr in part:
        for i in range(len(rr) - 1):
            (x1, y1), (x2, y2) = rr[i][:2], rr[i + 1][:2]
            if (y1 > cy) != (y2 > cy):
                xs.append(x1 + (cy - y1) * (x2 - x1) / (y2 - y1))
    xs.sort()
    spans = [(xs[i + 1] - xs[i], (xs[i] + xs[i + 1]) / 2) for i in range(0, len(xs) - 1, 2)]
    if not spans:
        return None
    return q((max(spans)[1], cy))


def label_minzoom(g):
    """The zoom from which an area's name is drawn: where its larger side
    spans 64 screen pixels (256-pixel tiles), between 10 and 16."""
    xs = [p[0] for part in outer_rings(g) for p in part[0]]
    ys = [p[1] for part in outer_rings(g) for p in part[0]]
    side = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    return max(10, min(16, math.ceil(math.log2(64 * 360 / (256 * side)))))


def feature(layer, kind, name, geom, minzoom=None):
    props = {"layer": layer, "kind": kind}
    if name:
        props["name"] = name
    if minzoom is not None:
        props["minzoom"] = minzoom
    return {"type": "Feature", "properties": props, "geometry": geom}


def hangzhou(shared, out):
    for fname, layer_of in (
        ("hangzhou_landuse_geofabrik_style.geojson", lambda k: "landuse" if k in GREEN or k in BUILT else None),
        ("hangzhou_water_geofabrik_style.geojson", lambda k: "water" if k in WATER else None),
    ):
        with open(os.path.join(shared, "osm", fname), encoding="utf-8") as f:
            fc = json.load(f)
        for ft in fc["features"]:
            p = ft["properties"]
            kind = p.get("fclass") or ""
            layer = layer_of(kind)
            g = geometry(ft["geometry"]) if layer else None
            if not g:
                continue
            name = (p.get("name") or "").strip()
            out.append(feature(layer, kind, name, g))
            if name:
                lp = label_point(g)
                if lp:
                    out.append(feature("places", kind, name, {"type": "Point", "coordinates": lp},
                                       label_minzoom(g)))


def tilezen(shared, out):
    with open(os.path.join(shared, "osm", "shanghai_bund_lujiazui_tilezen.geojson"), encoding="utf-8") as f:
        fc = json.load(f)
    for ft in fc["features"]:
        p = ft["properties"]
        src_layer, kind, detail = p.get("layer"), p.get("kind") or "", p.get("kind_detail")
        name = (p.get("name") or "").strip()
        t = ft["geometry"]["type"]
        layer = None
        if src_layer == "roads":
            if kind == "rail":
                layer, kind = "railways", detail or "rail"
            elif kind in ("major_road", "minor_road", "path"):
                layer = "roads"
                kind = HIGHWAY_CLASS.get(detail or "", "path" if kind == "path" else "minor")
            elif kind == "ferry":
                layer = "roads"
        elif src_layer == "transit" and kind == "subway" and "Line" in t:
            layer = "railways"
        elif src_layer == "buildings" or (src_layer == 2 and kind == "building"):
            layer = "buildings" if "Polygon" in t else None
        elif src_layer == "water":
            layer = "water" if t != "Point" else ("places" if name else None)
        elif src_layer == "landuse":
            layer = "landuse" if "Polygon" in t else None
            if kind in GREEN or kind in BUILT:
                pass
            elif layer:
                layer = "landuse" if kind in ("pedestrian", "university", "school", "hospital") else None
        elif src_layer == "places" or (src_layer == "pois" and kind in ("attraction", "park", "hospital", "school", "university", "museum")):
            layer = "places" if t == "Point" and name else None
        if not layer:
            continue
        g = geometry(ft["geometry"])
        if g:
            out.append(feature(layer, kind, name if layer != "buildings" else "", g))


def jingan(out):
    root = ET.parse(os.path.join(ROOT, "data", "roads", "shanghai-jingan.osm")).getroot()
    nodes = {n.get("id"): (float(n.get("lon")), float(n.get("lat"))) for n in root.iter("node")}
    for w in root.iter("way"):
        tags = {t.get("k"): t.get("v") for t in w.iter("tag")}
        cls = HIGHWAY_CLASS.get(tags.get("highway", ""))
        if not cls:
            continue
        coords = [nodes[nd.get("ref")] for nd in w.iter("nd") if nd.get("ref") in nodes]
        l = line(coords) if len(coords) >= 2 else None
        if l:
            out.append(feature("roads", cls, (tags.get("name") or "").strip(), {"type": "LineString", "coordinates": l}))


def districts(out):
    with open(os.path.join(ROOT, "data", "demo", "districts.geojson"), encoding="utf-8") as f:
        fc = json.load(f)
    for ft in fc["features"]:
        lp = label_point(ft["geometry"])
        if lp:
            out.append(feature("places", "district", ft["properties"]["name"], {"type": "Point", "coordinates": lp}, 0))


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "data")
    out = []
    hangzhou(shared, out)
    tilezen(shared, out)
    jingan(out)
    districts(out)
    order = ["water", "landuse", "roads", "railways", "buildings", "places"]
    out.sort(key=lambda f: (order.index(f["properties"]["layer"]), f["properties"]["kind"],
                            f["properties"].get("name", ""), json.dumps(f["geometry"])))
    dest = os.path.join(ROOT, "data", "basemap", "basemap.geojson.gz")
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    body = '{"type":"FeatureCollection","features":[\n' + ",\n".join(
        json.dumps(f, ensure_ascii=False, separators=(",", ":"), sort_keys=True) for f in out) + "\n]}\n"
    with open(dest, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            gz.write(body.encode("utf-8"))
    counts = {}
    for f in out:
        counts[f["properties"]["layer"]] = counts.get(f["properties"]["layer"], 0) + 1
    print(dest, os.path.getsize(dest), "bytes", counts)


if __name__ == "__main__":
    main()
