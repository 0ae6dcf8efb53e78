// 应急指挥简报: the printable A4 brief of an incident at `/?incident=<id>`
// (GET /api/incidents/{id}), or of an assessment that is not stored at
// `/?incident=draft` (the request the command panel left in this tab's
// sessionStorage, sent to POST /api/incidents/assess). Rendered in place of
// the map by the same bundle: the map with the zones, routes and wind arrow
// (drawn by MapLibre, then kept as an image of its canvas with scale bar,
// north arrow and resource marks, so the print is what was drawn), its
// legend, the wind and times, people and targets per zone, the resources,
// the model and every assumption. `@media print` in style.css makes it A4.
import 'maplibre-gl/dist/maplibre-gl.css';
import './style.css';
import * as maplibregl from 'maplibre-gl';
import { STRINGS } from './i18n.js';
import { fmtTime } from './dangers.js';
import { esc, fill } from './util.js';
import {
  DRAFT_KEY, HELP_COLOURS, PREFIX, WIND_COLOUR, ZONE_COLOURS, ZONE_LINES, addIncidentLayers, basisHtml, drawIncident,
  ergHtml, fmtNum, fmtReach, hazardGroups, helpHtml, incidentBounds, isVulnerable, loadPlaces, notesHtml, windArrow, windName,
} from './incident.js';

function initialLang() {
  const q = new URLSearchParams(location.search).get('lang');
  if (q === 'en' || q === 'zh') return q;
  try { return localStorage.getItem('riskmap.lang') === 'en' ? 'en' : 'zh'; } catch { return 'zh'; }
}

function token() {
  try { return sessionStorage.getItem('riskmap.token'); } catch { return null; }
}

async function getJson(path, init = {}) {
  const headers = { Accept: 'application/json', ...(init.headers ?? {}) };
  const tk = token();
  if (tk) headers.Authorization = `Bearer ${tk}`;
  const res = await fetch(path, { ...init, headers });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw Object.assign(new Error(`HTTP ${res.status}: ${body.description ?? ''}`), { status: res.status, date: res.headers.get('Date') });
  }
  const date = res.headers.get('Date');
  return { body: await res.json(), date: date ? new Date(date) : new Date() };
}

/** Replaces the page with the brief of incident `id` (or `draft`). */
export async function renderBriefPage(id) {
  const page = { id, lang: initialLang(), data: undefined, request: null, error: null, mapImage: null, ready: false };
  window.__brief = page;
  document.body.className = 'brief-mode';
  document.body.innerHTML = '<div id="brief" aria-busy="true"></div>';
  const t = (k) => STRINGS[page.lang][k] ?? STRINGS.zh[k] ?? k;
  const render = () => {
    document.documentElement.lang = page.lang === 'en' ? 'en' : 'zh-CN';
    const el = document.getElementById('brief');
    el.innerHTML = briefHtml(page, t);
    el.setAttribute('aria-busy', page.ready || page.error ? 'false' : 'true');
    el.dataset.ready = page.ready ? 'true' : 'false';
    if (page.data?.incident) el.dataset.id = page.data.incident.id;
    document.title = `${t('briefTitle')} · ${page.data?.incident?.id ?? page.data?.substance ?? id}`;
    el.querySelector('#brief-print')?.addEventListener('click', () => window.print());
    el.querySelectorAll('#brief-lang button').forEach((b) => b.addEventListener('click', () => {
      page.lang = b.dataset.lang;
      try { localStorage.setItem('riskmap.lang', page.lang); } catch { /* private mode */ }
      render();
    }));
  };
  render();
  try {
    if (id === 'draft') {
      let req = null;
      try { req = JSON.parse(sessionStorage.getItem(DRAFT_KEY) ?? 'null'); } catch { req = null; }
      if (!req) throw new Error(t('briefMissing'));
      page.request = req;
      const out = await getJson('/api/incidents/assess', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(req) });
      page.data = out.body;
      page.generated = out.date;
    } else {
      const out = await getJson(`/api/incidents/${encodeURIComponent(id)}`);
      page.data = out.body;
      page.request = out.body.incident?.request ?? null;
      page.generated = out.date;
    }
  } catch (err) {
    page.error = String(err.message ?? err);
    render();
    return;
  }
  render();
  try {
    page.mapImage = await mapImage(page.data, page.request, t, page.lang);
  } catch (err) {
    console.error('brief map', err);
    page.mapError = String(err.message ?? err);
  }
  page.ready = true;
  render();
}

