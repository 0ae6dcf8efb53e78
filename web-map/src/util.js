// Small helpers shared by the web map's modules: HTML escaping, number
// formatting, fetching every page of an OGC collection, and planar geometry
// in a local metric frame (for drawing, never for the figures we report:
// distances shown to the user are the server's).

/** The four risk colours (GB/T 四色, as `RiskLevel::colour_hex` on the server). */
export const LEVELS = ['red', 'orange', 'yellow', 'blue'];
export const COLOURS = { red: '#FF0000', orange: '#ED7D31', yellow: '#FFFF00', blue: '#00B0F0' };

export function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

export function fmt(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(2);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const MINUS = '−';

/** Metres, rounded: `1234`, `−45`, `3.5` below 10 m. */
export function fmtM(v, { signed = false } = {}) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  const a = Math.abs(v);
  const s = a < 0.05 ? '0' : (a < 10 ? a.toFixed(1) : String(Math.round(a)));
  const sign = s === '0' ? '' : (v < 0 ? MINUS : (signed ? '+' : ''));
  return sign + s;
}

const SUP = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };

/** A frequency or risk in scientific notation: `3×10⁻⁷`, `1.2×10⁻⁶`. */
export function sci(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (v === 0) return '0';
  let e = Math.floor(Math.log10(Math.abs(v)));
  let m = v / 10 ** e;
  let ms = m.toFixed(1);
  if (Number(ms) >= 10) { e += 1; m = v / 10 ** e; ms = m.toFixed(1); }
  ms = ms.replace(/\.0$/, '');
  const exp = String(e).split('').map((c) => SUP[c]).join('');
  return ms === '1' ? `10${exp}` : `${ms}×10${exp}`;
}

/** Replaces `{key}` in a string. */
export function fill(s, vars) {
  return String(s).replace(/\{(\w+)\}/g, (_, k) => (k in vars ? vars[k] : `{${k}}`));
}

/** Every feature of a collection's items, following `next` links. */
export async function fetchAllFeatures(getJson, path) {
  const features = [];
  let url = path;
  for (let i = 0; url && i < 100; i += 1) {
    const page = await getJson(url);
    features.push(...(page.features ?? []));
    const next = (page.links ?? []).find((l) => l.rel === 'next');
    if (!next || !(page.features ?? []).length) break;
    const u = new URL(next.href, location.href);
    url = u.pathname + u.search; // same origin, whatever host the server named
  }
  return { type: 'FeatureCollection', features };
}

// ------------------------------------------------------------- geometry
// An equirectangular frame around a reference latitude: good to well under
// a metre over the few kilometres the siting tool draws.
const R = 6371008.8;

function frame(lat0) {
  const kx = (Math.PI / 180) * R * Math.cos((lat0 * Math.PI) / 180);
  const ky = (Math.PI / 180) * R;
  return {
    to: ([lon, lat]) => [lon * kx, lat * ky],
    from: ([x, y]) => [x / kx, y / ky],
  };
}

/** Rings (arrays of [lon, lat]) and lone points of a GeoJSON geometry. */
function parts(g) {
  const rings = [];
  const points = [];
  const walk = (geom) => {
    if (!geom) return;
    switch (geom.type) {
      case 'Point': points.push(geom.coordinates); break;
      case 'MultiPoint': points.push(...geom.coordinates); break;
      case 'LineString': rings.push(geom.coordinates); break;
      case 'MultiLineString': rings.push(...geom.coordinates); break;
      case 'Polygon': rings.push(...geom.coordinates); break;
      case 'MultiPolygon': geom.coordinates.forEach((p) => rings.push(...p)); break;
      case 'GeometryCollection': geom.geometries.forEach(walk); break;
      default: break;
    }
  };
  walk(g);
  return { rings, points };
}

function inRing(pt, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > pt[1]) !== (yj > pt[1]) && pt[0] < ((xj - xi) * (pt[1] - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Whether [lon, lat] lies inside a Polygon or MultiPolygon (holes respected). */
export function pointInGeometry(pt, g) {
  if (!g) return false;
  if (g.type === 'Polygon') return inRing(pt, g.coordinates[0]) && !g.coordinates.slice(1).some((h) => inRing(pt, h));
  if (g.type === 'MultiPolygon') return g.coordinates.some((p) => pointInGeometry(pt, { type: 'Polygon', coordinates: p }));
  if (g.type === 'GeometryCollection') return g.geometries.some((x) => pointInGeometry(pt, x));
  return false;
}

/** The point of geometry `g` nearest to [lon, lat] `p` (p itself when inside a polygon of g). */
export function nearestPoint(g, p) {
  if (pointInGeometry(p, g)) return p;
  const f = frame(p[1]);
  const q = f.to(p);
  let best = null;
  let bestD = Infinity;
  const consider = (c) => {
    const d = (c[0] - q[0]) ** 2 + (c[1] - q[1]) ** 2;
    if (d < bestD) { bestD = d; best = c; }
  };
  const { rings, points } = parts(g);
  points.forEach((pt) => consider(f.to(pt)));
  for (const ring of rings) {
    for (let i = 1; i < ring.length; i += 1) {
      const a = f.to(ring[i - 1]);
      const b = f.to(ring[i]);
      const dx = b[0] - a[0];
      const dy = b[1] - a[1];
      const len = dx * dx + dy * dy;
      const tt = len ? Math.max(0, Math.min(1, ((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / len)) : 0;
      consider([a[0] + tt * dx, a[1] + tt * dy]);
    }
    if (ring.length === 1) consider(f.to(ring[0]));
  }
  return best ? f.from(best) : p;
}

/** A representative point: a Point's coordinates, else the vertex average of the outer ring(s). */
export function representativePoint(g) {
  const { rings, points } = parts(g);
  const pts = points.length ? points : rings.flatMap((r) => (r.length > 1 ? r.slice(0, -1) : r));
  if (!pts.length) return null;
  return [pts.reduce((s, c) => s + c[0], 0) / pts.length, pts.reduce((s, c) => s + c[1], 0) / pts.length];
}

/** The nearest pair of points between two geometries, by two rounds of alternating projection. */
export function nearestPair(a, b) {
  let pa = representativePoint(a);
  if (!pa) return null;
  let pb = nearestPoint(b, pa);
  for (let i = 0; i < 3; i += 1) {
    pa = nearestPoint(a, pb);
    pb = nearestPoint(b, pa);
  }
  return [pa, pb];
}

/** Extends [w, s, e, n] (or null) with every coordinate of a geometry. */
export function extendBounds(bounds, g) {
  let b = bounds;
  const { rings, points } = parts(g);
  for (const c of [...points, ...rings.flat()]) {
    b = b ? [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])] : [c[0], c[1], c[0], c[1]];
  }
  return b;
}
