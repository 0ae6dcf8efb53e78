// riskmap web map: the server's MapLibre style plus legend, layer toggles,
// level filter, feature explanations, search, district statistics, PNG
// export, the safety-distance layers and site reports (safety.js), the
// siting tool (siting.js), hidden dangers (dangers.js: layer, panel, report
// form, lifecycle steps, statistics) and sign-in (auth.js). Everything is
// loaded from the serving origin.
import 'maplibre-gl/dist/maplibre-gl.css';
import './style.css';
import * as maplibregl from 'maplibre-gl';
import { STRINGS } from './i18n.js';
import { addSafetyLayers, renderSafetyLegend, reportHtml, SAFETY_SOURCES } from './safety.js';
import { createSiting } from './siting.js';
import { createAuth } from './auth.js';
import { createDangers } from './dangers.js';
import { createCommand } from './command.js';
import { createChanges } from './changes.js';
import { COLOURS, LEVELS, esc, fetchAllFeatures, fmt } from './util.js';

export { LEVELS, COLOURS };
/** Tilesets (= collections) in click priority order. */
const RESOURCES = ['rescue_teams', 'supply_depots', 'shelters'];
const SOURCES = [...RESOURCES, 'enterprises', 'hidden_dangers', 'violations', 'pipelines', 'parks', 'protection_targets', 'safety_zones', 'risk_grid', 'districts'];
/** Sources of the basemap (底图): the offline vector basemap and an optional external raster one. */
const BASEMAP_SOURCES = ['basemap', 'basemap-raster'];
/** Collections without a risk explanation (/api/risk): derived safety results, dangers, emergency resources. */
const UNEXPLAINED = new Set([...SAFETY_SOURCES, 'hidden_dangers', ...RESOURCES]);
/** Sources whose layers are coloured by `risk_level` and follow the level filter. */
const LEVELLED = new Set(['enterprises', 'pipelines', 'parks', 'risk_grid']);

const $ = (sel) => document.querySelector(sel);
const state = {
  lang: initialLang(),
  levels: new Set(LEVELS),
  hidden: new Set(),
  counts: null,
  stats: null,
  selected: null, // { collection, id, properties, explanation, report, dangers, focusDanger }
  panelView: null, // 'feature' | 'siting' | 'danger' | 'danger-form' | null (closed)
  enterprises: null,
  dataDate: new Date(),
};

function initialLang() {
  const q = new URLSearchParams(location.search).get('lang');
  if (q === 'en' || q === 'zh') return q;
  try { return localStorage.getItem('riskmap.lang') === 'en' ? 'en' : 'zh'; } catch { return 'zh'; }
}
const t = (key) => STRINGS[state.lang][key] ?? STRINGS.zh[key] ?? key;

let signIn = null; // auth.js, once created below
async function getJson(path) {
  // Signed in, reads carry the token too (a server may show the public less).
  const headers = { Accept: 'application/json, application/geo+json' };
  const res = await fetch(path, { headers: signIn ? signIn.headers(headers) : headers });
  if (!res.ok) throw Object.assign(new Error(`${path}: HTTP ${res.status}`), { status: res.status });
  const d = res.headers.get('Date');
  if (d) state.dataDate = new Date(d);
  return res.json();
}

// ---------------------------------------------------------------- the map
maplibregl.setWorkerUrl(new URL('/assets/maplibre-gl-worker.mjs', location.href).href);

const map = new maplibregl.Map({
  container: 'map',
  style: new URL('/style.json', location.href).href,
  canvasContextAttributes: { preserveDrawingBuffer: true, antialias: true },
  attributionControl: { compact: true },
  // Chinese labels from the server's own glyphs (/fonts), not the
  // browser's fonts: the same on every machine, and in exports.
  localIdeographFontFamily: false,
  hash: true,
  maxZoom: 18,
});
map.addControl(new maplibregl.NavigationControl(), 'top-right');
map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
window.__map = map;

const originalFilters = new Map();

function styleLayers() {
  return (map.getStyle()?.layers ?? []).filter((l) => l.source);
}

map.on('load', () => {
  for (const l of styleLayers()) originalFilters.set(l.id, l.filter);
  siting.addOverlays();
  renderLayerToggles();
  renderLevelFilter();
  applyLevelFilter();
  refreshCounts();
  loadStats();
  dangers.loadStats();
  addSafetyLayers(map, { getJson, loadZones, beforeZones: 'enterprise-sites', beforeViolations: 'report-zones-line' })
    .then(() => renderLayerToggles())
    .catch((err) => console.warn('safety layers', err));
  dangers.addLayers({ before: 'report-zones-line' })
    .then(() => renderLayerToggles())
    .catch((err) => console.warn('hidden-danger layer', err));
  command.addOverlays();
});