// ------------------------------------------------------------- the map
const MAP_W = 960;
const MAP_H = 600;

/** Draws the incident on an off-screen map and returns the composed image (PNG data URL). */
async function mapImage(a, request, t, lang) {
  const holder = document.createElement('div');
  holder.id = 'brief-map-render';
  holder.style.cssText = `position:absolute;left:-10000px;top:0;width:${MAP_W}px;height:${MAP_H}px;`;
  document.body.appendChild(holder);
  maplibregl.setWorkerUrl(new URL('/assets/maplibre-gl-worker.mjs', location.href).href);
  const map = new maplibregl.Map({
    container: holder,
    style: new URL('/style.json', location.href).href,
    canvasContextAttributes: { preserveDrawingBuffer: true, antialias: true },
    attributionControl: false,
    interactive: false,
    // Chinese labels from the server's own glyphs (/fonts), not the
    // browser's fonts: the same on every machine, and in exports.
    localIdeographFontFamily: false,
    pixelRatio: 2,
    fadeDuration: 0,
  });
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the map style did not load in 60 s')), 60_000);
      map.once('load', () => { clearTimeout(timer); resolve(); });
    });
    addIncidentLayers(map);
    const places = await loadPlaces(async (p) => (await getJson(p)).body);
    const items = drawIncident(map, a, places);
    const b = incidentBounds(a);
    if (b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: 50, maxZoom: 16, duration: 0 });
    // Drawn when idle; a tile that never comes does not hold the brief back for more than a minute.
    await new Promise((resolve) => { const timer = setTimeout(resolve, 60_000); map.once('idle', () => { clearTimeout(timer); resolve(); }); map.triggerRepaint(); });
    return compose(map, a, items, request, t, lang);
  } finally {
    map.remove();
    holder.remove();
  }
}

function niceLength(maxMetres) {
  const p = 10 ** Math.floor(Math.log10(maxMetres));
  for (const m of [5, 2, 1]) if (m * p <= maxMetres) return m * p;
  return p;
}

