// An incident answer (应急指挥: POST /api/incidents/assess, /api/incidents)
// as map overlays and HTML, shared by the command panel (command.js) and the
// printable brief (incident-brief.js): threat zones red/orange/yellow with
// the wind-uncertainty areas dashed, the source, a wind arrow, and the help
// (teams, depots, shelters) with their routes — the road path when the
// answer carries one, else a dashed straight line labelled as such. Every
// figure shown is the server's; the drawing only places them.
import * as maplibregl from 'maplibre-gl';
import { esc, fetchAllFeatures, fill, fmtM, representativePoint } from './util.js';

export const ZONE_COLOURS = { red: '#FF0000', orange: '#ED7D31', yellow: '#FFFF00' };
export const ZONE_LINES = { red: '#B71C1C', orange: '#BF5B12', yellow: '#9E9D24' };
export const HELP_COLOURS = { team: '#1565C0', depot: '#6A1B9A', shelter: '#2E7D32' };
export const WIND_COLOUR = '#0D47A1';
const EMPTY = { type: 'FeatureCollection', features: [] };
const COMMANDERS = ['admin', 'regulator', 'inspector'];
/** Where the command panel leaves the request of an assessment that is not stored, for its brief (`/?incident=draft`). */
export const DRAFT_KEY = 'riskmap.incidentDraft';

/** Whether a signed-in account (GET /api/me) may report and change incidents; an unverified token is let through to the server. */
export function isCommander(me) {
  if (!me) return false;
  return Boolean(me.unverified) || COMMANDERS.includes(me.role);
}

// ------------------------------------------------------------- wording
const COMPASS_ZH = ['北', '北东北', '东北', '东东北', '东', '东东南', '东南', '南东南', '南', '南西南', '西南', '西西南', '西', '西西北', '西北', '北西北'];
const COMPASS_EN = ['N', 'NNE', 'NE', 'ENE', 'E', 'ESE', 'SE', 'SSE', 'S', 'SSW', 'SW', 'WSW', 'W', 'WNW', 'NW', 'NNW'];

/** The 16-point compass name of a bearing, e.g. `东北 NE` (Chinese) or `NE`. */
export function compass(deg, lang) {
  const d = Number(deg);
  if (!Number.isFinite(d)) return '';
  const i = Math.round((((d % 360) + 360) % 360) / 22.5) % 16;
  return lang === 'en' ? COMPASS_EN[i] : `${COMPASS_ZH[i]} ${COMPASS_EN[i]}`;
}

/** A wind by where it blows from: `东北风 NE` (Chinese) or `NE wind`. */
export function windName(deg, lang) {
  const d = Number(deg);
  if (!Number.isFinite(d)) return '';
  const i = Math.round((((d % 360) + 360) % 360) / 22.5) % 16;
  return lang === 'en' ? `${COMPASS_EN[i]} wind` : `${COMPASS_ZH[i]}风 ${COMPASS_EN[i]}`;
}

/** `东北风 NE，烟羽吹向西南 SW` for a wind from `deg`. */
export function windHint(deg, t, lang) {
  const d = Number(deg);
  if (!Number.isFinite(d)) return '';
  return fill(t('cmdWindHint'), { from: windName(d, lang), to: compass(d + 180, lang) });
}

export function fmtKm(m) {
  if (m === null || m === undefined || !Number.isFinite(Number(m))) return '—';
  const v = Number(m);
  return v >= 1000 ? `${(v / 1000).toFixed(v >= 10000 ? 1 : 2)} km` : `${fmtM(v)} m`;
}

/** A `Reach` (`{reach: within|beyond_range|not_reached, …}`, or metres) as text. */
export function fmtReach(r, t) {
  if (r === null || r === undefined) return '—';
  if (typeof r === 'number') return fmtKm(r);
  if (r.reach === 'within') return fmtKm(r.distance_m);
  if (r.reach === 'beyond_range') return fill(t('cmdBeyond'), { km: (r.max_distance_m / 1000).toFixed(0) });
  if (r.reach === 'not_reached') return t('cmdNotReached');
  return String(r.distance_m ?? '—');
}

/** Metres of a reach, for drawing (0 when not reached). */
export function reachMetres(r) {
  if (typeof r === 'number') return r;
  return r?.distance_m ?? r?.max_distance_m ?? 0;
}

