#!/usr/bin/env python3
"""Builds the demo city's emergency resources (应急资源), a clearly labelled
SAMPLE:

- data/demo/shelters.geojson (应急避难场所): real OpenStreetMap parks
  (fclass `park`) lying wholly in the demo box, each marked as a SAMPLE
  designation (`sample: true`); class and capacity from the area by the
  UNCONFIRMED project rules below (see data/demo/README.md).
- data/demo/rescue_teams.geojson (救援队伍) and
  data/demo/supply_depots.geojson (物资储备库): invented teams and depots
  (`sample: true`, names ending in “（示例）”), placed at the centroids of
  real OSM `commercial` and `residential` polygons in the box.

The OSM file is read only here, at build time. Standard library only;
deterministic: the same input gives byte-identical output.

Run from the repository root:
    python3 scripts/build-demo-resources.py [path-to-shared-data]
"""
import hashlib
import json
import math
import sys

SHARED = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
SOURCE = f"{SHARED}/osm/hangzhou_landuse_geofabrik_style.geojson"
BOX = (120.26, 30.20, 120.62, 30.38)

# Project rules (UNCONFIRMED, see data/demo/README.md).
CENTRAL_M2 = 100_000.0  # ≥ this: 中心避难场所 (central)
FIXED_M2 = 10_000.0  # ≥ this: 固定避难场所 (fixed); else 紧急 (emergency)
EFFECTIVE_SHARE = 0.6  # effective area (有效避难面积) / polygon area
PER_PERSON_M2 = {"emergency": 1.0, "fixed": 2.0, "central": 2.0}

raw = open(SOURCE, "rb").read()
features = json.loads(raw)["features"]
districts = json.load(open("data/demo/districts.geojson"))["features"]


def points(coords):
    if isinstance(coords[0], (int, float)):
        yield coords
    else:
        for c in coords:
            yield from points(c)


def in_box(f):
    return all(
        BOX[0] <= p[0] <= BOX[2] and BOX[1] <= p[1] <= BOX[3]
        for p in points(f["geometry"]["coordinates"])
    )


def local(ring, lat0):
    kx = 111_320.0 * math.cos(math.radians(lat0))
    ky = 110_574.0
    return [(p[0] * kx, p[1] * ky) for p in ring], kx, ky


def area_m2(ring):
    lat0 = sum(p[1] for p in ring) / len(ring)
    xy, _, _ = local(ring, lat0)
    s = sum(xy[i][0] * xy[i + 1][1] - xy[i + 1][0] * xy[i][1] for i in range(len(xy) - 1))
    return abs(s) / 2.0


def centroid(ring):
    a = cx = cy = 0.0
    x0, y0 = ring[0]
    for i in range(len(ring) - 1):
        xa, ya = ring[i][0] - x0, ring[i][1] - y0
        xb, yb = ring[i + 1][0] - x0, ring[i + 1][1] - y0
        c = xa * yb - xb * ya
        a += c
        cx += (xa + xb) * c
        cy += (ya + yb) * c
    if a == 0:
        return None
    return [x0 + cx / (3 * a), y0 + cy / (3 * a)]


def inside(p, ring):
    x, y = p
    hit = False
    for i in range(len(ring) - 1):
        (xa, ya), (xb, yb) = ring[i][:2], ring[i + 1][:2]
        if (ya > y) != (yb > y) and x < xa + (y - ya) * (xb - xa) / (yb - ya):
            hit = not hit
    return hit