map.on('moveend', debounce(refreshCounts, 250));

map.on('mousemove', (e) => {
  if (command.onMouseMove(e)) return;
  if (siting.onMouseMove(e)) return;
  if (dangers.onMouseMove(e)) return;
  const hits = map.queryRenderedFeatures(e.point, { layers: interactiveLayers() });
  map.getCanvas().style.cursor = hits.length ? 'pointer' : '';
});

map.on('click', (e) => {
  if (command.onMapClick(e)) return;
  if (siting.onMapClick(e)) return;
  if (dangers.onMapClick(e)) return;
  const pad = 4;
  const box = [[e.point.x - pad, e.point.y - pad], [e.point.x + pad, e.point.y + pad]];
  const hits = map.queryRenderedFeatures(box, { layers: interactiveLayers() });
  if (!hits.length) return;
  hits.sort((a, b) => SOURCES.indexOf(a.source) - SOURCES.indexOf(b.source));
  const f = hits[0];
  if (f.source === 'hidden_dangers') {
    if (f.properties?.aggregated) map.easeTo({ center: e.lngLat, zoom: Math.min(map.getZoom() + 2, 16) });
    else dangers.openDanger(String(f.properties?.id ?? f.id));
    return;
  }
  // A danger marker on its enterprise's site: the enterprise's panel, the danger marked in its list.
  const danger = hits.find((h) => h.source === 'hidden_dangers' && !h.properties?.aggregated && String(h.properties?.enterprise_id) === String(f.properties?.id));
  openFeature(f.source, f.properties?.id ?? f.id, f.properties ?? {}, { focusDanger: danger ? String(danger.properties.id) : null });
});

function interactiveLayers() {
  // District outlines are not clickable (the fill is); pipelines and safety zones are lines.
  return styleLayers().filter((l) => (SOURCES.includes(l.source) && l.type !== 'line') || l.source === 'pipelines' || l.source === 'safety_zones').map((l) => l.id);
}

// ----------------------------------------------------- layers and levels
function renderLayerToggles() {
  const box = $('#layer-list');
  const present = SOURCES.filter((s) => styleLayers().some((l) => l.source === s)).reverse();
  // 底图: the offline basemap and its labels (and a configured raster basemap), one toggle.
  if (styleLayers().some((l) => BASEMAP_SOURCES.includes(l.source))) present.push('basemap');
  box.innerHTML = present.map((s) => `<label><input type="checkbox" data-source="${s}" ${state.hidden.has(s) ? '' : 'checked'}> ${esc(t('layer_' + s))}</label>`).join('');
  box.querySelectorAll('input').forEach((el) => el.addEventListener('change', () => {
    const s = el.dataset.source;
    if (el.checked) state.hidden.delete(s); else state.hidden.add(s);
    const sources = s === 'basemap' ? BASEMAP_SOURCES : [s];
    for (const l of styleLayers().filter((x) => sources.includes(x.source))) {
      map.setLayoutProperty(l.id, 'visibility', el.checked ? 'visible' : 'none');
    }
  }));
}

function renderLevelFilter() {
  const box = $('#level-list');
  box.innerHTML = LEVELS.map((lv) => `<label><input type="checkbox" data-level="${lv}" ${state.levels.has(lv) ? 'checked' : ''}> <span class="swatch" style="background:${COLOURS[lv]}"></span> ${esc(t(lv))}</label>`).join('');
  box.querySelectorAll('input').forEach((el) => el.addEventListener('change', () => {
    if (el.checked) state.levels.add(el.dataset.level); else state.levels.delete(el.dataset.level);
    applyLevelFilter();
  }));
}

function applyLevelFilter() {
  const expr = ['in', ['get', 'risk_level'], ['literal', [...state.levels]]];
  for (const l of styleLayers()) {
    if (!LEVELLED.has(l.source)) continue;
    const orig = originalFilters.get(l.id);
    const all = state.levels.size === LEVELS.length;
    map.setFilter(l.id, all ? (orig ?? null) : (orig ? ['all', orig, expr] : expr));
  }
}