export function fmtRelease(rel, t) {
  if (!rel) return '—';
  if (rel.kind === 'instantaneous') return `${t('cmdReleaseInstant')} ${fmtNum(rel.mass_kg)} kg`;
  if (rel.kind === 'continuous') return `${t('cmdReleaseContinuous')} ${fmtNum(rel.rate_kg_s)} kg/s × ${fmtNum(rel.duration_s)} s (${fmtNum(rel.rate_kg_s * rel.duration_s)} kg)`;
  return JSON.stringify(rel);
}

export function fmtNum(v) {
  const n = Number(v);
  if (!Number.isFinite(n)) return String(v ?? '—');
  if (Math.abs(n) >= 100) return String(Math.round(n));
  return String(Number(n.toPrecision(3)));
}

const fmtMin = (v) => (Number.isFinite(Number(v)) ? Number(v).toFixed(1) : '—');

/** `road` or `straight_line` for one resource (its own basis, else a route means road, else the answer's). */
export function basisOf(item, help) {
  if (item?.distance_basis === 'road' || item?.distance_basis === 'straight_line') return item.distance_basis;
  if (Array.isArray(item?.route) && item.route.length > 1) return 'road';
  const b = String(help?.distance_basis ?? '');
  return /^road/i.test(b) ? 'road' : 'straight_line';
}

// ------------------------------------------------------------- the zones
/**
 * The threat zones in the order of the answer's threat_zone features, each
 * with who is inside: `inside[i]` belongs to the i-th threat zone (matched
 * by hazard and colour when the entries carry them).
 */
export function zoneRows(a) {
  const feats = (a?.zones_geojson?.features ?? []).filter((f) => (f.properties?.kind ?? 'threat_zone') === 'threat_zone');
  const inside = a?.inside ?? [];
  return feats.map((f, i) => {
    const p = f.properties ?? {};
    const hazard = p.hazard ?? 'toxic';
    const same = (x) => x && (x.hazard ?? 'toxic') === hazard && (!x.colour || x.colour === p.colour);
    const ins = same(inside[i]) ? inside[i] : (inside.find(same) ?? inside[i] ?? {});
    return {
      index: i,
      id: f.id ?? `${hazard}-${p.colour}`,
      hazard,
      colour: p.colour ?? ins.colour,
      name: p.zone_name ?? '',
      level: p.level,
      unit: p.unit,
      basis: p.basis,
      unconfirmed: Boolean(p.unconfirmed),
      reach: p.reach,
      drawn: Boolean(f.geometry),
      population: ins.population ?? p.population ?? 0,
      targets: ins.targets ?? [],
      byCategory: ins.population_by_category ?? [],
      pipelines: ins.pipelines ?? [],
      sites: ins.hazardous_sites ?? [],
    };
  });
}

const asList = (r) => (Array.isArray(r) ? r : (r ? [r] : []));

/** The zones grouped by hazard (toxic, thermal, overpressure), each with its model and reasons. */
export function hazardGroups(a) {
  const rows = zoneRows(a);
  const order = [];
  for (const h of (a?.hazards ?? []).map((x) => x.hazard)) if (h && !order.includes(h)) order.push(h);
  for (const r of rows) if (!order.includes(r.hazard)) order.push(r.hazard);
  if (!order.length && a?.toxic) order.push('toxic');
  return order.map((h) => {
    const meta = (a?.hazards ?? []).find((x) => x.hazard === h);
    const toxic = h === 'toxic' ? a?.toxic : null;
    return {
      hazard: h,
      model: meta?.model ?? toxic?.model ?? null,
      scenario: meta?.scenario ?? null,
      reasons: asList(meta?.reasons ?? meta?.reason ?? toxic?.reason),
      rows: rows.filter((r) => r.hazard === h),
    };
  });
}

const VULNERABLE = new Set(['school', 'kindergarten', 'hospital', 'nursing_home']);
export const isVulnerable = (category) => VULNERABLE.has(category);

// ------------------------------------------------------------- geometry
const R = 6371008.8;
/** [lon, lat] moved `d` metres toward `bearing` (degrees from north), on a local flat frame. */
export function offset([lon, lat], bearing, d) {
  const b = (bearing * Math.PI) / 180;
  const dx = d * Math.sin(b);
  const dy = d * Math.cos(b);
  return [lon + (dx / (R * Math.cos((lat * Math.PI) / 180))) * (180 / Math.PI), lat + (dy / R) * (180 / Math.PI)];
}

