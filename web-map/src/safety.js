// External safety distances (外部安全防护距离) on the map: the `safety_zones`
// and `violations` layers with their legend, and the per-site report
// (GET /api/sites/{id}/report: methods, distances per target class, the
// F–N curve against the GB 36894 lines).
import { esc, fetchAllFeatures, fill, fmtM, sci } from './util.js';

/** Individual-risk contour levels (per year) and their outline colours, lowest first. */
export const IR_PALETTE = [
  [3e-7, '#00695C'],
  [1e-6, '#26A69A'],
  [3e-6, '#3949AB'],
  [1e-5, '#8E24AA'],
  [3e-5, '#AD1457'],
  [1e-4, '#4A148C'],
];
export const CODE_COLOUR = '#37474F';
export const CONSEQUENCE_COLOUR = '#6D4C41';
export const VIOLATION_COLOUR = '#C51162';

/** The outline colour of a zone (same rule as `zoneColourExpr`). */
export function zoneColour(p) {
  if (p.kind === 'code_distance') return CODE_COLOUR;
  if (p.kind === 'consequence') return CONSEQUENCE_COLOUR;
  const level = Number(p.level ?? 0);
  let c = IR_PALETTE[0][1];
  for (const [lv, col] of IR_PALETTE.slice(1)) if (level >= lv * 0.9) c = col;
  return c;
}

export function zoneColourExpr() {
  const step = ['step', ['to-number', ['get', 'level'], 0], IR_PALETTE[0][1]];
  for (const [lv, c] of IR_PALETTE.slice(1)) step.push(lv * 0.9, c);
  return ['match', ['get', 'kind'], 'code_distance', CODE_COLOUR, 'consequence', CONSEQUENCE_COLOUR, step];
}

const DASHED = ['all', ['==', ['get', 'kind'], 'code_distance'], ['==', ['get', 'unconfirmed'], true]];

/** Line layers for zones: solid, and dashed for unconfirmed code distances. */
export function zoneLayers(prefix, source, { sourceLayer, width } = {}) {
  const base = { type: 'line', source, layout: { 'line-join': 'round' } };
  if (sourceLayer) base['source-layer'] = sourceLayer;
  const w = width ?? ['case', ['==', ['get', 'governing'], true], 2.6, 1.3];
  return [
    { ...base, id: `${prefix}-line`, filter: ['!', DASHED], paint: { 'line-color': zoneColourExpr(), 'line-width': w } },
    { ...base, id: `${prefix}-dashed`, filter: DASHED, paint: { 'line-color': zoneColourExpr(), 'line-width': w, 'line-dasharray': [3, 2] } },
  ];
}

/** The safety layers' sources: the tilesets when the server has them, else the GeoJSON collections. */
export const SAFETY_SOURCES = ['safety_zones', 'violations'];