// ---------------------------------------------------------------- legend
async function refreshCounts() {
  const b = map.getBounds();
  const clamp = (v, lo, hi) => Math.max(lo, Math.min(hi, v));
  const bbox = [clamp(b.getWest(), -180, 180), clamp(b.getSouth(), -90, 90), clamp(b.getEast(), -180, 180), clamp(b.getNorth(), -90, 90)]
    .map((v) => v.toFixed(6)).join(',');
  try {
    const fc = await getJson(`/collections/enterprises/items?bbox=${bbox}&limit=10000`);
    const counts = { red: 0, orange: 0, yellow: 0, blue: 0 };
    for (const f of fc.features ?? []) if (f.properties?.risk_level in counts) counts[f.properties.risk_level] += 1;
    state.counts = counts;
  } catch (err) {
    console.warn('legend counts', err);
    state.counts = null;
  }
  renderLegend();
}

function renderLegend() {
  const c = state.counts;
  $('#legend-list').innerHTML = LEVELS.map((lv) => `<li data-level="${lv}"><span class="swatch" style="background:${COLOURS[lv]}"></span>${esc(t(lv))}<span class="count">${c ? c[lv] : '…'}</span></li>`).join('');
}

// ------------------------------------------------------------ side panel
async function openFeature(collection, id, properties, { focusDanger = null } = {}) {
  if (collection === 'hidden_dangers' && !properties?.aggregated && id !== undefined && id !== null) {
    dangers.openDanger(String(id));
    return;
  }
  dangers.setPicking(false);
  if (state.selected?.report && state.selected.id !== id) setReportZones(null);
  state.selected = { collection, id, properties, explanation: undefined, report: undefined, dangers: undefined, focusDanger };
  state.panelView = 'feature';
  renderPanel();
  dangers.loadForEnterprise(state.selected);
  if (properties?.aggregated || id === undefined || id === null || UNEXPLAINED.has(collection)) {
    state.selected.explanation = null;
    renderPanel();
    return;
  }
  try {
    state.selected.explanation = await getJson(`/api/risk/${encodeURIComponent(collection)}/${encodeURIComponent(id)}`);
  } catch (err) {
    state.selected.explanation = null;
    if (err.status !== 404) console.warn('explanation', err);
  }
  if (state.selected?.id === id) renderPanel();
}

/** Shows the right-hand panel with a view ('feature', 'siting') or closes it (null). */
function showPanel(view) {
  state.panelView = view;
  renderPanel();
}

/** The site a feature's safety report belongs to, if any. */
function reportSiteOf(sel) {
  if (!sel || sel.properties?.aggregated) return null;
  if (sel.collection === 'enterprises') return sel.id;
  if (UNEXPLAINED.has(sel.collection)) return sel.properties?.site_id ?? null;
  return null;
}

function setReportZones(fc) {
  map.getSource('report-zones')?.setData(fc ?? { type: 'FeatureCollection', features: [] });
}

/** Loads GET /api/sites/{id}/report into the open panel and draws its zones. */
async function loadReport(siteId) {
  const sel = state.selected;
  if (!sel) return;
  sel.report = 'loading';
  renderPanel();
  let report;
  try {
    report = await getJson(`/api/sites/${encodeURIComponent(siteId)}/report`);
  } catch (err) {
    report = { missing: true, status: err.status ?? 0, siteId };
    if (err.status !== 404) console.warn('site report', err);
  }
  if (state.selected !== sel) return;
  sel.report = report;
  // The panel first (a report widens it), then the map is fitted beside it.
  renderPanel();
  if (!report.missing) {
    const zones = report.zones_geojson ?? { type: 'FeatureCollection', features: [] };
    setReportZones(zones);
    const b = new maplibregl.LngLatBounds();
    const walk = (c) => { if (typeof c[0] === 'number') b.extend([c[0], c[1]]); else c.forEach(walk); };
    zones.features.forEach((f) => f.geometry && walk(f.geometry.coordinates));
    if (!b.isEmpty()) map.fitBounds(b, { padding: 60, maxZoom: 16, duration: 600 });
  }
  $('#site-report')?.scrollIntoView({ block: 'start' });
}

/** Opens an enterprise's panel with its properties from the collection. */
async function openEnterprise(id) {
  let props = { id };
  try {
    await loadEnterprises();
    const f = state.enterprises.find((x) => String(x.id) === String(id));
    if (f) { const { units, accidents, major_hazard_registration: reg, inspection_findings: found, ...rest } = f.properties ?? {}; void units; void accidents; void reg; void found; props = { id: f.id, ...rest }; }
  } catch { /* the panel still opens */ }
  openFeature('enterprises', id, props); // the panel is open now; its explanation follows
}