/** The wind arrow: a shaft upwind of the source and a head pointing downwind, as GeoJSON. */
export function windArrow(a) {
  const src = a?.source;
  const down = Number(a?.toxic?.downwind_deg ?? a?.hazards?.[0]?.downwind_deg);
  if (!src || !Number.isFinite(down)) return { arrow: EMPTY, tail: null };
  const red = zoneRows(a).find((z) => z.colour === 'red' && z.drawn);
  const len = Math.max(150, Math.min(1500, 0.35 * (reachMetres(red?.reach) || 1000)));
  const up = down + 180;
  const tail = offset(src, up, len);
  const tip = offset(src, up, len * 0.12);
  const base = offset(src, up, len * 0.42);
  const head = [offset(base, down + 90, len * 0.13), tip, offset(base, down - 90, len * 0.13)];
  return {
    tail,
    arrow: {
      type: 'FeatureCollection',
      features: [
        { type: 'Feature', geometry: { type: 'LineString', coordinates: [tail, base] }, properties: { part: 'shaft' } },
        { type: 'Feature', geometry: { type: 'Polygon', coordinates: [[...head, head[0]]] }, properties: { part: 'head' } },
      ],
    },
  };
}

// -------------------------------------------------- resources and routes
/** Where the teams, depots and shelters are: id → [lon, lat], loaded once per page. */
let placesLoading = null;
export function loadPlaces(getJson) {
  placesLoading ??= Promise.all(['rescue_teams', 'supply_depots', 'shelters'].map((c) => fetchAllFeatures(getJson, `/collections/${c}/items?limit=10000`)
    .then((fc) => [c, new Map(fc.features.map((f) => [String(f.id), representativePoint(f.geometry)]))])
    .catch(() => [c, new Map()])))
    .then((pairs) => Object.fromEntries(pairs));
  return placesLoading;
}

/**
 * The help to draw: teams, depots and the shelters people are sent to (all
 * listed shelters when nobody is assigned), each with its line: the route
 * when the answer has one, else the straight line from the source.
 */
export function helpItems(a, places) {
  const help = a?.help ?? {};
  const src = a?.source;
  const items = [];
  const add = (kind, collection, list, all = list) => list.forEach((r) => {
    const at = places?.[collection]?.get(String(r.id)) ?? (Array.isArray(r.route) && r.route.length ? r.route[r.route.length - 1] : null);
    const basis = basisOf(r, help);
    const route = Array.isArray(r.route) && r.route.length > 1 ? r.route : null;
    const line = route ?? (at && src ? [at, src] : null);
    items.push({ kind, rank: `${PREFIX[kind]}${all.indexOf(r) + 1}`, id: r.id, name: r.name, item: r, at, basis, route, line });
  });
  add('team', 'rescue_teams', help.teams ?? []);
  add('depot', 'supply_depots', help.depots ?? []);
  const shelters = help.shelters ?? [];
  const used = shelters.filter((s) => (s.assigned ?? 0) > 0);
  add('shelter', 'shelters', used.length ? used : shelters.slice(0, 5), shelters);
  return items;
}

/** The marks of teams, depots and shelters on the map and in the tables: T1, D1, S1. */
export const PREFIX = { team: 'T', depot: 'D', shelter: 'S' };