/** The map canvas with the marks MapLibre cannot draw without glyphs: resource marks, source, wind, scale bar, north arrow. */
function compose(map, a, items, request, t, lang) {
  const src = map.getCanvas();
  const W = src.clientWidth;
  const H = src.clientHeight;
  const dpr = src.width / W;
  const out = document.createElement('canvas');
  out.width = src.width; out.height = src.height;
  const g = out.getContext('2d');
  g.drawImage(src, 0, 0);
  g.scale(dpr, dpr);
  const font = (px, bold) => `${bold ? 'bold ' : ''}${px}px system-ui, "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif`;
  const box = (x, y, w, h) => { g.fillStyle = 'rgba(255,255,255,0.92)'; g.fillRect(x, y, w, h); g.strokeStyle = '#455A64'; g.lineWidth = 1; g.strokeRect(x + 0.5, y + 0.5, w - 1, h - 1); };
  const tag = (text, x, y, colour) => {
    g.font = font(12, true);
    const w = g.measureText(text).width + 8;
    g.fillStyle = 'rgba(255,255,255,0.92)'; g.fillRect(x, y - 9, w, 18);
    g.strokeStyle = colour; g.lineWidth = 1.5; g.strokeRect(x + 0.5, y - 8.5, w - 1, 17);
    g.fillStyle = colour; g.textBaseline = 'middle'; g.fillText(text, x + 4, y + 1);
  };
  // Resource marks (T1, D1, S1 as in the tables), inside the frame only.
  for (const h of items) {
    if (!h.at) continue;
    const p = map.project(h.at);
    if (p.x < 0 || p.y < 0 || p.x > W || p.y > H) continue;
    tag(h.rank, p.x + 8, p.y, HELP_COLOURS[h.kind]);
  }
  if (a.source) {
    const p = map.project(a.source);
    tag(`${t('cmdSource')} ${a.substance ?? ''}`, p.x + 12, p.y - 14, '#212121');
  }
  const { tail } = windArrow(a);
  const from = Number.isFinite(Number(request?.wind_from_deg)) ? Number(request.wind_from_deg) : Number(a.toxic?.downwind_deg) + 180;
  if (tail) {
    const p = map.project(tail);
    const speed = Number.isFinite(Number(request?.wind_speed_m_s)) ? ` ${fmtNum(request.wind_speed_m_s)} m/s` : '';
    const text = `${windName(from, lang)}${speed}`;
    g.font = font(12, true);
    tag(text, Math.max(4, Math.min(W - g.measureText(text).width - 12, p.x - g.measureText(text).width / 2)), Math.max(12, Math.min(H - 12, p.y - 16)), WIND_COLOUR);
  }
  // Scale bar (metres per CSS pixel at the centre, 512 px tiles).
  const c = map.getCenter();
  const mpp = (40075016.686 * Math.cos((c.lat * Math.PI) / 180)) / (512 * 2 ** map.getZoom());
  const metres = niceLength(mpp * 150);
  const px = metres / mpp;
  const label = metres >= 1000 ? `${metres / 1000} km` : `${metres} m`;
  const sx = W - px - 30; const sy = H - 22;
  box(sx - 10, sy - 22, px + 30, 36);
  g.fillStyle = '#212121'; g.fillRect(sx, sy, px / 2, 6);
  g.fillStyle = '#fff'; g.fillRect(sx + px / 2, sy, px / 2, 6);
  g.strokeStyle = '#212121'; g.strokeRect(sx + 0.5, sy + 0.5, px, 6);
  g.fillStyle = '#212121'; g.font = font(12); g.textBaseline = 'bottom';
  g.fillText('0', sx - 3, sy - 2); g.fillText(label, sx + px + 16 - g.measureText(label).width, sy - 2);
  // North arrow (the map is not rotated).
  const nx = W - 34; const ny = 44;
  box(nx - 20, ny - 34, 40, 62);
  g.beginPath(); g.moveTo(nx, ny - 24); g.lineTo(nx + 9, ny + 10); g.lineTo(nx, ny + 4); g.closePath(); g.fillStyle = '#212121'; g.fill();
  g.beginPath(); g.moveTo(nx, ny - 24); g.lineTo(nx - 9, ny + 10); g.lineTo(nx, ny + 4); g.closePath(); g.fillStyle = '#fff'; g.fill(); g.strokeStyle = '#212121'; g.stroke();
  g.fillStyle = '#212121'; g.font = font(12, true); g.textBaseline = 'top'; g.textAlign = 'center';
  g.fillText(t('north'), nx, ny + 12);
  g.textAlign = 'start';
  return out.toDataURL('image/png');
}