/** Opens an enterprise's panel and its safety report (from the siting result). */
async function openSite(id) {
  await openEnterprise(id);
  await loadReport(id);
}

function renderReportSection(sel) {
  const site = reportSiteOf(sel);
  if (!site) return '';
  const r = sel.report;
  const parts = [`<section id="site-report" data-site="${esc(site)}">`];
  if (r === undefined) {
    parts.push(`<button type="button" id="site-report-button" data-site="${esc(site)}">${esc(t('siteReport'))}</button>`);
  } else if (r === 'loading') {
    parts.push(`<h4>${esc(t('siteReport'))}</h4><p class="hint">${esc(t('loading'))}</p>`);
  } else if (r.missing) {
    parts.push(`<h4>${esc(t('siteReport'))}</h4><p class="hint" id="site-report-missing">${esc(r.status === 404 ? t('noSiteReport') : `${t('errorOther')} (HTTP ${r.status})`)}</p>`);
  } else {
    parts.push(`<h4>${esc(t('siteReport'))} · ${esc(r.site_name ?? site)}</h4>`);
    parts.push(reportHtml(r, t, state.lang));
    parts.push(`<p><a href="/api/sites/${encodeURIComponent(site)}/report" target="_blank" rel="noopener">${esc(t('reportJson'))}</a></p>`);
  }
  parts.push('</section>');
  return parts.join('');
}

/**
 * Draws the panel, then lets the map take its new size at once. The map's own
 * ResizeObserver learns of it later (throttled); a size change it reports in
 * the middle of a flight ends the flight off its target by half the panel's
 * width, so callers open the panel before they move the map.
 */
function renderPanel() {
  drawPanel();
  const box = map.getContainer();
  const canvas = map.getCanvas();
  if (box.clientWidth !== canvas.clientWidth || box.clientHeight !== canvas.clientHeight) map.resize();
}