// ------------------------------------------------------------- the layers
/** The overlay sources and layers (idempotent). */
export function addIncidentLayers(map, { before } = {}) {
  for (const id of ['cmd-zones', 'cmd-routes', 'cmd-help', 'cmd-wind', 'cmd-source']) {
    if (!map.getSource(id)) map.addSource(id, { type: 'geojson', data: EMPTY });
  }
  const colour = (table) => ['match', ['get', 'colour'], 'red', table.red, 'orange', table.orange, table.yellow];
  const threat = ['==', ['get', 'kind'], 'threat_zone'];
  const sortKey = ['match', ['get', 'colour'], 'red', 3, 'orange', 2, 1];
  const helpColour = ['match', ['get', 'kind'], 'team', HELP_COLOURS.team, 'depot', HELP_COLOURS.depot, HELP_COLOURS.shelter];
  const layers = [
    { id: 'cmd-zones-fill', type: 'fill', source: 'cmd-zones', filter: threat, layout: { 'fill-sort-key': sortKey }, paint: { 'fill-color': colour(ZONE_COLOURS), 'fill-opacity': 0.4 } },
    { id: 'cmd-zones-line', type: 'line', source: 'cmd-zones', filter: threat, layout: { 'line-join': 'round' }, paint: { 'line-color': colour(ZONE_LINES), 'line-width': ['match', ['get', 'hazard'], 'thermal', 3, 'overpressure', 3, 2] } },
    { id: 'cmd-zones-uncertainty', type: 'line', source: 'cmd-zones', filter: ['==', ['get', 'kind'], 'wind_uncertainty'], layout: { 'line-join': 'round' }, paint: { 'line-color': colour(ZONE_LINES), 'line-width': 1.5, 'line-dasharray': [3, 2] } },
    { id: 'cmd-routes-road', type: 'line', source: 'cmd-routes', filter: ['==', ['get', 'basis'], 'road'], layout: { 'line-join': 'round', 'line-cap': 'round' }, paint: { 'line-color': helpColour, 'line-width': 3 } },
    { id: 'cmd-routes-straight', type: 'line', source: 'cmd-routes', filter: ['!=', ['get', 'basis'], 'road'], layout: { 'line-cap': 'butt' }, paint: { 'line-color': helpColour, 'line-width': 2, 'line-dasharray': [2, 2] } },
    { id: 'cmd-help-circle', type: 'circle', source: 'cmd-help', paint: { 'circle-color': helpColour, 'circle-radius': 6, 'circle-stroke-color': '#FFFFFF', 'circle-stroke-width': 2 } },
    { id: 'cmd-wind-shaft', type: 'line', source: 'cmd-wind', filter: ['==', ['get', 'part'], 'shaft'], paint: { 'line-color': WIND_COLOUR, 'line-width': 4 } },
    { id: 'cmd-wind-head', type: 'fill', source: 'cmd-wind', filter: ['==', ['get', 'part'], 'head'], paint: { 'fill-color': WIND_COLOUR } },
    { id: 'cmd-source-circle', type: 'circle', source: 'cmd-source', paint: { 'circle-color': '#212121', 'circle-radius': 8, 'circle-stroke-color': '#FFEB3B', 'circle-stroke-width': 3 } },
  ];
  for (const l of layers) if (!map.getLayer(l.id)) map.addLayer(l, before && map.getLayer(before) ? before : undefined);
}

/** Draws an answer (or clears with null); returns the help items drawn. */
export function drawIncident(map, a, places) {
  const set = (id, data) => map.getSource(id)?.setData(data ?? EMPTY);
  if (!a) {
    ['cmd-zones', 'cmd-routes', 'cmd-help', 'cmd-wind', 'cmd-source'].forEach((id) => set(id, EMPTY));
    return [];
  }
  const zones = (a.zones_geojson?.features ?? []).filter((f) => f.geometry)
    .map((f) => ({ ...f, properties: { ...f.properties, hazard: f.properties?.hazard ?? 'toxic' } }));
  set('cmd-zones', { type: 'FeatureCollection', features: zones });
  const items = helpItems(a, places);
  set('cmd-routes', {
    type: 'FeatureCollection',
    features: items.filter((h) => h.line).map((h) => ({ type: 'Feature', geometry: { type: 'LineString', coordinates: h.line }, properties: { kind: h.kind, id: h.id, basis: h.basis } })),
  });
  set('cmd-help', {
    type: 'FeatureCollection',
    features: items.filter((h) => h.at).map((h) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: h.at }, properties: { kind: h.kind, id: h.id, rank: h.rank } })),
  });
  set('cmd-wind', windArrow(a).arrow);
  set('cmd-source', a.source ? { type: 'FeatureCollection', features: [{ type: 'Feature', geometry: { type: 'Point', coordinates: a.source }, properties: {} }] } : EMPTY);
  return items;
}

/** [w, s, e, n] of the zones and uncertainty areas drawn, with the source. */
export function incidentBounds(a) {
  const b = a?.source ? [a.source[0], a.source[1], a.source[0], a.source[1]] : null;
  if (!b) return null;
  const walk = (c) => {
    if (typeof c[0] === 'number') { b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]); } else c.forEach(walk);
  };
  for (const f of a.zones_geojson?.features ?? []) if (f.geometry) walk(f.geometry.coordinates);
  return b;
}

