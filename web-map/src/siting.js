// The siting tool (规划选址): choose a proposed use, click a point or draw an
// outline, ask POST /api/siting/check, list the conflicts (or the clear
// answer with what was checked), and draw the zones concerned with a line
// from the proposal to each conflicting site or target.
import * as maplibregl from 'maplibre-gl';
import { esc, extendBounds, fill, fmtM, nearestPair, representativePoint, sci } from './util.js';
import { VIOLATION_COLOUR, reportHtml, zoneLayers } from './safety.js';

/** Protection-target uses, as the API names them (`TargetCategory::NAMES`). */
export const TARGET_USES = ['school', 'kindergarten', 'hospital', 'nursing_home', 'residential', 'office', 'mall', 'hotel', 'stadium', 'transport_hub', 'cultural_relic', 'religious', 'other'];
export const SITE_USE = 'hazardous_site';
const SIZE_FIELDS = ['population', 'households', 'beds'];

const EMPTY = { type: 'FeatureCollection', features: [] };

/**
 * ctx: { map, state, t, getJson, loadZones, loadEnterprises, showPanel(view), openSite(id) }.
 * Returns the hooks main.js calls.
 */
export function createSiting(ctx) {
  const { map, t } = ctx;
  const $ = (sel) => document.querySelector(sel);
  const s = {
    mode: null, // 'point' | 'polygon' while picking
    draft: [],
    cursor: null,
    geometry: null,
    result: null,
    error: null,
    loading: false,
    seq: 0,
    links: [],
    markers: [],
    form: {
      use: 'school', name: '', population: '', households: '', beds: '', installation: 'new',
      rows: [{ unit: 'T1', kind: 'storage', name: '液氨', cas: '7664-41-7', t: '20' }],
    },
  };
  ctx.state.siting = s;

  // ------------------------------------------------------------ the form
  function renderForm() {
    const f = s.form;
    const isSite = f.use === SITE_USE;
    const opts = TARGET_USES.map((u) => `<option value="${u}"${f.use === u ? ' selected' : ''}>${esc(t('use_' + u))}</option>`).join('');
    const sizes = SIZE_FIELDS.map((k) => `<label class="inline">${esc(t(k))} <input type="number" min="0" step="1" id="siting-${k}" data-field="${k}" value="${esc(f[k])}" placeholder="${esc(t('optional'))}"></label>`).join('');
    const rows = f.rows.map((r, i) => `
      <div class="inv-row" data-row="${i}">
        <input data-row="${i}" data-col="unit" value="${esc(r.unit)}" aria-label="${esc(t('unitId'))}" title="${esc(t('unitId'))}" class="inv-unit">
        <select data-row="${i}" data-col="kind" aria-label="${esc(t('unitKind'))}">
          <option value="storage"${r.kind === 'storage' ? ' selected' : ''}>${esc(t('storage'))}</option>
          <option value="production"${r.kind === 'production' ? ' selected' : ''}>${esc(t('production'))}</option>
        </select>
        <input data-row="${i}" data-col="t" type="number" min="0" step="any" value="${esc(r.t)}" aria-label="${esc(t('tonnes'))}" placeholder="t" class="inv-t">
        <button type="button" data-remove="${i}" title="${esc(t('removeRow'))}" aria-label="${esc(t('removeRow'))}">×</button>
        <input data-row="${i}" data-col="name" value="${esc(r.name)}" aria-label="${esc(t('substanceName'))}" placeholder="${esc(t('substanceName'))}（${esc(t('substancePlaceholder'))}）" class="inv-name">
        <input data-row="${i}" data-col="cas" value="${esc(r.cas)}" aria-label="${esc(t('cas'))}" placeholder="${esc(t('cas'))}" class="inv-cas">
      </div>`).join('');
    $('#siting-form').innerHTML = `
      <label>${esc(t('sitingUse'))}
        <select id="siting-use">
          <optgroup label="${esc(t('useGroupTarget'))}">${opts}</optgroup>
          <optgroup label="${esc(t('useGroupSite'))}"><option value="${SITE_USE}"${isSite ? ' selected' : ''}>${esc(t('use_' + SITE_USE))}</option></optgroup>
        </select>
      </label>
      <label>${esc(t('sitingName'))} <input id="siting-name" data-field="name" value="${esc(f.name)}"></label>
      <div id="siting-target-fields"${isSite ? ' hidden' : ''}>${sizes}</div>
      <div id="siting-site-fields"${isSite ? '' : ' hidden'}>
        <label class="inline">${esc(t('installation'))}
          <select id="siting-installation" data-field="installation">
            <option value="new"${f.installation === 'new' ? ' selected' : ''}>${esc(t('install_new'))}</option>
            <option value="existing"${f.installation === 'existing' ? ' selected' : ''}>${esc(t('install_existing'))}</option>
          </select>
        </label>
        <div class="inv-head">${esc(t('inventory'))} <small>(${esc(t('unitId'))} · ${esc(t('unitKind'))} · ${esc(t('tonnes'))} · ${esc(t('substanceName'))} · ${esc(t('cas'))})</small></div>
        <div id="siting-inventory">${rows}</div>
        <button type="button" id="siting-add-row">${esc(t('addRow'))}</button>
      </div>`;
    const form = $('#siting-form');
    form.querySelector('#siting-use').addEventListener('change', (e) => { f.use = e.target.value; renderForm(); });
    form.querySelectorAll('[data-field]').forEach((el) => el.addEventListener('input', () => { f[el.dataset.field] = el.value; }));
    form.querySelectorAll('[data-col]').forEach((el) => {
      const h = () => { f.rows[Number(el.dataset.row)][el.dataset.col] = el.value; };
      el.addEventListener('input', h);
      el.addEventListener('change', h);
    });
    form.querySelectorAll('[data-remove]').forEach((el) => el.addEventListener('click', () => {
      f.rows.splice(Number(el.dataset.remove), 1);
      if (!f.rows.length) f.rows.push({ unit: 'T1', kind: 'storage', name: '', cas: '', t: '' });
      renderForm();
    }));
    form.querySelector('#siting-add-row')?.addEventListener('click', () => {
      const last = f.rows[f.rows.length - 1];
      f.rows.push({ unit: last?.unit ?? 'T1', kind: last?.kind ?? 'storage', name: '', cas: '', t: '' });
      renderForm();
    });
    form.addEventListener('submit', (e) => e.preventDefault());
    renderStatus();
  }

  function num(v) {
    if (v === '' || v === null || v === undefined) return null;
    const n = Number(v);
    return Number.isFinite(n) ? n : v; // let the server name a bad value
  }

  /** The request body for the current form and geometry. */
  function buildBody(geometry) {
    const f = s.form;
    const body = { use: f.use, geometry };
    if (f.name.trim()) body.name = f.name.trim();
    if (f.use === SITE_USE) {
      body.installation = f.installation;
      const units = new Map();
      for (const r of f.rows) {
        const id = r.unit.trim() || 'T1';
        if (!units.has(id)) units.set(id, { id, kind: r.kind, substances: [] });
        const sub = { quantity_t: num(r.t) };
        if (r.name.trim()) sub.name = r.name.trim();
        if (r.cas.trim()) sub.cas = r.cas.trim();
        units.get(id).substances.push(sub);
      }
      body.units = [...units.values()];
    } else {
      for (const k of SIZE_FIELDS) if (String(f[k]).trim() !== '') body[k] = num(f[k]);
    }
    return body;
  }

  // --------------------------------------------------------- map overlays
  function addOverlays() {
    const add = (id) => { if (!map.getSource(id)) map.addSource(id, { type: 'geojson', data: EMPTY }); };
    ['report-zones', 'siting-zones', 'siting-links', 'siting-targets', 'siting-proposal'].forEach(add);
    const width = ['case', ['==', ['get', 'conflict'], true], 4, ['==', ['get', 'governing'], true], 2.6, 1.4];
    for (const l of [
      ...zoneLayers('report-zones', 'report-zones', { width: ['case', ['==', ['get', 'governing'], true], 3.2, 1.8] }),
      ...zoneLayers('siting-zones', 'siting-zones', { width }),
      { id: 'siting-links-line', type: 'line', source: 'siting-links', layout: { 'line-cap': 'round' }, paint: { 'line-color': '#212121', 'line-width': 2, 'line-dasharray': [2, 1.5] } },
      { id: 'siting-targets-circle', type: 'circle', source: 'siting-targets', paint: { 'circle-color': VIOLATION_COLOUR, 'circle-radius': 7, 'circle-stroke-color': '#FFFFFF', 'circle-stroke-width': 2 } },
      { id: 'siting-proposal-fill', type: 'fill', source: 'siting-proposal', filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': '#212121', 'fill-opacity': 0.12 } },
      { id: 'siting-proposal-line', type: 'line', source: 'siting-proposal', filter: ['!=', ['geometry-type'], 'Point'], paint: { 'line-color': '#212121', 'line-width': 2.5 } },
      { id: 'siting-proposal-point', type: 'circle', source: 'siting-proposal', filter: ['==', ['geometry-type'], 'Point'],
        paint: { 'circle-color': '#FFFFFF', 'circle-radius': ['case', ['==', ['get', 'draft'], true], 4, 8], 'circle-stroke-color': '#212121', 'circle-stroke-width': 3 } },
    ]) if (!map.getLayer(l.id)) map.addLayer(l);
  }

  function setData(id, fc) {
    map.getSource(id)?.setData(fc ?? EMPTY);
  }

  function drawProposal() {
    const feats = [];
    if (s.geometry) feats.push({ type: 'Feature', geometry: s.geometry, properties: {} });
    if (s.mode === 'polygon' && s.draft.length) {
      const ring = s.cursor ? [...s.draft, s.cursor] : s.draft;
      if (ring.length > 1) feats.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: [...ring, ring[0]] }, properties: { draft: true } });
      s.draft.forEach((c) => feats.push({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: { draft: true } }));
    }
    setData('siting-proposal', { type: 'FeatureCollection', features: feats });
  }

  function clearResultOverlays() {
    ['siting-zones', 'siting-links', 'siting-targets'].forEach((id) => setData(id, EMPTY));
    s.links = [];
    renderLabels();
  }

  function renderLabels() {
    s.markers.forEach((m) => m.remove());
    s.markers = s.links.map((l) => {
      const el = document.createElement('div');
      el.className = `siting-label${l.margin < 0 ? ' inside' : ''}`;
      el.dataset.site = l.siteId ?? '';
      el.dataset.target = l.targetId ?? '';
      el.textContent = fill(t('linkLabel'), { d: fmtM(l.distance), m: fmtM(l.margin, { signed: true }) });
      // At the site or target end, beside it: the proposal and the line stay visible.
      return new maplibregl.Marker({ element: el, anchor: 'top-left', offset: [8, 6] }).setLngLat(l.to).addTo(map);
    });
  }

  /** Draws the zones concerned and a line to each conflicting site or target. */
  async function drawResult(r) {
    const conflictZones = new Set((r.conflicts ?? []).map((c) => c.zone_id));
    const mark = (f) => ({ ...f, properties: { ...f.properties, id: f.id, conflict: conflictZones.has(f.id) } });
    let zones = [];
    const links = [];
    if (r.kind === 'hazardous_site') {
      zones = (r.zones_geojson?.features ?? []).map(mark);
      const pts = new Map((r.conflicts_geojson?.features ?? []).map((f) => [f.id, f.geometry]));
      const seen = new Set();
      for (const c of r.conflicts ?? []) {
        if (seen.has(c.target_id)) continue; // sorted by margin: the first is the worst
        seen.add(c.target_id);
        const g = pts.get(c.id);
        const pair = g && nearestPair(s.geometry, g);
        if (pair) links.push({ from: pair[0], to: pair[1], distance: c.distance_m, margin: c.margin_m, targetId: c.target_id });
      }
      setData('siting-targets', r.conflicts_geojson);
    } else if (r.conflicts?.length) {
      const siteIds = [...new Set(r.conflicts.map((c) => c.site_id))];
      const [all, ents] = await Promise.all([
        ctx.loadZones().catch(() => EMPTY),
        ctx.loadEnterprises().catch(() => []),
      ]);
      zones = all.features.filter((f) => siteIds.includes(f.properties?.site_id)).map(mark);
      for (const id of siteIds) {
        const c = r.conflicts.find((x) => x.site_id === id);
        const site = ents.find((e) => String(e.id) === id);
        const pair = site?.geometry && nearestPair(s.geometry, site.geometry);
        if (pair) links.push({ from: pair[0], to: pair[1], distance: c.distance_m, margin: c.margin_m, siteId: id });
      }
    }
    setData('siting-zones', { type: 'FeatureCollection', features: zones });
    setData('siting-links', { type: 'FeatureCollection', features: links.map((l) => ({ type: 'Feature', geometry: { type: 'LineString', coordinates: [l.from, l.to] }, properties: { distance_m: l.distance, margin_m: l.margin } })) });
    s.links = links;
    renderLabels();
    // Bring everything drawn into view.
    let b = extendBounds(null, s.geometry);
    zones.forEach((z) => { b = extendBounds(b, z.geometry); });
    links.forEach((l) => { b = extendBounds(b, { type: 'LineString', coordinates: [l.from, l.to] }); });
    if (b && (zones.length || links.length)) {
      const view = map.getBounds();
      const inView = view.contains([b[0], b[1]]) && view.contains([b[2], b[3]]);
      if (!inView) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 60, maxZoom: 16, duration: 600 });
    }
  }

  // ------------------------------------------------------------- the check
  async function runCheck() {
    if (!s.geometry) return;
    const seq = ++s.seq;
    s.loading = true;
    s.result = null;
    s.error = null;
    clearResultOverlays();
    ctx.showPanel('siting');
    renderStatus();
    let result = null;
    let error = null;
    try {
      const res = await fetch('/api/siting/check', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(buildBody(s.geometry)),
      });
      const body = await res.json().catch(() => null);
      if (res.ok && body) result = body;
      else error = { status: res.status, body };
    } catch (err) {
      error = { status: 0, body: { description: String(err) } };
    }
    if (seq !== s.seq) return;
    s.loading = false;
    s.result = result;
    s.error = error;
    if (result) {
      try { await drawResult(result); } catch (err) { console.warn('siting overlays', err); }
    }
    if (seq !== s.seq) return;
    ctx.showPanel('siting');
    renderStatus();
  }

  // -------------------------------------------------------- picking modes
  function setMode(mode) {
    s.mode = mode;
    s.draft = [];
    s.cursor = null;
    if (mode === 'polygon') map.doubleClickZoom.disable();
    else setTimeout(() => map.doubleClickZoom.enable(), 0); // after a finishing double-click
    map.getCanvas().style.cursor = mode ? 'crosshair' : '';
    $('#siting-point').classList.toggle('active', mode === 'point');
    $('#siting-polygon').classList.toggle('active', mode === 'polygon');
    $('#siting-finish').hidden = mode !== 'polygon';
    drawProposal();
    renderStatus();
  }

  function finishPolygon() {
    // A double-click adds its two clicks first: drop repeated vertices.
    const pts = [];
    for (const c of s.draft) {
      const last = pts[pts.length - 1];
      if (!last) { pts.push(c); continue; }
      const a = map.project(last);
      const b = map.project(c);
      if (Math.hypot(a.x - b.x, a.y - b.y) > 3) pts.push(c);
    }
    if (pts.length < 3) { s.draft = pts; renderStatus(t('polygonTooSmall')); return; }
    s.geometry = { type: 'Polygon', coordinates: [[...pts, pts[0]]] };
    setMode(null);
    runCheck();
  }

  /** Map click: true when the siting tool took it. */
  function onMapClick(e) {
    if (!s.mode) return false;
    const c = [e.lngLat.lng, e.lngLat.lat];
    if (s.mode === 'point') {
      s.geometry = { type: 'Point', coordinates: c };
      setMode(null);
      runCheck();
    } else {
      s.draft.push(c);
      drawProposal();
      renderStatus();
    }
    return true;
  }

  function onMouseMove(e) {
    if (!s.mode) return false;
    map.getCanvas().style.cursor = 'crosshair';
    if (s.mode === 'polygon' && s.draft.length) {
      s.cursor = [e.lngLat.lng, e.lngLat.lat];
      drawProposal();
    }
    return true;
  }

  map.on('dblclick', (e) => {
    if (s.mode !== 'polygon') return;
    e.preventDefault();
    finishPolygon();
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && s.mode) setMode(null);
  });

  $('#siting-point').addEventListener('click', () => setMode(s.mode === 'point' ? null : 'point'));
  $('#siting-polygon').addEventListener('click', () => setMode(s.mode === 'polygon' ? null : 'polygon'));
  $('#siting-finish').addEventListener('click', finishPolygon);
  $('#siting-run').addEventListener('click', () => runCheck());
  $('#siting-clear').addEventListener('click', () => {
    s.seq += 1;
    s.geometry = null; s.result = null; s.error = null; s.loading = false;
    setMode(null);
    clearResultOverlays();
    drawProposal();
    if (ctx.state.panelView === 'siting') ctx.showPanel(null);
    renderStatus();
  });

  // --------------------------------------------------------------- status
  function summary() {
    if (s.loading) return esc(t('checking'));
    if (s.error) return `<span class="bad">${esc(s.error.status === 400 ? t('errorTitle') : t('errorOther'))}</span>`;
    if (s.result) {
      const n = s.result.conflicts?.length ?? 0;
      return s.result.clear
        ? `<span class="ok">${esc(t('sitingSummaryClear'))}</span>`
        : `<span class="bad">${esc(fill(t('sitingSummaryConflict'), { n }))}</span>`;
    }
    return '';
  }

  function renderStatus(message) {
    const el = $('#siting-status');
    let html = '';
    if (message) html = esc(message);
    else if (s.mode === 'point') html = esc(t('pickHint'));
    else if (s.mode === 'polygon') html = esc(t('drawHint'));
    else {
      const sum = summary();
      if (sum) html = `${sum} <button type="button" class="linkish" id="siting-show">${esc(t('sitingResult'))} »</button>`;
    }
    el.innerHTML = html;
    el.querySelector('#siting-show')?.addEventListener('click', () => ctx.showPanel('siting'));
    $('#siting-run').disabled = !s.geometry || s.loading;
    $('#siting-clear').disabled = !s.geometry && !s.mode && !s.result && !s.error;
  }

  // ---------------------------------------------------------- result panel
  function errorHtml(err) {
    const b = err.body ?? {};
    const rows = (b.errors ?? []).map((e) => `<li data-field="${esc(e.field)}"><code>${esc(e.field)}</code>: ${esc(e.message)}</li>`).join('');
    return `<div class="error-box"><p><strong>${esc(err.status === 400 ? t('errorTitle') : t('errorOther'))}</strong>${err.status ? ` (HTTP ${err.status}${b.code ? `, ${esc(b.code)}` : ''})` : ''}</p>${b.description ? `<p>${esc(b.description)}</p>` : ''}${rows ? `<ul class="errors">${rows}</ul>` : ''}</div>`;
  }

  function conflictsHtml(r) {
    const isSite = r.kind === 'hazardous_site';
    const head = `<tr><th>${esc(isSite ? t('target') : t('site'))}</th><th>${esc(t('method'))}</th><th>${esc(t('distanceM'))}</th><th>${esc(t('requiredM'))}</th><th>${esc(t('irCriterion'))}</th><th>${esc(t('marginM'))}</th></tr>`;
    const rows = r.conflicts.map((c) => {
      const who = isSite
        ? `${esc(c.target_name ?? c.target_id)}<br><small>${esc(t('class_' + c.target_class))}</small>`
        : `<button type="button" class="linkish" data-open-site="${esc(c.site_id)}">${esc(c.site_name)}</button><br><small>${esc(c.site_id)}</small>`;
      const ir = c.criterion_per_year !== null && c.criterion_per_year !== undefined
        ? `${esc(sci(c.individual_risk_per_year))} / ${esc(sci(c.criterion_per_year))}`
        : '—';
      return `<tr class="conflict" data-site="${esc(c.site_id)}" data-target="${esc(c.target_id)}" data-method="${esc(c.method)}" data-zone="${esc(c.zone_id)}">`
        + `<td>${who}</td><td>${esc(t('method_' + c.method))}${c.governing ? ` <strong>${esc(t('governing'))}</strong>` : ''}${c.unconfirmed ? ` <em>(${esc(t('unconfirmedMark'))})</em>` : ''}</td>`
        + `<td class="num">${esc(fmtM(c.distance_m))}</td><td class="num">${esc(fmtM(c.required_distance_m))}</td><td class="num">${ir}</td><td class="num margin">${esc(fmtM(c.margin_m, { signed: true }))}</td></tr>`
        + `<tr class="clause-row"><td colspan="6">${esc(t('clause'))}: ${esc(c.clause)}</td></tr>`;
    }).join('');
    return `<table id="siting-conflicts"><thead>${head}</thead><tbody>${rows}</tbody></table>`;
  }

  function consideredHtml(r) {
    const list = r.considered ?? [];
    const title = r.kind === 'hazardous_site' ? t('consideredTargets') : t('considered');
    if (!list.length) {
      return `<h4>${esc(title)}</h4><p class="hint" id="siting-considered-none">${esc(r.kind === 'hazardous_site' ? t('none') : t('consideredNone'))}</p>`;
    }
    const items = list.slice(0, 40).map((c) => {
      const methods = (c.methods ?? []).map((m) => t('method_' + m)).join('、');
      return `<li data-id="${esc(c.id)}">${esc(c.name ?? c.id)} <small>${esc(c.id)}${methods ? ` · ${esc(methods)}` : ''} · ${esc(fmtM(c.distance_m))} m</small></li>`;
    }).join('');
    return `<h4>${esc(title)} (${list.length})</h4><ul id="siting-considered">${items}${list.length > 40 ? '<li>…</li>' : ''}</ul>`;
  }

  /** The right-hand panel when it shows the siting result. */
  function renderResult(el) {
    const parts = [`<h3>${esc(t('sitingResult'))}</h3>`];
    const use = s.form.use;
    const geomLabel = s.geometry?.type === 'Point'
      ? `${s.geometry.coordinates[0].toFixed(5)}, ${s.geometry.coordinates[1].toFixed(5)}`
      : (s.geometry ? fill(t('polygonVertices'), { n: s.geometry.coordinates[0].length - 1 }) : '');
    parts.push(`<div class="meta">${esc(t('use_' + (s.result?.kind === 'hazardous_site' ? SITE_USE : use)))} · <code>${esc(geomLabel)}</code></div>`);
    let state = 'empty';
    if (s.loading) {
      state = 'loading';
      parts.push(`<p class="hint">${esc(t('checking'))}</p>`);
    } else if (s.error) {
      state = 'error';
      parts.push(errorHtml(s.error));
    } else if (s.result) {
      const r = s.result;
      state = r.clear ? 'clear' : 'conflict';
      const n = r.conflicts?.length ?? 0;
      parts.push(r.clear
        ? `<p class="verdict ok">${esc(r.kind === 'hazardous_site' ? t('sitingClearSite') : t('sitingClear'))}</p>`
        : `<p class="verdict bad">${esc(fill(t('sitingConflict'), { n }))}</p>`);
      if (r.target_class) {
        parts.push(`<dl class="props"><dt>${esc(t('targetClass'))}</dt><dd id="siting-class" data-class="${esc(r.target_class)}">${esc(t('class_' + r.target_class))}</dd>${
          r.class_reasons?.length ? `<dt>${esc(t('classReasons'))}</dt><dd>${r.class_reasons.map(esc).join('<br>')}</dd>` : ''}</dl>`);
      }
      if (n) parts.push(`<h4>${esc(t('conflicts'))}</h4>${conflictsHtml(r)}`);
      parts.push(consideredHtml(r));
      if (r.assessment) parts.push(`<h4>${esc(t('proposedZones'))}</h4>${reportHtml(r.assessment, t, ctx.state.lang)}`);
      else if (r.notes?.length) parts.push(`<h4>${esc(t('notes'))}</h4><ul class="notes">${r.notes.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`);
    }
    el.innerHTML = `<div id="siting-result" data-state="${state}"${s.result ? ` data-clear="${s.result.clear ? 'true' : 'false'}" data-conflicts="${s.result.conflicts?.length ?? 0}"` : ''}>${parts.join('')}</div>`;
    el.querySelectorAll('[data-open-site]').forEach((b) => b.addEventListener('click', () => ctx.openSite(b.dataset.openSite)));
  }

  return {
    addOverlays,
    onMapClick,
    onMouseMove,
    renderForm,
    renderStatus,
    renderLabels,
    renderResult,
    runCheck,
    setMode,
    state: s,
  };
}