function drawPanel() {
  const sel = state.selected;
  const panel = $('#panel');
  if (state.panelView === 'siting') {
    panel.hidden = false;
    panel.classList.add('wide');
    siting.renderResult($('#panel-body'));
    return;
  }
  if (state.panelView === 'danger' || state.panelView === 'danger-form') {
    panel.hidden = false;
    panel.classList.remove('wide');
    if (state.panelView === 'danger') dangers.renderDetail($('#panel-body'));
    else dangers.renderForm($('#panel-body'));
    return;
  }
  // A loaded site report has wide tables: widen the panel for it.
  panel.classList.toggle('wide', Boolean(sel?.report && typeof sel.report === 'object' && !sel.report.missing));
  if (!sel || state.panelView !== 'feature') { panel.hidden = true; return; }
  panel.hidden = false;
  const p = sel.properties ?? {};
  const ex = sel.explanation;
  const level = ex?.risk_level ?? p.risk_level;
  const parts = [];
  parts.push(`<h3>${esc(p.name ?? (state.lang === 'en' ? p.label_en : p.label_zh) ?? sel.id)}</h3>`);
  parts.push(`<div class="meta">${esc(t('layer_' + sel.collection))} · <code>${esc(sel.id)}</code></div>`);
  if (level) parts.push(`<p>${esc(t('level'))}: <span class="badge ${esc(level)}" data-level="${esc(level)}">${esc(t(level))}</span></p>`);
  if (p.aggregated) parts.push(`<p class="hint">${esc(t('aggregated'))}</p>`);
  parts.push(dangers.enterpriseHtml(sel));
  parts.push(renderReportSection(sel));
  if (ex === undefined) {
    parts.push(`<p class="hint">${esc(t('loading'))}</p>`);
  } else if (ex === null) {
    if (!p.aggregated && !UNEXPLAINED.has(sel.collection)) parts.push(`<p class="hint">${esc(t('noExplanation'))}</p>`);
  } else {
    parts.push('<dl class="props">');
    parts.push(`<dt>${esc(t('score'))}</dt><dd id="panel-score">${esc(fmt(ex.score))}</dd>`);
    if (ex.model) parts.push(`<dt>${esc(t('model'))}</dt><dd id="panel-model">${esc(ex.model.id)} v${esc(ex.model.version)}</dd>`);
    parts.push('</dl>');
    if (Array.isArray(ex.factors) && ex.factors.length) {
      parts.push(`<h4>${esc(t('factors'))}</h4><table id="panel-factors"><thead><tr><th>${esc(t('factor'))}</th><th>${esc(t('value'))}</th><th>${esc(t('points'))}</th><th>${esc(t('clause'))}</th></tr></thead><tbody>`);
      for (const f of ex.factors) {
        parts.push(`<tr><td>${esc(f.name)}</td><td>${esc(fmt(f.value))}</td><td class="num">${esc(f.points === null || f.points === undefined ? '—' : (f.points > 0 ? '+' : '') + fmt(f.points))}</td><td>${esc(f.clause)}</td></tr>`);
      }
      parts.push('</tbody></table>');
    }
    if (Array.isArray(ex.major_hazards) && ex.major_hazards.length) {
      parts.push(`<h4>${esc(t('majorHazards'))}</h4><table><thead><tr><th>${esc(t('unit'))}</th><th>S</th><th>R</th><th>${esc(t('grade'))}</th></tr></thead><tbody>`);
      for (const h of ex.major_hazards) parts.push(`<tr><td>${esc(h.unit)}</td><td class="num">${esc(fmt(h.s))}</td><td class="num">${esc(fmt(h.r))}</td><td class="num">${esc(fmt(h.grade))}</td></tr>`);
      parts.push('</tbody></table>');
    }
    if (Array.isArray(ex.incomplete) && ex.incomplete.length) {
      parts.push(`<h4>${esc(t('incomplete'))}</h4><ul>${ex.incomplete.map((i) => `<li>${esc(fmt(i))}</li>`).join('')}</ul>`);
    }
    parts.push(`<p><a id="panel-json" href="/api/risk/${encodeURIComponent(sel.collection)}/${encodeURIComponent(sel.id)}" target="_blank" rel="noopener">${esc(t('rawJson'))} /api/risk/${esc(sel.collection)}/${esc(sel.id)}</a></p>`);
  }
  const shown = Object.entries(p).filter(([k]) => !['name', 'risk_level'].includes(k) && (sel.collection !== 'hidden_dangers' || k !== 'history'));
  if (shown.length) {
    parts.push(`<h4>${esc(t('properties'))}</h4><dl class="props">${shown.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(fmt(v))}</dd>`).join('')}</dl>`);
  }
  $('#panel-body').innerHTML = parts.join('');
  const focus = sel.focusDanger && $(`#enterprise-dangers li[data-danger="${CSS.escape(sel.focusDanger)}"]`);
  if (focus) focus.classList.add('focus');
}

$('#panel-close').addEventListener('click', () => {
  if (state.panelView === 'feature') { state.selected = null; setReportZones(null); }
  dangers.setPicking(false);
  showPanel(null);
});
$('#panel-body').addEventListener('click', (e) => {
  const b = e.target.closest('#site-report-button');
  if (b) loadReport(b.dataset.site);
});

// ---------------------------------------------------------------- search
let searchLoading = null;
function loadEnterprises() {
  searchLoading ??= getJson('/collections/enterprises/items?limit=10000').then((fc) => {
    state.enterprises = fc.features ?? [];
    return state.enterprises;
  }).catch((err) => { searchLoading = null; throw err; });
  return searchLoading;
}

/** Every safety zone as GeoJSON (once; the layer fallback and the siting tool share it). */
let zonesLoading = null;
function loadZones() {
  zonesLoading ??= fetchAllFeatures(getJson, '/collections/safety_zones/items?limit=10000')
    .catch((err) => { zonesLoading = null; throw err; });
  return zonesLoading;
}

const siting = createSiting({ map, state, t, getJson, loadZones, loadEnterprises, showPanel, openSite });

// ------------------------------------------------- sign-in, hidden dangers
const auth = createAuth({
  t,
  // The actions offered on a danger depend on who is signed in: ask again.
  onChange: () => { command.authChanged(); if (state.panelView === 'danger' && state.dangers?.detail) dangers.openDanger(state.dangers.detail.id); else renderPanel(); },
});
signIn = auth;
const dangers = createDangers({
  map, state, t, getJson, auth, showPanel, openFeature, openEnterprise, afterWrite, loadEnterprises,
  rerender: () => renderPanel(),
  enterpriseName: (id) => (String(state.selected?.id) === String(id) ? state.selected.properties?.name : null)
    ?? state.enterprises?.find((f) => String(f.id) === String(id))?.properties?.name ?? null,
  districtName,
});
const command = createCommand({ map, state, t, getJson, auth, loadEnterprises });
const changes = createChanges({ map, state, t, getJson, openFeature });