/** DOM labels: the wind, the source, and each resource with its arrival and distance basis. */
export function incidentLabels(map, a, items, t, lang, request) {
  const markers = [];
  const label = (cls, text, at, anchor = 'left', offsetPx = [10, 0]) => {
    const el = document.createElement('div');
    el.className = `cmd-label ${cls}`;
    el.textContent = text;
    markers.push(new maplibregl.Marker({ element: el, anchor, offset: offsetPx }).setLngLat(at).addTo(map));
    return el;
  };
  if (!a) return markers;
  const { tail } = windArrow(a);
  const req = request ?? a.incident?.request ?? {};
  const from = Number.isFinite(Number(req.wind_from_deg)) ? Number(req.wind_from_deg) : Number(a.toxic?.downwind_deg) + 180;
  if (tail) {
    const speed = Number.isFinite(Number(req.wind_speed_m_s)) ? ` ${fmtNum(req.wind_speed_m_s)} m/s` : '';
    const el = label('cmd-wind-label', `${windName(from, lang)}${speed}`, tail, 'right', [-6, 0]);
    el.dataset.windFrom = String(((from % 360) + 360) % 360);
  }
  if (a.source) label('cmd-source-label', `${t('cmdSource')} · ${a.substance ?? ''}`, a.source, 'left', [12, 0]);
  for (const h of items) {
    if (!h.at) continue;
    const r = h.item;
    const eta = r.eta_min ? ` · ${fmtMin(r.eta_min[0])}/${fmtMin(r.eta_min[1])} min` : '';
    const dist = r.distance_m !== undefined ? ` · ${fmtKm(r.distance_m)} ${h.basis === 'road' ? t('cmdBasisRoad') : t('cmdBasisStraight')}` : '';
    const assigned = h.kind === 'shelter' ? ` · ${r.assigned ?? 0}/${r.capacity_persons ?? '—'}` : '';
    const el = label(`cmd-help-label ${h.kind}`, `${h.rank} ${r.name ?? r.id}${h.kind === 'shelter' ? assigned : eta}${dist}`, h.at);
    el.dataset.kind = h.kind;
    el.dataset.id = String(h.id);
    el.dataset.basis = h.basis;
  }
  return markers;
}

// ------------------------------------------------------------ the HTML
const more = (list, n, t, render) => {
  const shown = list.slice(0, n).map(render);
  if (list.length > n) shown.push(`<li class="hint">${esc(fill(t('cmdMore'), { n: list.length - n }))}</li>`);
  return shown.join('');
};