// ------------------------------------------------------------- the page
function legendHtml(a, t) {
  const rows = [];
  for (const grp of hazardGroups(a)) {
    for (const z of grp.rows) {
      rows.push(`<li data-colour="${esc(z.colour)}"><span class="lg-fill" style="background:${ZONE_COLOURS[z.colour] ?? '#999'};border-color:${ZONE_LINES[z.colour] ?? '#555'}"></span>${grp.hazard !== 'toxic' || a.hazards ? `${esc(t('hazard_' + grp.hazard))} · ` : ''}${esc(z.name)} (${esc(z.basis ?? '')}, ${esc(fmtReach(z.reach, t))})</li>`);
    }
  }
  rows.push(`<li><span class="lg-line dashed" style="border-color:${ZONE_LINES.orange}"></span>${esc(t('briefZoneUnc'))}</li>`);
  rows.push(`<li><span class="lg-dot" style="background:#212121;border-color:#FFEB3B"></span>${esc(t('cmdSource'))}</li>`);
  rows.push(`<li><span class="lg-arrow" style="color:${WIND_COLOUR}">➜</span>${esc(t('briefWindArrow'))}</li>`);
  for (const [kind, name] of [['team', t('cmdTeams')], ['depot', t('cmdDepots')], ['shelter', t('cmdShelters')]]) {
    rows.push(`<li><span class="lg-dot" style="background:${HELP_COLOURS[kind]}"></span>${esc(PREFIX[kind])}n · ${esc(name)}</li>`);
  }
  rows.push(`<li><span class="lg-line" style="border-color:#455A64"></span>${esc(t('briefRoad'))}</li>`);
  rows.push(`<li><span class="lg-line dashed" style="border-color:#455A64"></span>${esc(t('briefStraight'))}</li>`);
  return `<ul id="brief-legend">${rows.join('')}</ul>`;
}