/** A district's name: from the district statistics, else from the district tiles drawn so far (no extra request). */
const districtNames = new Map();
function districtName(code) {
  const c = String(code);
  const g = state.stats?.groups?.find((x) => String(x.key) === c);
  if (g?.name) return g.name;
  if (!districtNames.has(c) && map.getSource('districts')) {
    for (const f of map.querySourceFeatures('districts', { sourceLayer: 'districts' })) {
      if (f.properties?.code && f.properties?.name) districtNames.set(String(f.properties.code), f.properties.name);
    }
  }
  return districtNames.get(c) ?? null;
}

/**
 * Reloads the tiles of vector sources from the server: a new template
 * (`?v=n`) makes MapLibre request every tile again; the server answers with
 * what the write changed (its tiles were purged before the write returned).
 */
let tileVersion = 0;
function reloadTiles(names) {
  tileVersion += 1;
  for (const name of names) {
    const src = map.getSource(name);
    if (!src) continue;
    if (src.type === 'geojson') { if (name === 'hidden_dangers') dangers.reloadGeoJson(); continue; }
    const tiles = src.tiles ?? src.serialize?.().tiles;
    if (src.type === 'vector' && tiles?.length && typeof src.setTiles === 'function') {
      src.setTiles(tiles.map((u) => `${u.split('?')[0]}?v=${tileVersion}`));
    } else if (typeof src.reload === 'function') {
      src.reload();
    }
  }
}

/** After a hidden-danger write: levels may have moved, so redraw, recount and reload what is open. */
async function afterWrite({ enterprise_id: enterpriseId } = {}) {
  reloadTiles(['hidden_dangers', 'enterprises', 'risk_grid', 'parks', 'districts']);
  searchLoading = null;
  state.enterprises = null;
  refreshCounts();
  loadStats();
  dangers.loadStats();
  const sel = state.selected;
  if (sel && sel.collection === 'enterprises' && String(sel.id) === String(enterpriseId ?? '')) {
    try {
      sel.explanation = await getJson(`/api/risk/enterprises/${encodeURIComponent(sel.id)}`);
      if (sel.explanation?.risk_level) sel.properties = { ...sel.properties, risk_level: sel.explanation.risk_level };
    } catch { /* kept */ }
    await dangers.loadForEnterprise(sel);
  }
}

const input = $('#search-input');
const results = $('#search-results');
input.addEventListener('focus', () => { loadEnterprises().catch(() => {}); });
input.addEventListener('input', debounce(runSearch, 120));
input.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') { const first = results.querySelector('li[data-id]'); if (first) first.click(); }
  if (e.key === 'Escape') results.hidden = true;
});
document.addEventListener('click', (e) => { if (!$('#search').contains(e.target)) results.hidden = true; });

async function runSearch() {
  const q = input.value.trim().toLowerCase();
  if (!q) { results.hidden = true; return; }
  await loadEnterprises();
  const hits = state.enterprises.filter((f) => {
    const p = f.properties ?? {};
    return [p.name, p.credit_code, f.id].some((v) => v && String(v).toLowerCase().includes(q));
  }).slice(0, 20);
  results.innerHTML = hits.length
    ? hits.map((f) => `<li data-id="${esc(f.id)}"><span class="swatch" style="background:${COLOURS[f.properties.risk_level] ?? '#9E9E9E'}"></span> ${esc(f.properties.name)}<small>${esc(f.properties.credit_code ?? '')} · ${esc(f.id)}</small></li>`).join('')
    : `<li class="hint">${esc(t('noResults'))}</li>`;
  results.hidden = false;
  results.querySelectorAll('li[data-id]').forEach((li) => li.addEventListener('click', () => {
    const f = state.enterprises.find((x) => String(x.id) === li.dataset.id);
    results.hidden = true;
    if (f) flyToFeature(f);
  }));
}

