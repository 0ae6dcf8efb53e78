// The emergency-command view (应急指挥): a panel opened from the toolbar.
// Pick a site (search, or click an enterprise on the map) and a unit (the
// substances offered from its inventory), or click a point and type a
// substance; give the release (default: the unit's worst credible case) and
// the weather. Signed in as a commander (admin, regulator, inspector) the
// incident is reported (POST /api/incidents) and followed over Server-Sent
// Events (GET /api/incidents/{id}/events): every `zones` event redraws the
// map and the panel, and weather or release edits are sent with PATCH.
// Signed out, the zones are assessed and not stored (POST
// /api/incidents/assess). Open incidents are listed to reopen and close.
// The printable brief is incident-brief.js (`/?incident=<id>`).
import { errorText } from './auth.js';
import { esc, fill, pointInGeometry } from './util.js';
import {
  DRAFT_KEY, addIncidentLayers, basisHtml, drawIncident, ergHtml, helpHtml, incidentBounds, incidentLabels, isCommander,
  loadPlaces, notesHtml, windHint, zonesHtml,
} from './incident.js';

/** The request fields a PATCH may change (`PATCHABLE` in incidents.rs). */
const PATCHABLE = ['wind_from_deg', 'wind_speed_m_s', 'stability', 'time_of_day', 'cloud_cover_oktas', 'ambient_temperature_c', 'terrain', 'release'];
const CLASSES = ['A', 'B', 'C', 'D', 'E', 'F'];

/**
 * ctx: { map, state, t, getJson, auth, loadEnterprises }.
 * Returns the hooks main.js calls (onMapClick, onMouseMove, addOverlays, render).
 */