/** The zones grouped by hazard, each zone with who is inside. */
export function zonesHtml(a, t, { full = false } = {}) {
  const groups = hazardGroups(a);
  const n = full ? 1e9 : 12;
  const out = [];
  for (const g of groups) {
    out.push(`<section class="cmd-hazard" data-hazard="${esc(g.hazard)}">`);
    if (groups.length > 1 || g.hazard !== 'toxic' || a?.hazards) {
      out.push(`<h5>${esc(t('hazard_' + g.hazard))}${g.model ? ` · <code>${esc(g.model)}</code>` : ''}</h5>`);
      if (g.scenario) out.push(`<p class="hint">${esc(typeof g.scenario === 'string' ? g.scenario : JSON.stringify(g.scenario))}</p>`);
      if (g.reasons.length && g.hazard !== 'toxic') out.push(`<ul class="notes">${g.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>`);
    }
    if (!g.rows.length) out.push(`<p class="hint">${esc(t('cmdNone'))}</p>`);
    for (const z of g.rows) {
      const vulnerable = z.targets.filter((x) => isVulnerable(x.category)).length;
      out.push(`<div class="cmd-zone" data-hazard="${esc(z.hazard)}" data-colour="${esc(z.colour)}" data-population="${z.population}" data-targets="${z.targets.length}" data-pipelines="${z.pipelines.length}" data-sites="${z.sites.length}">
        <div class="cmd-zone-head"><span class="zone-swatch ${esc(z.colour)}" style="background:${ZONE_COLOURS[z.colour] ?? '#999'}"></span>
          <strong>${esc(z.name)}</strong> <span class="cmd-zone-level">${esc(fmtNum(z.level))} ${esc(z.unit ?? '')} · ${esc(z.basis ?? '')}${z.unconfirmed ? ` <em class="unconfirmed">(${esc(t('cmdUnconfirmed'))})</em>` : ''}</span></div>
        <div class="cmd-zone-figures">${esc(t('cmdReach'))} <b class="cmd-reach">${esc(fmtReach(z.reach, t))}</b> · ${esc(t('cmdPeople'))} <b class="cmd-people">${z.population}</b> · ${esc(t('cmdTargets'))} <b class="cmd-ntargets">${z.targets.length}</b>${vulnerable ? ` <span class="cmd-vulnerable">(${esc(t('briefVulnerable'))} ${vulnerable})</span>` : ''}</div>
        ${z.targets.length ? `<ul class="cmd-targets">${more(z.targets, n, t, (x) => `<li data-id="${esc(x.id)}" data-category="${esc(x.category)}"${isVulnerable(x.category) ? ' class="vulnerable"' : ''}>${esc(x.name ?? x.id)} <small>${esc(t('use_' + x.category))} · ${x.population}</small></li>`)}</ul>` : ''}
        ${z.pipelines.length ? `<div class="cmd-sub">${esc(t('cmdPipelines'))}: <span class="cmd-pipelines">${z.pipelines.map((p) => esc(p.name ?? p.id)).join('、')}</span></div>` : ''}
        ${z.sites.length ? `<div class="cmd-sub">${esc(t('cmdHazardSites'))}: <span class="cmd-sites">${z.sites.map((p) => esc(p.name ?? p.id)).join('、')}</span></div>` : ''}
      </div>`);
    }
    out.push('</section>');
  }
  return out.join('');
}

/** Teams and depots by arrival with their distance basis, shelters with assigned/capacity, the unassigned, the assumptions. */
export function helpHtml(a, t, { full = false } = {}) {
  const help = a?.help;
  if (!help) return '';
  const basisName = (b) => (b === 'road' ? t('cmdBasisRoad') : t('cmdBasisStraight'));
  const resRows = (list, kind) => list.map((r, i) => {
    const mark = `${PREFIX[kind]}${i + 1}`;
    const b = basisOf(r, help);
    return `<tr data-kind="${kind}" data-id="${esc(r.id)}" data-basis="${esc(b)}" data-eta="${esc(r.eta_min?.[0])}"><td class="num">${mark}</td><td>${esc(r.name)}<br><small>${esc(t('team_' + r.kind) === 'team_' + r.kind ? r.kind : t('team_' + r.kind))}</small></td><td class="num">${esc(fmtMin(r.eta_min?.[0]))} / ${esc(fmtMin(r.eta_min?.[1]))}</td><td class="num">${esc(fmtKm(r.distance_m))}<br><small class="basis ${esc(b)}">${esc(basisName(b))}</small></td></tr>`;
  }).join('');
  const head = `<thead><tr><th>#</th><th>${esc(t('name'))}</th><th>${esc(t('cmdEta'))}</th><th>${esc(t('cmdDistance'))}</th></tr></thead>`;
  const out = [];
  out.push(`<p class="hint" id="cmd-distance-basis">${esc(t('cmdDistanceBasis'))}: ${esc(help.distance_basis)}</p>`);
  out.push(`<h5>${esc(t('cmdTeams'))}</h5>${(help.teams ?? []).length ? `<table class="cmd-table" id="cmd-teams">${head}<tbody>${resRows(help.teams, 'team')}</tbody></table>` : `<p class="hint">${esc(t('cmdNone'))}</p>`}`);
  out.push(`<h5>${esc(t('cmdDepots'))}</h5>${(help.depots ?? []).length ? `<table class="cmd-table" id="cmd-depots">${head}<tbody>${resRows(help.depots, 'depot')}</tbody></table>` : `<p class="hint">${esc(t('cmdNone'))}</p>`}`);
  const shelters = help.shelters ?? [];
  const shown = full ? shelters : shelters.slice(0, 10);
  out.push(`<h5>${esc(t('cmdShelters'))}</h5><p id="cmd-evacuate">${esc(t('cmdPeopleToEvacuate'))}: <b>${help.people_to_evacuate ?? 0}</b> · ${esc(t('cmdUnassigned'))}: <b id="cmd-unassigned">${help.unassigned ?? 0}</b></p>`);
  if (shown.length) {
    out.push(`<table class="cmd-table" id="cmd-shelters"><thead><tr><th>#</th><th>${esc(t('name'))}</th><th>${esc(t('cmdAssigned'))}</th><th>${esc(t('cmdDistance'))}</th></tr></thead><tbody>${shown.map((s, i) => {
      const b = basisOf(s, help);
      return `<tr data-kind="shelter" data-id="${esc(s.id)}" data-assigned="${s.assigned ?? 0}" data-capacity="${s.capacity_persons ?? 0}" data-basis="${esc(b)}"><td class="num">S${i + 1}</td><td>${esc(s.name)}<br><small>${esc(t('shelter_' + s.class))}</small></td><td class="num">${s.assigned ?? 0} / ${s.capacity_persons ?? '—'}</td><td class="num">${esc(fmtKm(s.distance_m))}<br><small class="basis ${esc(b)}">${esc(basisName(b))}</small></td></tr>`;
    }).join('')}</tbody></table>${shelters.length > shown.length ? `<p class="hint">${esc(fill(t('cmdMore'), { n: shelters.length - shown.length }))}</p>` : ''}`);
  }
  if ((help.assumptions ?? []).length) out.push(`<h5>${esc(t('cmdAssumptions'))}</h5><ul class="notes" id="cmd-assumptions">${help.assumptions.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`);
  return out.join('');
}