function flyToFeature(f) {
  const b = new maplibregl.LngLatBounds();
  const walk = (c) => { if (typeof c[0] === 'number') b.extend([c[0], c[1]]); else c.forEach(walk); };
  const g = f.geometry;
  if (g) (g.type === 'GeometryCollection' ? g.geometries : [g]).forEach((x) => walk(x.coordinates));
  const { units, accidents, major_hazard_registration: reg, inspection_findings: found, ...props } = f.properties ?? {};
  void units; void accidents; void reg; void found;
  // The panel first: the flight is planned for the map's size beside it.
  openFeature('enterprises', f.id, { id: f.id, ...props });
  if (!b.isEmpty()) map.fitBounds(b, { padding: 80, maxZoom: 16, duration: 1200 });
}

// ------------------------------------------------------------ statistics
async function loadStats() {
  try {
    state.stats = await getJson('/api/stats/risk?group_by=district');
  } catch (err) {
    console.warn('stats', err);
  }
  renderStats();
  if (state.dangers?.statsGroup === 'district') dangers.renderStats();
}

function renderStats() {
  const box = $('#stats-chart');
  const groups = state.stats?.groups ?? [];
  if (!groups.length) { box.innerHTML = `<p class="hint">—</p>`; return; }
  const max = Math.max(1, ...groups.map((g) => g.total ?? LEVELS.reduce((s, l) => s + (g.counts?.[l] ?? 0), 0)));
  const W = 240, labelW = 70, barW = W - labelW - 30, rowH = 20;
  const rows = groups.map((g, i) => {
    const y = i * rowH + 4;
    let x = labelW;
    const segs = LEVELS.map((lv) => {
      const n = g.counts?.[lv] ?? 0;
      const w = (n / max) * barW;
      const r = n ? `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${COLOURS[lv]}" stroke="#555" stroke-width="0.5"><title>${esc(t(lv))}: ${n}</title></rect>` : '';
      x += w;
      return r;
    }).join('');
    const total = g.total ?? LEVELS.reduce((s, l) => s + (g.counts?.[l] ?? 0), 0);
    return `<g data-key="${esc(g.key)}"><text x="${labelW - 4}" y="${y + rowH - 9}" text-anchor="end">${esc(g.name ?? g.key)}</text>${segs}<text x="${(x + 3).toFixed(1)}" y="${y + rowH - 9}">${total}</text></g>`;
  }).join('');
  box.innerHTML = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${groups.length * rowH + 8}" role="img" aria-label="${esc(t('districtStats'))}">${rows}</svg>`;
}

// ---------------------------------------------------------------- export
function niceLength(maxMetres) {
  const p = 10 ** Math.floor(Math.log10(maxMetres));
  for (const m of [5, 2, 1]) if (m * p <= maxMetres) return m * p;
  return p;
}