def district_of(p):
    for d in districts:
        g = d["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        for poly in polys:
            if inside(p, poly[0]) and not any(inside(p, h) for h in poly[1:]):
                return d["properties"]["code"]
    return None


def r6(p):
    return [round(p[0], 6), round(p[1], 6)]


def collection(feats):
    feats.sort(key=lambda f: f["id"])
    lines = ",\n".join(json.dumps(f, ensure_ascii=False, sort_keys=True) for f in feats)
    return '{"type":"FeatureCollection","features":[\n' + lines + "\n]}\n"


# --- Shelters -----------------------------------------------------------
parks = sorted(
    (f for f in features
     if f["properties"].get("fclass") == "park"
     and f["geometry"]["type"] == "Polygon"
     and len(f["geometry"]["coordinates"]) == 1
     and in_box(f)),
    key=lambda f: int(f["properties"]["osm_id"]),
)
shelters = []
for f in parks:
    ring = f["geometry"]["coordinates"][0]
    area = area_m2(ring)
    cls = "central" if area >= CENTRAL_M2 else "fixed" if area >= FIXED_M2 else "emergency"
    capacity = int(area * EFFECTIVE_SHARE / PER_PERSON_M2[cls])
    osm_id = f["properties"]["osm_id"]
    name = (f["properties"].get("name") or "").strip()
    c = centroid(ring)
    shelters.append({
        "type": "Feature",
        "id": f"shelter-osm-{osm_id}",
        "geometry": {"type": "Polygon", "coordinates": [[r6(p) for p in ring]]},
        "properties": {
            "name": f"{name}（示例避难场所）" if name else f"公园 OSM {osm_id}（示例避难场所）",
            "class": cls,
            "capacity_persons": capacity,
            "area_m2": round(area, 1),
            "district_code": district_of(c) if c else None,
            "sample": True,
            "osm_id": osm_id,
            "estimated": ["class", "capacity_persons"],
        },
    })
for s in shelters:
    if s["properties"]["district_code"] is None:
        del s["properties"]["district_code"]

# --- Places for teams and depots -----------------------------------------
def places(fclass):
    out = []
    for f in sorted(
        (f for f in features
         if f["properties"].get("fclass") == fclass
         and f["geometry"]["type"] == "Polygon"
         and in_box(f)),
        key=lambda f: int(f["properties"]["osm_id"]),
    ):
        ring = f["geometry"]["coordinates"][0]
        c = centroid(ring)
        if c and inside(c, ring) and area_m2(ring) >= 5_000 and district_of(c):
            out.append((f["properties"]["osm_id"], r6(c)))
    return out


DISTRICT_NAMES = {d["properties"]["code"]: d["properties"]["name"] for d in districts}
SEEN = {}


def sample_name(code, label):
    """“<district><label><n>号（示例）”: invented names, never a real unit's."""
    key = (code, label)
    SEEN[key] = SEEN.get(key, 0) + 1
    return f"{DISTRICT_NAMES[code]}{label}{SEEN[key]}号（示例）"


def spread(candidates, n):
    """n candidates evenly spaced over the sorted list (deterministic)."""
    step = len(candidates) / n
    return [candidates[int(i * step)] for i in range(n)]


TEAMS = [
    ("fire", "消防救援站", 45, "水罐消防车 3 辆、抢险救援车 1 辆、举高喷射消防车 1 辆", 5),
    ("fire", "消防救援站", 38, "泡沫消防车 2 辆、水罐消防车 2 辆、干粉泡沫联用车 1 辆", 5),
    ("fire", "消防救援站", 32, "水罐消防车 2 辆、抢险救援车 1 辆", 5),
    ("hazmat", "危化品应急救援队", 60, "防化洗消车 1 辆、侦检车 1 辆、重型防化服 20 套、堵漏器材 4 套", 15),
    ("hazmat", "危化品应急救援队", 40, "防化洗消车 1 辆、气体检测仪 12 台、堵漏器材 3 套", 20),
    ("medical", "急救分站", 24, "负压救护车 4 辆、洗消帐篷 1 顶", 10),
    ("medical", "医疗应急救援队", 30, "救护车 6 辆、移动手术方舱 1 个", 30),
    ("fire", "专职消防队", 20, "泡沫消防车 1 辆、水罐消防车 1 辆", 3),
]
PHONES = ["0571-8690{:04d}", "0571-8270{:04d}"]
teams = []
for i, ((osm_id, p), (kind, name, members, equipment, mob)) in enumerate(
        zip(spread(places("commercial") + places("residential"), len(TEAMS)), TEAMS)):
    teams.append({
        "type": "Feature",
        "id": f"team-{i + 1:02d}",
        "geometry": {"type": "Point", "coordinates": p},
        "properties": {
            "name": sample_name(district_of(p), name),
            "kind": kind,
            "members": members,
            "equipment": equipment,
            "contact": PHONES[i % 2].format(1000 + 37 * i),
            "mobilisation_min": mob,
            "district_code": district_of(p),
            "sample": True,
            "site_source": f"OSM {osm_id} centroid",
        },
    })

DEPOTS = [
    ("应急物资储备库", [("帐篷", 300, "顶"), ("折叠床", 800, "张"), ("棉被", 1500, "床"), ("应急照明灯", 200, "台")]),
    ("危化品应急物资库", [("吸附棉", 2.5, "t"), ("围油栏", 500, "m"), ("正压式空气呼吸器", 40, "套"), ("堵漏工具", 6, "套")]),
    ("防汛抗旱物资库", [("编织袋", 20000, "条"), ("救生衣", 600, "件"), ("冲锋舟", 8, "艘"), ("发电机", 12, "台")]),
    ("应急物资点", [("饮用水", 5, "t"), ("方便食品", 3000, "份"), ("急救包", 200, "个")]),
]
depots = []
for i, ((osm_id, p), (name, items)) in enumerate(
        zip(spread(places("residential"), len(DEPOTS) + 1)[1:], DEPOTS)):
    depots.append({
        "type": "Feature",
        "id": f"depot-{i + 1:02d}",
        "geometry": {"type": "Point", "coordinates": p},
        "properties": {
            "name": sample_name(district_of(p), name),
            "items": [{"name": n, "quantity": q, "unit": u} for n, q, u in items],
            "contact": "0571-8288{:04d}".format(2000 + 41 * i),
            "district_code": district_of(p),
            "sample": True,
            "site_source": f"OSM {osm_id} centroid",
        },
    })

for name, feats in [("shelters", shelters), ("rescue_teams", teams), ("supply_depots", depots)]:
    with open(f"data/demo/{name}.geojson", "w", encoding="utf-8") as out:
        out.write(collection(feats))
    print(f"{name}: {len(feats)}")
by_class = {}
for s in shelters:
    by_class[s["properties"]["class"]] = by_class.get(s["properties"]["class"], 0) + 1
print("shelter classes:", dict(sorted(by_class.items())))
print("shelter capacity:", sum(s["properties"]["capacity_persons"] for s in shelters))
print("input sha256:", hashlib.sha256(raw).hexdigest())