async function tilesetExists(name) {
  try {
    const res = await fetch(`/tiles/${name}.json`, { headers: { Accept: 'application/json' } });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Adds `safety_zones` (outlines) and `violations` (markers) to the map. The
 * web map draws them itself so the legend matches; layers the style may
 * define for these sources are replaced.
 */
export async function addSafetyLayers(map, { getJson, loadZones, beforeZones, beforeViolations }) {
  const style = map.getStyle();
  for (const name of SAFETY_SOURCES) {
    if (!map.getSource(name)) {
      if (await tilesetExists(name)) {
        map.addSource(name, { type: 'vector', url: new URL(`/tiles/${name}.json`, location.href).href });
      } else {
        const data = name === 'safety_zones' ? await loadZones() : await fetchAllFeatures(getJson, `/collections/${name}/items?limit=10000`);
        map.addSource(name, { type: 'geojson', data });
      }
    }
    for (const l of style.layers.filter((x) => x.source === name)) map.removeLayer(l.id);
  }
  const vector = (name) => map.getSource(name)?.type === 'vector';
  const before = (id) => (id && map.getLayer(id) ? id : undefined);
  for (const l of zoneLayers('safety-zones', 'safety_zones', { sourceLayer: vector('safety_zones') ? 'safety_zones' : undefined })) {
    map.addLayer(l, before(beforeZones));
  }
  const v = {
    id: 'violation-points', type: 'circle', source: 'violations',
    paint: { 'circle-color': VIOLATION_COLOUR, 'circle-radius': 5, 'circle-stroke-color': '#FFFFFF', 'circle-stroke-width': 1.5 },
  };
  if (vector('violations')) v['source-layer'] = 'violations';
  map.addLayer(v, before(beforeViolations));
}

/** Legend entries of the safety layers. */
export function renderSafetyLegend(el, t) {
  const line = (colour, dashed, w = 3) => `<span class="line-swatch" style="border-top:${w}px ${dashed ? 'dashed' : 'solid'} ${colour}"></span>`;
  const rows = [
    ...IR_PALETTE.map(([lv, c]) => `<li data-kind="iso_risk" data-level="${lv}">${line(c)}${esc(fill(t('legendIr'), { x: sci(lv) }))}</li>`),
    `<li data-kind="code_distance">${line(CODE_COLOUR)}${esc(t('legendCode'))}</li>`,
    `<li data-kind="code_distance_unconfirmed">${line(CODE_COLOUR, true)}${esc(t('legendCodeUnconfirmed'))}</li>`,
    `<li data-kind="consequence">${line(CONSEQUENCE_COLOUR)}${esc(t('legendConsequence'))}</li>`,
    `<li data-kind="violation"><span class="dot-swatch" style="background:${VIOLATION_COLOUR}"></span>${esc(t('legendViolation'))}</li>`,
  ];
  el.innerHTML = rows.join('') + `<li class="hint">${esc(t('legendGoverning'))}</li>`;
}

// ------------------------------------------------------------ site report
const CLASS_ORDER = ['high_sensitivity', 'important', 'general_1', 'general_2', 'general_3'];

/** Methods that apply, with reasons and clauses. */
export function methodsHtml(methods, t, lang) {
  if (!methods?.length) return `<p class="hint">${esc(t('none'))}</p>`;
  return `<table class="report-methods"><thead><tr><th>${esc(t('method'))}</th><th>${esc(t('reason'))}</th><th>${esc(t('clause'))}</th></tr></thead><tbody>${
    methods.map((m) => `<tr data-method="${esc(m.method)}"><td>${esc(t('method_' + m.method))}</td><td>${esc(lang === 'en' ? m.reason_en : m.reason_zh)}</td><td>${esc(m.clause)}${m.unconfirmed ? ` <em>(${esc(t('unconfirmedMark'))})</em>` : ''}</td></tr>`).join('')
  }</tbody></table>`;
}

/** Distances per target class, the governing one first and marked. */
export function distancesHtml(distances, t) {
  if (!distances?.length) return `<p class="hint">${esc(t('none'))}</p>`;
  const rows = [...distances].sort((a, b) => CLASS_ORDER.indexOf(a.class) - CLASS_ORDER.indexOf(b.class) || (b.governing - a.governing) || b.distance_m - a.distance_m);
  return `<table class="report-distances"><thead><tr><th>${esc(t('targetClassCol'))}</th><th>${esc(t('method'))}</th><th>${esc(t('distanceM'))}</th><th>${esc(t('clause'))}</th></tr></thead><tbody>${
    rows.map((d) => `<tr data-class="${esc(d.class)}" data-governing="${d.governing ? 'true' : 'false'}"${d.governing ? ' class="governing"' : ''}><td>${esc(t('class_' + d.class))}</td><td>${esc(t('method_' + d.method))}${d.governing ? ` <strong>${esc(t('governing'))}</strong>` : ''}</td><td class="num">${esc(fmtM(d.distance_m))}</td><td>${esc(d.clause)}</td></tr>`).join('')
  }</tbody></table>`;
}

/** Violations (targets inside zones protecting their class). */
export function violationsHtml(list, t) {
  if (!list?.length) return `<p class="hint">${esc(t('none'))}</p>`;
  return `<table class="report-violations"><thead><tr><th>${esc(t('target'))}</th><th>${esc(t('method'))}</th><th>${esc(t('distanceM'))}</th><th>${esc(t('marginM'))}</th></tr></thead><tbody>${
    list.map((v) => `<tr data-target="${esc(v.target_id)}"><td>${esc(v.target_name ?? v.target_id)}<br><small>${esc(t('class_' + v.target_class))}</small></td><td>${esc(t('method_' + v.method))}</td><td class="num">${esc(fmtM(v.distance_m))}</td><td class="num">${esc(fmtM(v.margin_m, { signed: true }))}</td></tr>`).join('')
  }</tbody></table>`;
}

/**
 * The F–N curve on log–log axes with the GB 36894 lines (F = c/N^slope), as
 * an inline SVG. Points are the server's; the curve is a step function.
 */
export function fnChartSvg(fnc, t) {
  const W = 340, H = 230, ml = 46, mr = 10, mt = 10, mb = 34;
  const pw = W - ml - mr, ph = H - mt - mb;
  const pts = (fnc?.points ?? []).filter((p) => p.n > 0 && p.f > 0).sort((a, b) => a.n - b.n);
  const lines = [fnc?.upper, fnc?.lower].filter(Boolean);
  const maxN = Math.max(10, ...pts.map((p) => p.n));
  const n1 = 1;
  const n2 = 10 ** Math.ceil(Math.log10(maxN * 1.0001));
  const lineF = (l, n) => l.f_at_n1 / n ** (l.slope ?? 1);
  const fs = [...pts.map((p) => p.f), ...lines.flatMap((l) => [lineF(l, Math.max(n1, l.n_min ?? 1)), lineF(l, n2)])];
  const f2 = 10 ** Math.ceil(Math.log10(Math.max(...fs, 1e-6)));
  const f1 = 10 ** Math.floor(Math.log10(Math.max(Math.min(...fs, f2 / 10), 1e-12)));
  const x = (n) => ml + ((Math.log10(n) - Math.log10(n1)) / (Math.log10(n2) - Math.log10(n1))) * pw;
  const y = (f) => mt + (1 - (Math.log10(f) - Math.log10(f1)) / (Math.log10(f2) - Math.log10(f1))) * ph;
  const parts = [];
  // Grid and axes, one tick per decade.
  for (let e = Math.log10(n1); e <= Math.log10(n2) + 1e-9; e += 1) {
    const xx = x(10 ** e).toFixed(1);
    parts.push(`<line x1="${xx}" y1="${mt}" x2="${xx}" y2="${mt + ph}" stroke="#ECEFF1"/><text x="${xx}" y="${mt + ph + 13}" text-anchor="middle">${esc(sci(10 ** e))}</text>`);
  }
  for (let e = Math.log10(f1); e <= Math.log10(f2) + 1e-9; e += 1) {
    const yy = y(10 ** e).toFixed(1);
    parts.push(`<line x1="${ml}" y1="${yy}" x2="${ml + pw}" y2="${yy}" stroke="#ECEFF1"/><text x="${ml - 3}" y="${(Number(yy) + 3).toFixed(1)}" text-anchor="end">${esc(sci(10 ** e))}</text>`);
  }
  parts.push(`<rect x="${ml}" y="${mt}" width="${pw}" height="${ph}" fill="none" stroke="#90A4AE"/>`);
  parts.push(`<text x="${ml + pw / 2}" y="${H - 4}" text-anchor="middle">N</text><text x="10" y="${mt + ph / 2}" transform="rotate(-90 10 ${mt + ph / 2})" text-anchor="middle">F (/yr)</text>`);
  // The two lines.
  const lineStyle = [['upper', '#D32F2F', t('upperLine')], ['lower', '#388E3C', t('lowerLine')]];
  for (const [key, colour, label] of lineStyle) {
    const l = fnc?.[key];
    if (!l) continue;
    const na = Math.max(n1, l.n_min ?? 1);
    const d = [];
    for (let i = 0; i <= 20; i += 1) {
      const n = na * (n2 / na) ** (i / 20);
      d.push(`${i ? 'L' : 'M'}${x(n).toFixed(1)},${Math.max(mt, Math.min(mt + ph, y(lineF(l, n)))).toFixed(1)}`);
    }
    parts.push(`<path data-line="${key}" d="${d.join('')}" fill="none" stroke="${colour}" stroke-width="1.5" stroke-dasharray="5 3"><title>${esc(label)}: F = ${esc(sci(l.f_at_n1))}/N${l.slope && l.slope !== 1 ? `^${l.slope}` : ''}${l.unconfirmed ? ` (${esc(t('unconfirmedMark'))})` : ''}</title></path>`);
  }
  // The curve: F(N) holds from each N to the next.
  if (pts.length) {
    const d = [];
    pts.forEach((p, i) => {
      const xa = x(p.n), ya = y(p.f);
      const xb = i + 1 < pts.length ? x(pts[i + 1].n) : xa;
      d.push(`${i ? 'L' : 'M'}${xa.toFixed(1)},${ya.toFixed(1)}L${xb.toFixed(1)},${ya.toFixed(1)}`);
    });
    parts.push(`<path data-curve="fn" d="${d.join('')}" fill="none" stroke="#212121" stroke-width="2"/>`);
    pts.forEach((p) => parts.push(`<circle data-n="${p.n}" data-f="${p.f}" cx="${x(p.n).toFixed(1)}" cy="${y(p.f).toFixed(1)}" r="2.5" fill="#212121"><title>N = ${esc(Math.round(p.n * 10) / 10)}, F = ${esc(sci(p.f))}/yr</title></circle>`));
  }
  // Legend, bottom left: the curve and the lines fall from the top left.
  const lh = pts.length ? 44 : 30;
  parts.push(`<g transform="translate(${ml + 8},${mt + ph - lh + 6})"><rect x="-4" y="-8" width="120" height="${lh}" fill="#fff" opacity="0.85"/>${
    lineStyle.map(([, c, label], i) => `<line x1="0" y1="${i * 13}" x2="16" y2="${i * 13}" stroke="${c}" stroke-dasharray="5 3" stroke-width="1.5"/><text x="20" y="${i * 13 + 3}">${esc(label)}</text>`).join('')
  }${pts.length ? `<line x1="0" y1="26" x2="16" y2="26" stroke="#212121" stroke-width="2"/><text x="20" y="29">F–N</text>` : ''}</g>`);
  return `<svg class="fn-chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(t('fnCurve'))}" data-points="${pts.length}">${parts.join('')}</svg>`;
}

/** The whole report (or a proposed site's assessment) as HTML. */
export function reportHtml(r, t, lang) {
  const out = [];
  const dl = [];
  if (r.installation !== undefined) dl.push(`<dt>${esc(t('installationLabel'))}</dt><dd>${esc(r.installation ? t('install_' + r.installation) : '—')}</dd>`);
  if (r.max_individual_risk !== undefined && r.max_individual_risk !== null) dl.push(`<dt>${esc(t('maxIr'))}</dt><dd>${esc(sci(r.max_individual_risk))} /yr</dd>`);
  if (r.model) dl.push(`<dt>${esc(t('model'))}</dt><dd>${esc(r.model.id)} v${esc(r.model.version)}</dd>`);
  if (Array.isArray(r.scenarios)) dl.push(`<dt>${esc(t('scenarios'))}</dt><dd>${r.scenarios.length}</dd>`);
  if (dl.length) out.push(`<dl class="props">${dl.join('')}</dl>`);
  out.push(`<h4>${esc(t('methods'))}</h4>${methodsHtml(r.methods, t, lang)}`);
  out.push(`<h4>${esc(t('classDistances'))}</h4>${distancesHtml(r.distances, t)}`);
  out.push(`<h4>${esc(t('fnCurve'))}</h4>`);
  if (r.fn_curve) {
    const f = r.fn_curve;
    out.push(`<p>${esc(t('region'))}: <strong data-region="${esc(f.region)}">${esc(t('region_' + f.region))}</strong> · ${esc(t('expectedDeaths'))}: ${esc(sci(f.expected_deaths_per_year))}</p>`);
    out.push(fnChartSvg(f, t));
    if (!f.points?.length) out.push(`<p class="hint">${esc(t('fnEmpty'))}</p>`);
  } else {
    out.push(`<p class="hint">${esc(t('none'))}</p>`);
  }
  if (r.violations) out.push(`<h4>${esc(t('violations'))}</h4>${violationsHtml(r.violations, t)}`);
  if (r.notes?.length) out.push(`<details><summary>${esc(t('notes'))} (${r.notes.length})</summary><ul class="notes">${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></details>`);
  return out.join('');
}