/** Renders the current view with title, data date, legend, scale bar and north arrow; returns a PNG data URL. */
export function renderExport() {
  const src = map.getCanvas();
  const W = src.clientWidth, H = src.clientHeight;
  const dpr = src.width / W;
  const out = document.createElement('canvas');
  out.width = src.width; out.height = src.height;
  const g = out.getContext('2d');
  g.drawImage(src, 0, 0);
  g.scale(dpr, dpr);
  const font = (px, bold) => `${bold ? 'bold ' : ''}${px}px system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif`;
  const panel = (x, y, w, h) => { g.fillStyle = 'rgba(255,255,255,0.9)'; g.fillRect(x, y, w, h); g.strokeStyle = '#455A64'; g.lineWidth = 1; g.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1); };

  // Title and data date.
  const title = t('exportTitle');
  const date = `${t('dataDate')}: ${state.dataDate.toISOString().slice(0, 10)}`;
  g.font = font(20, true);
  const tw = Math.max(g.measureText(title).width, (g.font = font(12), g.measureText(date).width));
  panel(10, 10, tw + 24, 54);
  g.fillStyle = '#212121'; g.font = font(20, true); g.textBaseline = 'top';
  g.fillText(title, 22, 16);
  g.font = font(12); g.fillStyle = '#455A64';
  g.fillText(date, 22, 42);

  // Legend.
  g.font = font(12);
  const rows = LEVELS.map((lv) => `${t(lv)}${state.counts ? `  ${state.counts[lv]}` : ''}`);
  const lw = Math.max(g.measureText(t('legendHint')).width, ...rows.map((r) => g.measureText(r).width)) + 44;
  const lh = 26 + rows.length * 20;
  const lx = 10, ly = H - lh - 10;
  panel(lx, ly, lw, lh);
  g.fillStyle = '#212121'; g.font = font(12, true);
  g.fillText(t('legendHint'), lx + 10, ly + 8);
  g.font = font(12);
  rows.forEach((r, i) => {
    const y = ly + 28 + i * 20;
    g.fillStyle = COLOURS[LEVELS[i]]; g.fillRect(lx + 10, y, 18, 13);
    g.strokeStyle = '#555'; g.strokeRect(lx + 10.5, y + 0.5, 17, 12);
    g.fillStyle = '#212121'; g.fillText(r, lx + 34, y);
  });

  // Scale bar (metres per CSS pixel at the centre latitude, 512 px tiles).
  const c = map.getCenter();
  const mpp = (40075016.686 * Math.cos((c.lat * Math.PI) / 180)) / (512 * 2 ** map.getZoom());
  const metres = niceLength(mpp * 150);
  const px = metres / mpp;
  const label = metres >= 1000 ? `${metres / 1000} km` : `${metres} m`;
  const sx = W - px - 30, sy = H - 40;
  panel(sx - 10, sy - 22, px + 30, 40);
  g.fillStyle = '#212121';
  g.fillRect(sx, sy, px / 2, 6);
  g.fillStyle = '#fff'; g.fillRect(sx + px / 2, sy, px / 2, 6);
  g.strokeStyle = '#212121'; g.strokeRect(sx + 0.5, sy + 0.5, px, 6);
  g.fillStyle = '#212121'; g.font = font(12); g.textBaseline = 'bottom';
  g.fillText('0', sx - 3, sy - 2); g.fillText(label, sx + px + 16 - g.measureText(label).width, sy - 2);

  // North arrow, rotated with the map.
  const nx = W - 40, ny = 60;
  panel(nx - 24, ny - 40, 48, 72);
  g.save();
  g.translate(nx, ny);
  g.rotate((-map.getBearing() * Math.PI) / 180);
  g.beginPath(); g.moveTo(0, -26); g.lineTo(10, 12); g.lineTo(0, 5); g.closePath(); g.fillStyle = '#212121'; g.fill();
  g.beginPath(); g.moveTo(0, -26); g.lineTo(-10, 12); g.lineTo(0, 5); g.closePath(); g.fillStyle = '#fff'; g.fill(); g.strokeStyle = '#212121'; g.stroke();
  g.restore();
  g.fillStyle = '#212121'; g.font = font(13, true); g.textBaseline = 'top'; g.textAlign = 'center';
  g.fillText(t('north'), nx, ny + 16);
  g.textAlign = 'start';
  return out.toDataURL('image/png');
}

async function exportPng() {
  await new Promise((resolve) => { if (map.loaded() && !map.isMoving()) resolve(); else map.once('idle', resolve); });
  const url = renderExport();
  const a = document.createElement('a');
  a.href = url;
  a.download = `riskmap-${new Date().toISOString().slice(0, 10)}.png`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  return url;
}
$('#export-png').addEventListener('click', () => { exportPng().catch((e) => console.error('export', e)); });

// -------------------------------------------------------------- language
function setLang(lang) {
  state.lang = lang === 'en' ? 'en' : 'zh';
  try { localStorage.setItem('riskmap.lang', state.lang); } catch { /* private mode */ }
  document.documentElement.lang = state.lang === 'en' ? 'en' : 'zh-CN';
  document.title = `riskmap ${t('title')}`;
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  document.querySelectorAll('#lang button').forEach((b) => b.classList.toggle('active', b.dataset.lang === state.lang));
  renderLegend();
  renderSafetyLegend($('#safety-legend-list'), t);
  dangers.renderLegend($('#danger-legend-list'));
  dangers.renderStats();
  changes.render();
  auth.render();
  if (map.isStyleLoaded()) { renderLayerToggles(); renderLevelFilter(); }
  renderStats();
  siting.renderForm();
  siting.renderLabels();
  command.render();
  renderPanel();
}
document.querySelectorAll('#lang button').forEach((b) => b.addEventListener('click', () => setLang(b.dataset.lang)));
setLang(state.lang);
auth.init();

// ----------------------------------------------------------------- utils
function debounce(fn, ms) {
  let h;
  return (...args) => { clearTimeout(h); h = setTimeout(() => fn(...args), ms); };
}

/** Hooks for the browser tests and the console. */
window.__riskmap = { map, state, setLang, openFeature, openEnterprise, openSite, loadReport, exportPng, renderExport, COLOURS, siting, dangers, auth, reloadTiles, command };