function countsHtml(a, t) {
  const rows = [];
  for (const grp of hazardGroups(a)) {
    for (const z of grp.rows) {
      const vulnerable = z.targets.filter((x) => isVulnerable(x.category));
      const names = z.targets.slice(0, 6).map((x) => `${x.name ?? x.id}（${t('use_' + x.category)} ${x.population}）`).join('、');
      rows.push(`<tr data-hazard="${esc(z.hazard)}" data-colour="${esc(z.colour)}" data-population="${z.population}" data-targets="${z.targets.length}" data-pipelines="${z.pipelines.length}" data-sites="${z.sites.length}">
        <td><span class="zone-swatch" style="background:${ZONE_COLOURS[z.colour] ?? '#999'}"></span> ${esc(t('hazard_' + z.hazard))} · ${esc(z.name)}</td>
        <td>${esc(fmtNum(z.level))} ${esc(z.unit ?? '')}<br><small>${esc(z.basis ?? '')}${z.unconfirmed ? ` (${esc(t('cmdUnconfirmed'))})` : ''}</small></td>
        <td class="num">${esc(fmtReach(z.reach, t))}</td><td class="num">${z.population}</td><td class="num">${z.targets.length}</td><td class="num">${vulnerable.length}</td>
        <td class="num">${z.pipelines.length}</td><td class="num">${z.sites.length}</td></tr>
        ${names ? `<tr class="brief-names"><td colspan="8">${esc(names)}${z.targets.length > 6 ? ` ${esc(fill(t('cmdMore'), { n: z.targets.length - 6 }))}` : ''}${z.sites.length ? `<br>${esc(t('cmdHazardSites'))}: ${esc(z.sites.map((x) => x.name ?? x.id).join('、'))}` : ''}${z.pipelines.length ? `<br>${esc(t('cmdPipelines'))}: ${esc(z.pipelines.map((x) => x.name ?? x.id).join('、'))}` : ''}</td></tr>` : ''}`);
    }
  }
  return `<table class="grid" id="brief-counts"><thead><tr><th>${esc(t('cmdZone'))}</th><th>${esc(t('cmdLevel'))}</th><th>${esc(t('cmdReach'))}</th><th>${esc(t('cmdPeople'))}</th><th>${esc(t('cmdTargets'))}</th><th>${esc(t('briefVulnerable'))}</th><th>${esc(t('cmdPipelines'))}</th><th>${esc(t('cmdHazardSites'))}</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function weatherHtml(a, req, t, lang) {
  const r = req ?? {};
  const rows = [
    [t('cmdWindFrom'), Number.isFinite(Number(r.wind_from_deg)) ? `${fmtNum(r.wind_from_deg)}° · ${windName(r.wind_from_deg, lang)}` : '—'],
    [t('cmdWindSpeed'), r.wind_speed_m_s === undefined ? '—' : `${fmtNum(r.wind_speed_m_s)} m/s`],
    [t('cmdStabilityUsed'), `${a.stability ?? '—'} · ${a.stability_basis ?? ''}`],
    [t('cmdTemperature'), r.ambient_temperature_c === undefined || r.ambient_temperature_c === null ? '20 °C' : `${fmtNum(r.ambient_temperature_c)} °C`],
    [t('cmdTerrain'), r.terrain ? t(r.terrain === 'rural' ? 'cmdRural' : 'cmdUrban') : t('cmdUrban')],
  ];
  return `<table class="kv" id="brief-weather"><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</tbody></table>`;
}

function briefHtml(page, t) {
  const tools = `<nav id="brief-tools" class="no-print">
      <a href="/" id="brief-back">← ${esc(t('briefBack'))}</a>
      <button type="button" id="brief-print">${esc(t('print'))}</button>
      <span id="brief-lang"><button type="button" data-lang="zh"${page.lang === 'zh' ? ' class="active"' : ''}>中文</button><button type="button" data-lang="en"${page.lang === 'en' ? ' class="active"' : ''}>EN</button></span>
    </nav>`;
  if (page.error) return `${tools}<h1>${esc(t('briefTitle'))}</h1><p class="error-box" id="brief-error">${esc(page.error)}</p>`;
  const a = page.data;
  if (!a) return `${tools}<h1>${esc(t('briefTitle'))}</h1><p class="hint">${esc(t('loading'))}</p>`;
  const inc = a.incident;
  const lang = page.lang;
  const out = [tools];
  const times = inc
    ? `${esc(t('briefIncident'))} <code>${esc(inc.id)}</code> · ${esc(t('incStatus_' + inc.status))} · ${esc(t('briefCreated'))} ${esc(fmtTime(inc.created_at))} (${esc(inc.created_by)}) · ${esc(t('briefUpdated'))} ${esc(fmtTime(inc.updated_at))} · ${esc(fill(t('cmdRevision'), { n: inc.revision }))}`
    : esc(t('briefAssessOnly'));
  out.push(`<header class="brief-head"><h1>${esc(t('briefTitle'))}</h1>
    <div class="brief-name">${esc(a.substance ?? '')}${a.cas ? ` (CAS ${esc(a.cas)})` : ''} · ${esc(page.request?.site_id ?? '')}${page.request?.unit_id ? ` / ${esc(page.request.unit_id)}` : ''}</div>
    <p class="brief-meta" id="brief-times">${times} · ${esc(t('briefGenerated'))} ${esc(fmtTime(page.generated?.toISOString()))}</p></header>`);
  out.push(`<section id="brief-map-section"><h2>${esc(t('briefMap'))}</h2><div class="brief-map-row">${
    page.mapImage ? `<img id="brief-map-img" alt="${esc(t('briefMap'))}" src="${page.mapImage}">` : `<div id="brief-map-wait" class="hint">${esc(page.mapError ?? t('loading'))}</div>`
  }<div class="brief-legend-box"><h3>${esc(t('briefLegend'))}</h3>${legendHtml(a, t)}</div></div></section>`);
  out.push(`<section id="brief-weather-section"><h2>${esc(t('cmdWeather'))}</h2>${weatherHtml(a, page.request, t, lang)}</section>`);
  out.push(`<section id="brief-counts-section"><h2>${esc(t('briefCounts'))}</h2>${countsHtml(a, t)}</section>`);
  out.push(`<section id="brief-resources"><h2>${esc(t('briefResources'))}</h2>${helpHtml(a, t)}</section>`);
  out.push(`<section id="brief-model"><h2>${esc(t('briefModel'))}</h2>${basisHtml(a, t, lang)}${a.erg ? `<h3>${esc(t('cmdErg'))}</h3>${ergHtml(a, t)}` : ''}<h3>${esc(t('cmdNotes'))}</h3>${notesHtml(a, t)}</section>`);
  out.push(`<footer class="brief-foot">${esc(t('briefFooter'))}</footer>`);
  return out.join('');
}