export function ergHtml(a, t) {
  const e = a?.erg;
  if (!e) return '';
  return `<p id="cmd-erg">${esc(fill(t('cmdErgText'), {
    un: e.un, guide: e.guide, spill: e.spill === 'large' ? t('cmdErgLarge') : t('cmdErgSmall'), period: e.period === 'night' ? t('cmdErgNight') : t('cmdErgDay'),
    iso: fmtNum(e.isolate_m), pad: e.protective_action_km === null || e.protective_action_km === undefined ? t('cmdErgNotKept') : `${fmtNum(e.protective_action_km)} km`,
  }))}${e.unconfirmed ? ` <em class="unconfirmed">(${esc(t('cmdUnconfirmed'))})</em>` : ''}</p>`;
}

/** Notes, the model's limits and unconfirmed figures (UNCONFIRMED ones flagged). */
export function notesHtml(a, t) {
  const notes = a?.notes ?? [];
  const limits = a?.toxic?.limitations ?? [];
  const out = [];
  if (notes.length) out.push(`<ul class="notes" id="cmd-notes">${notes.map((n) => `<li${/UNCONFIRMED|未确认/.test(n) ? ' class="unconfirmed"' : ''}>${esc(n)}</li>`).join('')}</ul>`);
  if (limits.length) out.push(`<h5>${esc(t('cmdLimitations'))}</h5><ul class="notes" id="cmd-limitations">${limits.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  return out.join('');
}

/** Substance, source, release and basis, model and why, stability and basis. */
export function basisHtml(a, t, lang) {
  const tox = a?.toxic ?? {};
  const rows = [
    [t('cmdSubstance'), `${a.substance ?? ''}${a.cas ? ` (CAS ${a.cas})` : ''}`],
    [t('cmdSource'), a.source ? `${a.source[0].toFixed(5)}, ${a.source[1].toFixed(5)}` : '—'],
    [t('cmdReleaseUsed'), fmtRelease(a.release, t)],
    [t('cmdReleaseBasis'), a.release_basis],
    [t('cmdModel'), tox.model],
    [t('cmdModelWhy'), tox.reason],
    [t('cmdStabilityUsed'), a.stability],
    [t('cmdStabilityBasis'), a.stability_basis],
    [t('cmdDownwind'), Number.isFinite(Number(tox.downwind_deg)) ? `${fmtNum(tox.downwind_deg)}° (${compass(tox.downwind_deg, lang)})${tox.uncertainty_deg ? ` · ${fill(t('cmdUncertainty'), { d: fmtNum(tox.uncertainty_deg) })}` : ''}` : null],
  ].filter(([, v]) => v !== null && v !== undefined && v !== '');
  return `<dl class="props" id="cmd-basis">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}