export function createCommand(ctx) {
  const { map, t } = ctx;
  const lang = () => ctx.state.lang;
  const hour = new Date().getHours();
  const s = {
    open: false,
    picking: null, // 'site' | 'point'
    form: {
      mode: 'site', siteId: '', siteQuery: '', unitId: '', substance: '', point: null,
      release: 'worst', massKg: '', rateKgS: '', durationS: '600',
      windFrom: '', windSpeed: '', stability: 'daynight', timeOfDay: hour >= 6 && hour < 18 ? 'day' : 'night', cloud: '4',
      temperature: '', terrain: 'urban',
    },
    site: null, // the enterprise feature
    answer: null,
    request: null, // the request the answer is for
    incident: null, // the stored record when following
    events: null, // EventSource
    sseEvents: 0, // `zones` events applied
    error: null, // { status, text }
    busy: false,
    incidents: null, // the open incidents
    incidentsError: null,
    places: null,
    markers: [],
    seq: 0,
  };
  ctx.state.command = s;

  // ------------------------------------------------------------ the panel
  const panel = document.createElement('aside');
  panel.id = 'command-panel';
  panel.hidden = true;
  panel.innerHTML = `<button type="button" id="command-close" aria-label="close">×</button><h3 id="command-title"></h3>
    <p class="hint" id="command-role"></p>
    <section id="command-incidents"></section>
    <form id="command-form" autocomplete="off"></form>
    <div id="command-status" aria-live="polite"></div>
    <div id="command-result"></div>`;
  document.querySelector('main').appendChild(panel);
  const button = document.createElement('button');
  button.type = 'button';
  button.id = 'command-open';
  document.querySelector('#topbar').insertBefore(button, document.querySelector('#auth'));
  button.addEventListener('click', () => setOpen(!s.open));
  panel.querySelector('#command-close').addEventListener('click', () => setOpen(false));
  const $ = (sel) => panel.querySelector(sel);
  $('#command-form').addEventListener('submit', (e) => { e.preventDefault(); if (!s.busy) run(); });

  const signedIn = () => Boolean(ctx.auth.state.token);
  const commander = () => signedIn() && isCommander(ctx.auth.state.me);
  const headers = (extra = {}) => ctx.auth.headers({ Accept: 'application/json', ...extra });

  function setOpen(open) {
    s.open = open;
    panel.hidden = !open;
    button.classList.toggle('active', open);
    if (!open) setPicking(null);
    if (open) {
      render();
      loadIncidents();
      ctx.loadEnterprises().catch(() => {});
      loadPlaces(ctx.getJson).then((p) => { s.places = p; if (s.answer) draw(); });
    }
    map.resize();
  }

  // ------------------------------------------------------------ the form
  function units() {
    return s.site?.properties?.units ?? [];
  }
  function unit() {
    return units().find((u) => String(u.id) === String(s.form.unitId)) ?? null;
  }
  function num(v) {
    if (v === '' || v === null || v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : v; // the server names a bad value
  }

  /** The request for the form (numbers left as typed when they are not numbers, so the server names the field). */
  function buildRequest() {
    const f = s.form;
    const req = { substance: f.substance.trim() };
    if (f.mode === 'site') {
      if (f.siteId) req.site_id = f.siteId;
      if (f.unitId) req.unit_id = f.unitId;
    } else if (f.point) {
      req.point = f.point;
    }
    if (f.release === 'instantaneous') req.release = { kind: 'instantaneous', mass_kg: num(f.massKg) ?? null };
    else if (f.release === 'continuous') req.release = { kind: 'continuous', rate_kg_s: num(f.rateKgS) ?? null, duration_s: num(f.durationS) ?? null };
    req.wind_from_deg = num(f.windFrom) ?? null;
    req.wind_speed_m_s = num(f.windSpeed) ?? null;
    if (CLASSES.includes(f.stability)) req.stability = f.stability;
    else if (f.stability === 'daynight') { req.time_of_day = f.timeOfDay; req.cloud_cover_oktas = num(f.cloud) ?? null; }
    const ta = num(f.temperature);
    if (ta !== undefined) req.ambient_temperature_c = ta;
    req.terrain = f.terrain;
    return req;
  }

  /** Fills the form from a stored request (reopening an incident). */
  function fillForm(req) {
    const f = s.form;
    f.mode = req.point ? 'point' : 'site';
    f.point = req.point ?? null;
    f.siteId = req.site_id ?? '';
    f.unitId = req.unit_id ?? '';
    f.substance = req.substance ?? '';
    const r = req.release;
    f.release = r?.kind ?? 'worst';
    if (r?.kind === 'instantaneous') f.massKg = String(r.mass_kg);
    if (r?.kind === 'continuous') { f.rateKgS = String(r.rate_kg_s); f.durationS = String(r.duration_s); }
    f.windFrom = String(req.wind_from_deg ?? '');
    f.windSpeed = String(req.wind_speed_m_s ?? '');
    if (req.stability) f.stability = req.stability;
    else if (req.time_of_day) { f.stability = 'daynight'; f.timeOfDay = req.time_of_day; f.cloud = String(req.cloud_cover_oktas ?? ''); } else f.stability = 'none';
    f.temperature = req.ambient_temperature_c === undefined || req.ambient_temperature_c === null ? '' : String(req.ambient_temperature_c);
    f.terrain = req.terrain ?? 'urban';
    s.site = null;
    if (f.siteId) {
      ctx.loadEnterprises().then((ents) => {
        s.site = ents.find((e) => String(e.id) === String(f.siteId)) ?? null;
        f.siteQuery = s.site?.properties?.name ?? f.siteId;
        renderForm();
      }).catch(() => {});
    }
  }

  function chooseSite(feature) {
    s.site = feature;
    const f = s.form;
    f.siteId = String(feature.id);
    f.siteQuery = feature.properties?.name ?? f.siteId;
    // The first unit holding something, and its largest substance.
    const withStock = units().filter((u) => (u.substances ?? []).length);
    const u = withStock[0] ?? units()[0];
    f.unitId = u ? String(u.id) : '';
    chooseUnitDefaults();
    renderForm();
  }

  function chooseUnitDefaults() {
    const subs = unit()?.substances ?? [];
    const f = s.form;
    if (!subs.some((x) => x.cas === f.substance || x.name === f.substance)) {
      const first = [...subs].sort((a, b) => (b.quantity_t ?? 0) - (a.quantity_t ?? 0))[0];
      f.substance = first ? (first.cas ?? first.name ?? '') : '';
    }
  }

  function renderForm() {
    const f = s.form;
    const following = Boolean(s.incident && s.incident.status === 'open');
    const lock = following ? ' disabled' : '';
    const parts = [];
    parts.push(`<fieldset id="cmd-where"${lock}><legend>${esc(t('cmdWhere'))}</legend>
      <div class="cmd-modes"><label><input type="radio" name="cmd-mode" value="site"${f.mode === 'site' ? ' checked' : ''}> ${esc(t('cmdModeSite'))}</label>
      <label><input type="radio" name="cmd-mode" value="point"${f.mode === 'point' ? ' checked' : ''}> ${esc(t('cmdModePoint'))}</label></div>`);
    if (f.mode === 'site') {
      const us = units();
      const subs = unit()?.substances ?? [];
      parts.push(`<div class="cmd-site-search"><input id="cmd-site-search" type="search" value="${esc(f.siteQuery)}" placeholder="${esc(t('cmdSiteSearch'))}" aria-label="${esc(t('cmdSite'))}">
        <ul id="cmd-site-results" hidden></ul></div>
        <button type="button" id="cmd-pick-site" class="${s.picking === 'site' ? 'active' : ''}">${esc(t('cmdPickSite'))}</button>
        <div id="cmd-site" data-site="${esc(f.siteId)}">${s.site ? `<strong>${esc(s.site.properties?.name ?? s.site.id)}</strong> <small><code>${esc(s.site.id)}</code></small>` : `<span class="hint">${esc(f.siteId || t('cmdNoSite'))}</span>`}</div>
        <label>${esc(t('cmdUnit'))} <select id="cmd-unit">${us.length ? '' : `<option value="">${esc(t('cmdChooseUnit'))}</option>`}${us.map((u) => `<option value="${esc(u.id)}"${String(u.id) === String(f.unitId) ? ' selected' : ''}>${esc(u.id)} ${esc(u.name ?? '')}</option>`).join('')}</select></label>
        <label>${esc(t('cmdSubstance'))} <select id="cmd-substance-select">${subs.length ? subs.map((x) => {
          const v = x.cas ?? x.name ?? '';
          return `<option value="${esc(v)}"${v === f.substance ? ' selected' : ''}>${esc(x.name ?? '')}${x.cas ? ` (${esc(x.cas)})` : ''} · ${esc(x.quantity_t)} t</option>`;
        }).join('') : `<option value="">${esc(t('cmdNoInventory'))}</option>`}</select></label>`);
    } else {
      parts.push(`<button type="button" id="cmd-pick-point" class="${s.picking === 'point' ? 'active' : ''}">${esc(t('cmdPickPoint'))}</button>
        <div id="cmd-point">${f.point ? `<code>${f.point[0].toFixed(5)}, ${f.point[1].toFixed(5)}</code>` : `<span class="hint">${esc(t('cmdNoPoint'))}</span>`}</div>
        <label>${esc(t('cmdSubstance'))} <input id="cmd-substance" value="${esc(f.substance)}" placeholder="${esc(t('cmdSubstanceHint'))}"></label>`);
    }
    parts.push('</fieldset>');
    const worstOk = f.mode === 'site';
    parts.push(`<fieldset id="cmd-release-set"><legend>${esc(t('cmdRelease'))}</legend>
      <select id="cmd-release">
        <option value="worst"${f.release === 'worst' ? ' selected' : ''}${worstOk ? '' : ' disabled'}>${esc(t('cmdReleaseWorst'))}</option>
        <option value="instantaneous"${f.release === 'instantaneous' ? ' selected' : ''}>${esc(t('cmdReleaseInstant'))}</option>
        <option value="continuous"${f.release === 'continuous' ? ' selected' : ''}>${esc(t('cmdReleaseContinuous'))}</option>
      </select>
      ${f.release === 'worst' ? `<p class="hint" id="cmd-worst-note">${esc(worstOk ? t('cmdWorstNote') : t('cmdWorstNeedsUnit'))}</p>` : ''}
      ${f.release === 'instantaneous' ? `<label class="inline">${esc(t('cmdMassKg'))} <input id="cmd-mass" data-field="massKg" value="${esc(f.massKg)}" inputmode="decimal"></label>` : ''}
      ${f.release === 'continuous' ? `<label class="inline">${esc(t('cmdRateKgS'))} <input id="cmd-rate" data-field="rateKgS" value="${esc(f.rateKgS)}" inputmode="decimal"></label>
        <label class="inline">${esc(t('cmdDurationS'))} <input id="cmd-duration" data-field="durationS" value="${esc(f.durationS)}" inputmode="decimal"></label>` : ''}
    </fieldset>`);
    parts.push(`<fieldset id="cmd-weather"><legend>${esc(t('cmdWeather'))}</legend>
      <label class="inline">${esc(t('cmdWindFrom'))} <input id="cmd-wind-from" data-field="windFrom" value="${esc(f.windFrom)}" inputmode="decimal" placeholder="0–360"></label>
      <p class="hint" id="cmd-wind-hint">${esc(windHint(f.windFrom === '' ? NaN : f.windFrom, t, lang()))}</p>
      <label class="inline">${esc(t('cmdWindSpeed'))} <input id="cmd-wind-speed" data-field="windSpeed" value="${esc(f.windSpeed)}" inputmode="decimal"></label>
      <label class="inline">${esc(t('cmdStability'))} <select id="cmd-stability">
        <option value="daynight"${f.stability === 'daynight' ? ' selected' : ''}>${esc(t('cmdStabilityDayNight'))}</option>
        ${CLASSES.map((c) => `<option value="${c}"${f.stability === c ? ' selected' : ''}>${c}</option>`).join('')}
        <option value="none"${f.stability === 'none' ? ' selected' : ''}>${esc(t('cmdStabilityNone'))}</option>
      </select></label>
      ${f.stability === 'daynight' ? `<div class="cmd-daynight"><label><input type="radio" name="cmd-tod" value="day"${f.timeOfDay === 'day' ? ' checked' : ''}> ${esc(t('cmdDay'))}</label>
        <label><input type="radio" name="cmd-tod" value="night"${f.timeOfDay === 'night' ? ' checked' : ''}> ${esc(t('cmdNight'))}</label>
        <label class="inline">${esc(t('cmdCloud'))} <input id="cmd-cloud" data-field="cloud" value="${esc(f.cloud)}" inputmode="numeric"></label></div>` : ''}
      <label class="inline">${esc(t('cmdTemperature'))} <input id="cmd-temperature" data-field="temperature" value="${esc(f.temperature)}" inputmode="decimal"></label>
      <label class="inline">${esc(t('cmdTerrain'))} <select id="cmd-terrain"><option value="urban"${f.terrain === 'urban' ? ' selected' : ''}>${esc(t('cmdUrban'))}</option><option value="rural"${f.terrain === 'rural' ? ' selected' : ''}>${esc(t('cmdRural'))}</option></select></label>
    </fieldset>`);
    const runLabel = following ? t('cmdUpdate') : (commander() ? t('cmdRunStore') : t('cmdRunAssess'));
    parts.push(`<div class="cmd-actions"><button type="submit" id="cmd-run" data-action="${following ? 'patch' : (commander() ? 'create' : 'assess')}"${s.busy ? ' disabled' : ''}>${esc(runLabel)}</button>
      ${following || s.answer ? `<button type="button" id="cmd-new">${esc(t('cmdNewIncident'))}</button>` : ''}</div>`);
    const form = $('#command-form');
    form.innerHTML = parts.join('');
    wireForm(form);
  }

  function wireForm(form) {
    const f = s.form;
    form.querySelectorAll('input[name="cmd-mode"]').forEach((el) => el.addEventListener('change', () => {
      f.mode = el.value;
      if (f.mode === 'point' && f.release === 'worst') f.release = 'continuous';
      setPicking(null);
      renderForm();
    }));
    form.querySelectorAll('[data-field]').forEach((el) => el.addEventListener('input', () => {
      f[el.dataset.field] = el.value;
      if (el.dataset.field === 'windFrom') form.querySelector('#cmd-wind-hint').textContent = windHint(el.value === '' ? NaN : el.value, t, lang());
    }));
    form.querySelector('#cmd-substance')?.addEventListener('input', (e) => { f.substance = e.target.value; });
    form.querySelector('#cmd-substance-select')?.addEventListener('change', (e) => { f.substance = e.target.value; });
    form.querySelector('#cmd-unit')?.addEventListener('change', (e) => { f.unitId = e.target.value; chooseUnitDefaults(); renderForm(); });
    form.querySelector('#cmd-release').addEventListener('change', (e) => { f.release = e.target.value; renderForm(); });
    form.querySelector('#cmd-stability').addEventListener('change', (e) => { f.stability = e.target.value; renderForm(); });
    form.querySelector('#cmd-terrain').addEventListener('change', (e) => { f.terrain = e.target.value; });
    form.querySelectorAll('input[name="cmd-tod"]').forEach((el) => el.addEventListener('change', () => { f.timeOfDay = el.value; }));
    form.querySelector('#cmd-pick-site')?.addEventListener('click', () => setPicking(s.picking === 'site' ? null : 'site'));
    form.querySelector('#cmd-pick-point')?.addEventListener('click', () => setPicking(s.picking === 'point' ? null : 'point'));
    form.querySelector('#cmd-new')?.addEventListener('click', () => { stopFollowing(); s.answer = null; s.request = null; s.incident = null; s.error = null; draw(); render(); });
    const search = form.querySelector('#cmd-site-search');
    const results = form.querySelector('#cmd-site-results');
    if (search) {
      search.addEventListener('input', async () => {
        f.siteQuery = search.value;
        const q = search.value.trim().toLowerCase();
        if (!q) { results.hidden = true; return; }
        const ents = await ctx.loadEnterprises().catch(() => []);
        const hits = ents.filter((e) => [e.properties?.name, e.properties?.credit_code, e.id].some((v) => v && String(v).toLowerCase().includes(q))).slice(0, 12);
        results.innerHTML = hits.length ? hits.map((e) => `<li data-id="${esc(e.id)}">${esc(e.properties?.name ?? e.id)} <small>${esc(e.id)}</small></li>`).join('') : `<li class="hint">${esc(t('noResults'))}</li>`;
        results.hidden = false;
        results.querySelectorAll('li[data-id]').forEach((li) => li.addEventListener('click', () => {
          const e = ents.find((x) => String(x.id) === li.dataset.id);
          results.hidden = true;
          if (e) chooseSite(e);
        }));
      });
      search.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') { e.preventDefault(); results.querySelector('li[data-id]')?.click(); }
      });
    }
  }

  // ------------------------------------------------------------ picking
  function setPicking(mode) {
    s.picking = mode;
    map.getCanvas().style.cursor = mode ? 'crosshair' : '';
    if (s.open) { renderForm(); renderStatus(); }
  }

  /** Map click: true when the command view took it. */
  function onMapClick(e) {
    if (!s.picking) return false;
    const c = [e.lngLat.lng, e.lngLat.lat];
    if (s.picking === 'point') {
      s.form.point = c;
      setPicking(null);
      return true;
    }
    const pad = 4;
    const box = [[e.point.x - pad, e.point.y - pad], [e.point.x + pad, e.point.y + pad]];
    const layers = (map.getStyle()?.layers ?? []).filter((l) => l.source === 'enterprises').map((l) => l.id);
    const hit = layers.length ? map.queryRenderedFeatures(box, { layers }).find((h) => !h.properties?.aggregated) : null;
    ctx.loadEnterprises().then((ents) => {
      const id = hit?.properties?.id ?? hit?.id;
      const site = ents.find((x) => id !== undefined && String(x.id) === String(id)) ?? ents.find((x) => pointInGeometry(c, x.geometry));
      if (site) { setPicking(null); chooseSite(site); }
    }).catch(() => {});
    return true;
  }

  function onMouseMove() {
    if (!s.picking) return false;
    map.getCanvas().style.cursor = 'crosshair';
    return true;
  }

  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && s.picking) setPicking(null); });

  // ------------------------------------------------------------ requests
  async function send(path, { method = 'POST', body } = {}) {
    const res = await fetch(path, {
      method,
      headers: headers(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status, text: await errorText(res) });
    return res.json();
  }

  async function run() {
    const following = s.incident && s.incident.status === 'open';
    const req = buildRequest();
    const seq = ++s.seq;
    s.busy = true; s.error = null;
    renderStatus(); renderForm();
    try {
      if (following) {
        const before = s.incident.request ?? {};
        const change = {};
        for (const k of PATCHABLE) {
          const now = req[k] ?? null;
          if (JSON.stringify(now) !== JSON.stringify(before[k] ?? null)) change[k] = now;
        }
        const out = await send(`/api/incidents/${encodeURIComponent(s.incident.id)}`, { method: 'PATCH', body: change });
        // The stream brings the new zones; without one, the answer does.
        if (!s.events || s.events.readyState !== EventSource.OPEN) apply(out);
      } else if (commander()) {
        const out = await send('/api/incidents', { body: req });
        if (seq !== s.seq) return;
        s.request = req;
        apply(out);
        fitTo(out);
        follow(out.incident.id);
        loadIncidents();
      } else {
        const out = await send('/api/incidents/assess', { body: req });
        if (seq !== s.seq) return;
        s.request = req;
        apply(out);
        fitTo(out);
      }
    } catch (err) {
      if (seq === s.seq) s.error = { status: err.status ?? 0, text: err.text ?? String(err) };
    }
    if (seq !== s.seq) return;
    s.busy = false;
    render();
  }

  /** Takes an answer (from a POST, a GET or a `zones` event): panel and map. */
  function apply(answer) {
    s.answer = answer;
    if (answer.incident) { s.incident = answer.incident; s.request = answer.incident.request; }
    draw();
    renderResult();
    renderStatus();
  }

  function follow(id) {
    stopFollowing();
    const es = new EventSource(`/api/incidents/${encodeURIComponent(id)}/events`);
    s.events = es;
    es.addEventListener('zones', (e) => {
      if (s.events !== es) return;
      try {
        const a = JSON.parse(e.data);
        s.sseEvents += 1;
        const changed = !s.incident || a.incident?.revision !== s.incident.revision;
        apply(a);
        if (changed) { fillForm(a.incident?.request ?? {}); renderForm(); }
      } catch (err) { console.warn('incident event', err); }
    });
    es.addEventListener('closed', (e) => {
      if (s.events !== es) return;
      try { s.incident = JSON.parse(e.data).incident ?? s.incident; } catch { /* keep */ }
      stopFollowing();
      loadIncidents();
      render();
    });
    es.addEventListener('lagged', () => { if (s.events === es) reopen(id, { keepStream: true }); });
  }

  function stopFollowing() {
    s.events?.close();
    s.events = null;
  }

  /** Reopens a stored incident: its zones now, then its stream. */
  async function reopen(id, { keepStream = false } = {}) {
    const seq = ++s.seq;
    s.error = null; s.busy = true;
    renderStatus();
    try {
      const out = await ctx.getJson(`/api/incidents/${encodeURIComponent(id)}`);
      if (seq !== s.seq) return;
      fillForm(out.incident?.request ?? {});
      apply(out);
      fitTo(out);
      if (!keepStream && out.incident?.status === 'open') follow(id);
    } catch (err) {
      if (seq === s.seq) s.error = { status: err.status ?? 0, text: String(err.message ?? err) };
    }
    s.busy = false;
    render();
  }

  async function closeIncident(id) {
    s.error = null;
    try {
      const out = await send(`/api/incidents/${encodeURIComponent(id)}/close`);
      if (s.incident?.id === id) { s.incident = out.incident; stopFollowing(); }
    } catch (err) {
      s.error = { status: err.status ?? 0, text: err.text ?? String(err) };
    }
    await loadIncidents();
    render();
  }

  async function loadIncidents() {
    try {
      const out = await ctx.getJson('/api/incidents?status=open');
      s.incidents = out.incidents ?? [];
      s.incidentsError = null;
    } catch (err) {
      s.incidents = null;
      s.incidentsError = String(err.message ?? err);
    }
    renderIncidents();
  }

  // ------------------------------------------------------------ drawing
  function draw() {
    s.markers.forEach((m) => m.remove());
    s.markers = [];
    if (!map.getSource('cmd-zones')) return;
    const items = drawIncident(map, s.answer, s.places);
    if (s.answer) s.markers = incidentLabels(map, s.answer, items, t, lang(), s.request);
  }

  function fitTo(a) {
    const b = incidentBounds(a);
    if (b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 60, maxZoom: 15, duration: 0 });
  }

  // ------------------------------------------------------------ rendering
  function renderIncidents() {
    const box = $('#command-incidents');
    if (!box) return;
    const list = s.incidents ?? [];
    const mine = commander();
    box.innerHTML = `<h4>${esc(t('cmdIncidents'))}</h4>${s.incidentsError ? `<p class="error-box">${esc(s.incidentsError)}</p>` : ''}${
      list.length ? `<ul id="cmd-incident-list">${list.map((i) => {
        const r = i.request ?? {};
        const where = r.site_id ? `${r.site_id}${r.unit_id ? ' / ' + r.unit_id : ''}` : (r.point ? r.point.map((v) => Number(v).toFixed(4)).join(', ') : '');
        return `<li data-id="${esc(i.id)}"${s.incident?.id === i.id ? ' class="current"' : ''}><code>${esc(i.id)}</code> ${esc(r.substance ?? '')} · ${esc(where)}<br><small>${esc(i.created_by)} · ${esc(i.created_at)} · ${esc(fill(t('cmdRevision'), { n: i.revision }))}</small>
          <span class="cmd-incident-buttons"><button type="button" data-open="${esc(i.id)}">${esc(t('cmdOpenIncident'))}</button>${mine ? `<button type="button" data-close="${esc(i.id)}">${esc(t('cmdCloseIncident'))}</button>` : ''}</span></li>`;
      }).join('')}</ul>` : `<p class="hint">${esc(s.incidents ? t('cmdNoIncidents') : t('loading'))}</p>`}`;
    box.querySelectorAll('[data-open]').forEach((b) => b.addEventListener('click', () => reopen(b.dataset.open)));
    box.querySelectorAll('[data-close]').forEach((b) => b.addEventListener('click', () => closeIncident(b.dataset.close)));
  }

  function renderStatus() {
    const el = $('#command-status');
    if (!el) return;
    let html = '';
    if (s.picking) html = `<p class="hint">${esc(s.picking === 'site' ? t('cmdPickSiteHint') : t('cmdPickPointHint'))}</p>`;
    else if (s.busy) html = `<p class="hint">${esc(t('cmdRunning'))}</p>`;
    if (s.error) html += `<div class="error-box" id="cmd-error" data-status="${esc(s.error.status)}"><p><strong>${esc(t('cmdError'))}</strong>${s.error.status ? ` (HTTP ${esc(s.error.status)})` : ''}</p><p class="cmd-error-text">${esc(s.error.text)}</p></div>`;
    el.innerHTML = html;
  }

  function renderResult() {
    const el = $('#command-result');
    if (!el) return;
    const a = s.answer;
    if (!a) { el.innerHTML = ''; el.removeAttribute('data-state'); return; }
    const inc = s.incident;
    const parts = [];
    if (inc) {
      parts.push(`<p id="cmd-incident" data-id="${esc(inc.id)}" data-status="${esc(inc.status)}" data-revision="${esc(inc.revision)}">${esc(inc.status === 'open' ? t('cmdFollowing') : t('cmdClosed'))}: <code>${esc(inc.id)}</code> · ${esc(t('incStatus_' + inc.status))} · ${esc(fill(t('cmdRevision'), { n: inc.revision }))}</p>`);
    }
    const brief = inc ? `/?incident=${encodeURIComponent(inc.id)}` : '/?incident=draft';
    parts.push(`<div class="cmd-result-actions"><a id="cmd-brief-link" href="${esc(brief)}" target="_blank" rel="opener">${esc(t('cmdPrintBrief'))}</a>${
      inc && inc.status === 'open' && commander() ? ` <button type="button" id="cmd-close-incident">${esc(t('cmdCloseIncident'))}</button>` : ''}</div>`);
    parts.push(basisHtml(a, t, lang()));
    parts.push(`<h4>${esc(t('cmdZones'))}</h4><div id="cmd-zones">${zonesHtml(a, t)}</div>`);
    parts.push(`<h4>${esc(t('cmdHelp'))}</h4><div id="cmd-help">${helpHtml(a, t)}</div>`);
    if (a.erg) parts.push(`<h4>${esc(t('cmdErg'))}</h4>${ergHtml(a, t)}`);
    parts.push(`<h4>${esc(t('cmdNotes'))}</h4>${notesHtml(a, t)}`);
    el.innerHTML = parts.join('');
    el.dataset.state = 'answer';
    el.dataset.events = String(s.sseEvents);
    el.querySelector('#cmd-close-incident')?.addEventListener('click', () => closeIncident(inc.id));
    // The brief of an assessment that is not stored: its request goes along in this tab's storage
    // (a tab opened with `opener` starts with a copy of it).
    if (!inc) { try { sessionStorage.setItem(DRAFT_KEY, JSON.stringify(s.request ?? buildRequest())); } catch { /* private mode */ } }
  }

  function render() {
    button.textContent = t('command');
    if (!s.open) return;
    $('#command-title').textContent = t('commandTitle');
    $('#command-role').textContent = commander() ? '' : t('cmdCommanderOnly');
    renderIncidents();
    renderForm();
    renderStatus();
    renderResult();
    draw();
  }

  function addOverlays() {
    addIncidentLayers(map);
    draw();
  }

  button.textContent = t('command');
  return {
    state: s, addOverlays, onMapClick, onMouseMove, render, setOpen, reopen, closeIncident, loadIncidents, chooseSite, buildRequest,
    /** Re-renders after a sign-in or sign-out (the run button depends on the role). */
    authChanged: () => { if (s.open) { render(); } },
  };
}
