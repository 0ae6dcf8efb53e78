// 隐患排查治理 on the web map: the `hidden_dangers` layer (colour by status
// group, size and stroke by level, overdue ringed) with its legend; an
// enterprise's dangers in its panel with the link to its printable dossier
// (一企一档); a danger's detail with its history as a timeline and the
// lifecycle steps the signed-in account may take; the form to report a
// danger (an enterprise's, or at a public place picked on the map); and the
// statistics chart (GET /api/stats/hidden-dangers) as inline SVG.
import { errorText } from './auth.js';
import { esc, fill, fmt } from './util.js';

/** Status groups and their colours (none of them a four-colour risk colour). */
export const DANGER_COLOURS = { open: '#283593', closed: '#2E7D32', rejected: '#9E9E9E' };
export const OVERDUE_COLOUR = '#B71C1C';
const CLUSTER_COLOUR = '#546E7A';
/** The states that are not open (the lifecycle's `open = false`). */
const CLOSED_STATES = { closed: 'closed', rejected: 'rejected' };
export const SOURCES_OF_DANGER = ['self_check', 'inspection', 'public_report', 'grid_worker'];
export const LISTING_LEVELS = ['county', 'city', 'province'];
const GROUPS = ['district', 'industry', 'level', 'status', 'source', 'month'];
const EMPTY = { type: 'FeatureCollection', features: [] };

/** The status group of a state: open, closed or rejected. */
export function statusGroup(status) {
  return CLOSED_STATES[status] ?? 'open';
}

/** A time of the history (RFC 3339) in China time, `2026-05-21 17:00`. */
export function fmtTime(at) {
  if (!at) return '—';
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return String(at);
  try {
    const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    }).formatToParts(d).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  } catch {
    return d.toISOString().slice(0, 16).replace('T', ' ');
  }
}

/** Today in China (UTC+8), `YYYY-MM-DD`. */
export function chinaToday() {
  return new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
}

function pct(v) {
  return v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)}%`;
}

// ------------------------------------------------------------ map layers
const NOT_AGG = ['!', ['has', 'count']];
const OVERDUE = ['all', NOT_AGG, ['==', ['get', 'overdue'], true]];
const MAJOR = ['==', ['get', 'level'], 'major'];

export function dangerLayers(vector) {
  const base = { type: 'circle', source: 'hidden_dangers' };
  if (vector) base['source-layer'] = 'hidden_dangers';
  const colour = ['match', ['get', 'status'], 'closed', DANGER_COLOURS.closed, 'rejected', DANGER_COLOURS.rejected, DANGER_COLOURS.open];
  const radius = ['case', MAJOR, 7.5, 4.5];
  return [
    { ...base, id: 'danger-clusters', filter: ['has', 'count'],
      paint: { 'circle-color': CLUSTER_COLOUR, 'circle-opacity': 0.85, 'circle-radius': ['step', ['get', 'count'], 6, 5, 8, 20, 11], 'circle-stroke-color': '#FFFFFF', 'circle-stroke-width': 1.5 } },
    // Overdue: a dark-red ring on a white halo (visible on a red site too).
    { ...base, id: 'danger-overdue-halo', filter: OVERDUE,
      paint: { 'circle-opacity': 0, 'circle-radius': ['case', MAJOR, 12, 9], 'circle-stroke-color': '#FFFFFF', 'circle-stroke-width': 5 } },
    { ...base, id: 'danger-overdue', filter: OVERDUE,
      paint: { 'circle-opacity': 0, 'circle-radius': ['case', MAJOR, 12, 9], 'circle-stroke-color': OVERDUE_COLOUR, 'circle-stroke-width': 2.5 } },
    { ...base, id: 'danger-points', filter: NOT_AGG,
      layout: { 'circle-sort-key': ['+', ['case', MAJOR, 10, 0], ['match', ['get', 'status'], 'closed', 0, 'rejected', 0, 5]] },
      paint: { 'circle-color': colour, 'circle-radius': radius, 'circle-stroke-color': ['case', MAJOR, '#000000', '#FFFFFF'], 'circle-stroke-width': ['case', MAJOR, 2.5, 1.2] } },
  ];
}

/**
 * ctx: { map, state, t, getJson, auth, showPanel(view), openFeature(c, id, props),
 *        openEnterprise(id), afterWrite(info), loadEnterprises() }.
 */
export function createDangers(ctx) {
  const { map, t } = ctx;
  const $ = (sel) => document.querySelector(sel);
  const s = {
    lifecycle: null,
    detail: null, // { id, data, error, busy, message, note, evidence, listing_level }
    form: null, // the report form's fields and state
    picking: false,
    stats: null,
    statsGroup: 'district',
    statsError: null,
    seq: 0,
  };
  ctx.state.dangers = s;

  const lang = () => ctx.state.lang;

  // --------------------------------------------------------- lifecycle
  let lifecycleLoading = null;
  function loadLifecycle() {
    lifecycleLoading ??= ctx.getJson('/api/hidden-dangers/lifecycle').then((l) => { s.lifecycle = l; return l; })
      .catch((err) => { lifecycleLoading = null; throw err; });
    return lifecycleLoading;
  }

  function stateName(id) {
    const st = s.lifecycle?.states?.find((x) => x.id === id);
    if (!st) return t('status_' + id) === 'status_' + id ? id : t('status_' + id);
    return lang() === 'en' ? st.en : st.zh;
  }
  function actionName(action, zh) {
    const key = 'action_' + action;
    const v = t(key);
    if (v !== key) return v;
    return zh ?? s.lifecycle?.transitions?.find((x) => x.action === action)?.zh ?? action;
  }
  function itemOf(id) {
    return s.lifecycle?.items?.find((i) => i.id === id) ?? null;
  }

  // ------------------------------------------------------------- layers
  async function tilesetExists() {
    try {
      const res = await fetch('/tiles/hidden_dangers.json', { headers: { Accept: 'application/json' } });
      return res.ok;
    } catch {
      return false;
    }
  }

  /** Adds the source (the tileset, else the GeoJSON collection) and the layers, under the siting overlays. */
  async function addLayers({ before } = {}) {
    if (!map.getSource('hidden_dangers')) {
      if (await tilesetExists()) {
        map.addSource('hidden_dangers', { type: 'vector', url: new URL('/tiles/hidden_dangers.json', location.href).href });
      } else {
        map.addSource('hidden_dangers', { type: 'geojson', data: EMPTY });
        reloadGeoJson();
      }
    }
    for (const l of (map.getStyle().layers ?? []).filter((x) => x.source === 'hidden_dangers')) map.removeLayer(l.id);
    const vector = map.getSource('hidden_dangers').type === 'vector';
    const b = before && map.getLayer(before) ? before : undefined;
    for (const l of dangerLayers(vector)) map.addLayer(l, b);
    loadLifecycle().catch((err) => console.warn('lifecycle', err));
  }

  async function reloadGeoJson() {
    const src = map.getSource('hidden_dangers');
    if (src?.type !== 'geojson') return;
    try {
      const fc = await ctx.getJson('/collections/hidden_dangers/items?limit=10000');
      src.setData(fc);
    } catch (err) { console.warn('hidden dangers', err); }
  }

  function renderLegend(el) {
    if (!el) return;
    const dot = (c, { r = 10, stroke = '#fff', sw = 1.5 } = {}) => `<span class="danger-dot" style="background:${c};width:${r}px;height:${r}px;border:${sw}px solid ${stroke}"></span>`;
    el.innerHTML = [
      `<li data-kind="open">${dot(DANGER_COLOURS.open)}${esc(t('dangerOpen'))}</li>`,
      `<li data-kind="closed">${dot(DANGER_COLOURS.closed)}${esc(t('dangerClosed'))}</li>`,
      `<li data-kind="rejected">${dot(DANGER_COLOURS.rejected)}${esc(t('dangerRejected'))}</li>`,
      `<li data-kind="major">${dot(DANGER_COLOURS.open, { r: 15, stroke: '#000', sw: 2.5 })}${esc(t('dangerMajorLegend'))}</li>`,
      `<li data-kind="general">${dot(DANGER_COLOURS.open, { r: 9 })}${esc(t('dangerGeneralLegend'))}</li>`,
      `<li data-kind="overdue"><span class="danger-ring" style="border-color:${OVERDUE_COLOUR}"></span>${esc(t('dangerOverdueLegend'))}</li>`,
      `<li data-kind="aggregated">${dot(CLUSTER_COLOUR, { r: 14 })}${esc(t('dangerAggregated'))}</li>`,
    ].join('');
  }

  // ------------------------------------------------ enterprise panel part
  /** Loads an enterprise's dangers (from its dossier) into the panel's selection. */
  async function loadForEnterprise(sel) {
    if (!sel || sel.collection !== 'enterprises' || sel.properties?.aggregated || sel.id === undefined || sel.id === null) return;
    sel.dangers = undefined;
    loadLifecycle().catch(() => {});
    try {
      const d = await ctx.getJson(`/api/enterprises/${encodeURIComponent(sel.id)}/dossier`);
      sel.dangers = { list: d.hidden_dangers ?? [], counts: d.hidden_danger_counts ?? null, name: d.enterprise?.name };
    } catch (err) {
      sel.dangers = { error: err.status ?? 0 };
    }
    if (ctx.state.selected === sel && ctx.state.panelView === 'feature') ctx.rerender();
  }

  function dangerRow(d) {
    const h = d.danger ?? {};
    const cls = [d.open ? 'open' : 'closed', d.level, d.overdue ? 'overdue' : ''].filter(Boolean).join(' ');
    return `<li data-danger="${esc(d.id)}" data-status="${esc(d.status)}" data-level="${esc(d.level)}" data-overdue="${d.overdue ? 'true' : 'false'}" class="${cls}">
      <button type="button" class="linkish danger-open" data-open-danger="${esc(d.id)}"><span class="danger-level ${esc(d.level)}">${esc(t('dlevel_' + d.level))}</span> ${esc(lang() === 'en' ? (d.status_en ?? d.status) : (d.status_zh ?? d.status))}${h.deadline ? ` · ${esc(t('deadline'))} ${esc(h.deadline)}` : ''}${d.overdue ? ` <span class="overdue-mark">${esc(t('overdue'))}</span>` : ''}</button>
      <div class="danger-desc">${esc(h.description ?? '')}${h.rule_item ? ` <small>(${esc(h.rule_item)})</small>` : ''}</div></li>`;
  }

  /** The enterprise panel's section: its dangers (open first), report button and dossier link. */
  function enterpriseHtml(sel) {
    if (!sel || sel.collection !== 'enterprises' || sel.properties?.aggregated || sel.id === undefined || sel.id === null) return '';
    const id = sel.id;
    const parts = [`<section id="enterprise-dangers" data-enterprise="${esc(id)}">`];
    const d = sel.dangers;
    const c = d?.counts;
    parts.push(`<h4>${esc(t('hiddenDangers'))}${c ? ` <small id="enterprise-danger-counts">${esc(fill(t('dangerCounts'), { total: c.total, open: c.open, major: c.open_major, overdue: c.overdue }))}</small>` : ''}</h4>`);
    if (d === undefined) parts.push(`<p class="hint">${esc(t('loading'))}</p>`);
    else if (d.error === 401 || d.error === 403) parts.push(`<p class="hint" id="enterprise-dangers-login">${esc(t('loginToSee'))} (HTTP ${esc(d.error)})</p>`);
    else if (d.error !== undefined) parts.push(`<p class="hint">${esc(t('errorOther'))} (HTTP ${esc(d.error)})</p>`);
    else if (!d.list.length) parts.push(`<p class="hint" id="enterprise-dangers-none">${esc(t('noDangers'))}</p>`);
    else parts.push(`<ul class="danger-list">${d.list.map(dangerRow).join('')}</ul>`);
    parts.push(`<p class="danger-links"><button type="button" id="danger-report-button" data-enterprise="${esc(id)}">${esc(t('reportDanger'))}</button>
      <a id="dossier-link" href="/?dossier=${encodeURIComponent(id)}${lang() === 'en' ? '&lang=en' : ''}" target="_blank" rel="opener">${esc(t('dossierLink'))}</a></p>`);
    parts.push('</section>');
    return parts.join('');
  }

  // ------------------------------------------------------- danger detail
  async function openDanger(id) {
    const keep = s.detail?.id === id ? s.detail : null;
    s.detail = { id, data: keep?.data, error: null, busy: false, message: keep?.message ?? null, note: '', evidence: '', listing_level: keep?.listing_level ?? 'city' };
    ctx.showPanel('danger');
    await Promise.all([loadDanger(), loadLifecycle().catch(() => {})]);
    if (ctx.state.panelView === 'danger' && s.detail?.id === id) ctx.rerender();
  }

  async function loadDanger() {
    const det = s.detail;
    if (!det) return;
    const url = `/api/hidden-dangers/${encodeURIComponent(det.id)}`;
    try {
      let res = await fetch(url, { headers: ctx.auth.headers({ Accept: 'application/json' }) });
      if (res.status === 401 && ctx.auth.signedIn()) res = await fetch(url, { headers: { Accept: 'application/json' } });
      if (!res.ok) throw Object.assign(new Error(await errorText(res)), { status: res.status });
      det.data = await res.json();
      det.loadError = null;
    } catch (err) {
      det.loadError = `HTTP ${err.status ?? 0}: ${err.message}`;
    }
  }

  /** The actions offered now: the server's `allowed_transitions`, else the lifecycle's steps for the state, level and role. */
  function offeredActions(data) {
    if (!data) return [];
    const all = s.lifecycle?.transitions ?? [];
    const find = (a) => (data.allowed ?? []).find((x) => x.action === a) ?? all.find((x) => x.action === a && x.from === data.status) ?? { action: a };
    if (Array.isArray(data.allowed_transitions)) return data.allowed_transitions.map((a) => (typeof a === 'string' ? find(a) : a));
    let list = Array.isArray(data.allowed) ? data.allowed
      : all.filter((x) => x.from === data.status && (!x.levels?.length || x.levels.includes(data.level)));
    const role = ctx.auth.state.me?.role;
    if (role && role !== 'admin') list = list.filter((x) => !x.roles?.length || x.roles.includes(role));
    return list;
  }

  function historyHtml(history) {
    if (!history?.length) return `<p class="hint">${esc(t('none'))}</p>`;
    return `<ol class="timeline" id="danger-history">${history.map((e) => `
      <li data-action="${esc(e.action)}" data-to="${esc(e.to)}">
        <div class="tl-head"><time datetime="${esc(e.at)}">${esc(fmtTime(e.at))}</time> <strong>${esc(actionName(e.action))}</strong>
          <span class="tl-state">${e.from ? `${esc(stateName(e.from))} → ` : ''}${esc(stateName(e.to))}</span></div>
        <div class="tl-actor">${esc(t('actor'))}: ${esc(e.actor ?? '—')}${e.listing_level ? ` · ${esc(t('listingLevel'))}: ${esc(t('listing_' + e.listing_level))}` : ''}</div>
        ${e.note ? `<div class="tl-note">${esc(e.note)}</div>` : ''}
        ${e.evidence ? `<div class="tl-evidence">${esc(t('evidence'))}: ${esc(e.evidence)}</div>` : ''}
      </li>`).join('')}</ol>`;
  }

  function renderDetail(el) {
    const det = s.detail;
    if (!det) { el.innerHTML = ''; return; }
    const d = det.data;
    const h = d?.danger ?? {};
    const parts = [];
    parts.push(`<div id="danger-detail" data-id="${esc(det.id)}" data-status="${esc(d?.status ?? '')}" data-level="${esc(d?.level ?? '')}">`);
    parts.push(`<h3>${esc(h.description ?? det.id)}</h3>`);
    parts.push(`<div class="meta">${esc(t('layer_hidden_dangers'))} · <code>${esc(det.id)}</code></div>`);
    if (!d) {
      parts.push(`<p class="hint">${esc(det.loadError ?? t('loading'))}</p></div>`);
      el.innerHTML = parts.join('');
      return;
    }
    parts.push(`<p><span class="danger-level ${esc(d.level)}">${esc(t('dlevel_' + d.level))}</span> <span class="danger-status" data-status="${esc(d.status)}" data-group="${esc(statusGroup(d.status))}">${esc(lang() === 'en' ? (d.status_en ?? d.status) : (d.status_zh ?? d.status))}</span>${d.overdue ? ` <span class="overdue-mark">${esc(t('overdue'))}</span>` : ''}</p>`);
    if (h.enterprise_id) {
      parts.push(`<p><button type="button" class="linkish" id="danger-enterprise" data-open-enterprise="${esc(h.enterprise_id)}">← ${esc(t('enterprise'))} ${esc(ctx.enterpriseName?.(h.enterprise_id) ?? h.enterprise_id)}</button>
        · <a href="/?dossier=${encodeURIComponent(h.enterprise_id)}${lang() === 'en' ? '&lang=en' : ''}" target="_blank">${esc(t('dossierLink'))}</a></p>`);
    } else {
      parts.push(`<p class="hint">${esc(t('publicPlace'))}</p>`);
    }
    const item = d.rule_item ?? itemOf(h.rule_item);
    const rows = [
      [t('ruleItem'), item ? `${item.id} ${item.zh ?? ''}${item.clause ? ` (${item.clause})` : ''}` : h.rule_item],
      [t('dangerSource'), h.source ? t('source_' + h.source) : null],
      [t('foundDate'), h.found_date],
      [t('deadline'), h.deadline],
      [t('responsiblePerson'), h.responsible_person],
      [t('measures'), h.measures],
      [t('funds'), h.funds_cny === undefined || h.funds_cny === null ? null : fmt(h.funds_cny)],
      [t('listingLevel'), h.listing_level ? t('listing_' + h.listing_level) : null],
      [t('districtCode'), h.district_code],
      [t('industry'), h.industry],
    ].filter(([, v]) => v !== null && v !== undefined && v !== '');
    parts.push(`<dl class="props" id="danger-props">${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`);

    // Lifecycle steps.
    parts.push(`<h4>${esc(t('lifecycleSteps'))}</h4>`);
    const actions = offeredActions(d);
    if (!ctx.auth.signedIn()) {
      parts.push(`<p class="hint" id="danger-login-hint">${esc(fill(t('loginToAct'), { actions: actions.map((a) => actionName(a.action, a.zh)).join('、') || t('none') }))}</p>`);
    } else if (!actions.length) {
      parts.push(`<p class="hint" id="danger-no-actions">${esc(t('noActions'))}</p>`);
    } else {
      const needsListing = actions.some((a) => (a.requires ?? []).includes('listing_level'));
      parts.push(`<div id="danger-actions">
        <label>${esc(t('note'))} <textarea id="transition-note" rows="2">${esc(det.note)}</textarea></label>
        <label>${esc(t('evidence'))} <input id="transition-evidence" value="${esc(det.evidence)}" placeholder="${esc(t('evidencePlaceholder'))}"></label>
        ${needsListing ? `<label id="listing-level-label">${esc(t('listingLevel'))} <select id="transition-listing-level">${LISTING_LEVELS.map((l) => `<option value="${l}"${det.listing_level === l ? ' selected' : ''}>${esc(t('listing_' + l))}</option>`).join('')}</select></label>` : ''}
        <div class="danger-buttons">${actions.map((a) => `<button type="button" data-action="${esc(a.action)}"${det.busy ? ' disabled' : ''}>${esc(actionName(a.action, a.zh))}</button>`).join('')}</div>
      </div>`);
    }
    if (det.message) parts.push(`<div id="danger-error" class="error-box" data-status="${esc(det.message.status)}"><p>${esc(det.message.text)}</p></div>`);
    parts.push(`<h4>${esc(t('history'))}</h4>`);
    parts.push(historyHtml(h.history));
    parts.push(`<p><a href="/api/hidden-dangers/${encodeURIComponent(det.id)}" target="_blank" rel="noopener">${esc(t('dangerJson'))}</a></p>`);
    parts.push('</div>');
    el.innerHTML = parts.join('');
    el.querySelector('#transition-note')?.addEventListener('input', (e) => { det.note = e.target.value; });
    el.querySelector('#transition-evidence')?.addEventListener('input', (e) => { det.evidence = e.target.value; });
    el.querySelector('#transition-listing-level')?.addEventListener('change', (e) => { det.listing_level = e.target.value; });
    el.querySelectorAll('#danger-actions button[data-action]').forEach((b) => b.addEventListener('click', () => {
      const a = actions.find((x) => x.action === b.dataset.action);
      runTransition(b.dataset.action, (a?.requires ?? []).includes('listing_level'));
    }));
  }

  async function runTransition(action, needsListing) {
    const det = s.detail;
    if (!det || det.busy) return;
    det.busy = true;
    det.message = null;
    ctx.rerender();
    const body = { action };
    if (det.note.trim()) body.note = det.note.trim();
    if (det.evidence.trim()) body.evidence = det.evidence.trim();
    if (needsListing) body.listing_level = det.listing_level;
    let written = null;
    try {
      const res = await fetch(`/api/hidden-dangers/${encodeURIComponent(det.id)}/transitions`, {
        method: 'POST',
        headers: ctx.auth.headers({ 'Content-Type': 'application/json', Accept: 'application/json' }),
        body: JSON.stringify(body),
      });
      if (res.ok) {
        det.data = await res.json();
        det.note = '';
        det.evidence = '';
        // Redraw the map at once, while the panel reloads the danger.
        written = ctx.afterWrite({ enterprise_id: det.data?.danger?.enterprise_id, danger_id: det.id });
        await loadDanger(); // allowed_transitions for the new state
      } else {
        det.message = { status: res.status, text: `HTTP ${res.status}: ${await errorText(res)}` };
        if (res.status === 409) await loadDanger(); // moved meanwhile: show where it is now
      }
    } catch (err) {
      det.message = { status: 0, text: String(err) };
    }
    det.busy = false;
    if (s.detail === det && ctx.state.panelView === 'danger') ctx.rerender();
    await written;
  }

  // ---------------------------------------------------------- report form
  function openReportForm({ enterprise_id = null, enterprise_name = null } = {}) {
    s.form = {
      id: newId(),
      enterprise_id, enterprise_name, geometry: null, district_code: null,
      level: 'general', rule_item: '', source: 'inspection', description: '',
      found_date: chinaToday(), deadline: '', responsible_person: '', measures: '', funds_cny: '',
      error: null, busy: false,
    };
    setPicking(false);
    ctx.showPanel('danger-form');
    loadLifecycle().then(() => { if (ctx.state.panelView === 'danger-form') ctx.rerender(); }).catch((err) => console.warn('lifecycle', err));
  }

  function newId() {
    const d = chinaToday().replaceAll('-', '');
    return `hd-${d}-${Math.random().toString(36).slice(2, 8)}`;
  }

  function renderForm(el) {
    const f = s.form;
    if (!f) { el.innerHTML = ''; return; }
    const items = s.lifecycle?.items ?? [];
    const where = f.enterprise_id
      ? `<span id="danger-form-enterprise" data-enterprise="${esc(f.enterprise_id)}">${esc(f.enterprise_name ?? f.enterprise_id)} <code>${esc(f.enterprise_id)}</code></span>`
      : f.geometry
        ? `<span id="danger-form-place">${esc(t('publicPlace'))} ${f.geometry.coordinates.map((v) => v.toFixed(5)).join(', ')}${f.district_code ? ` · ${esc(f.district_code)}` : ''}</span>`
        : `<span class="hint">${esc(t('pickWhere'))}</span>`;
    el.innerHTML = `
      <h3>${esc(t('reportDanger'))}</h3>
      <form id="danger-form" autocomplete="off" novalidate>
        <div class="df-where">${esc(t('dangerWhere'))}: ${where}
          <button type="button" id="danger-form-pick" class="${s.picking ? 'active' : ''}">${esc(s.picking ? t('pickingOnMap') : t('pickOnMap'))}</button></div>
        <label>${esc(t('dangerLevel'))}
          <select id="danger-form-level" data-field="level">
            <option value="general"${f.level === 'general' ? ' selected' : ''}>${esc(t('dlevel_general'))}</option>
            <option value="major"${f.level === 'major' ? ' selected' : ''}>${esc(t('dlevel_major'))}</option>
          </select></label>
        <label id="danger-form-rule-label"${f.level === 'major' ? '' : ' hidden'}>${esc(t('ruleItem'))} <em>*</em>
          <select id="danger-form-rule" data-field="rule_item"${f.level === 'major' ? ' required' : ''}>
            <option value="">${esc(t('chooseRuleItem'))}</option>
            ${items.map((i) => `<option value="${esc(i.id)}"${f.rule_item === i.id ? ' selected' : ''}>${esc(i.id)} ${esc(i.zh)}</option>`).join('')}
          </select></label>
        <label>${esc(t('dangerSource'))}
          <select id="danger-form-source" data-field="source">${SOURCES_OF_DANGER.map((x) => `<option value="${x}"${f.source === x ? ' selected' : ''}>${esc(t('source_' + x))}</option>`).join('')}</select></label>
        <label>${esc(t('description'))} <em>*</em> <textarea id="danger-form-description" data-field="description" rows="2" required>${esc(f.description)}</textarea></label>
        <div class="df-row">
          <label>${esc(t('foundDate'))} <em>*</em> <input type="date" id="danger-form-found" data-field="found_date" value="${esc(f.found_date)}" required></label>
          <label>${esc(t('deadline'))} <input type="date" id="danger-form-deadline" data-field="deadline" value="${esc(f.deadline)}"></label>
        </div>
        <label>${esc(t('responsiblePerson'))} <input id="danger-form-person" data-field="responsible_person" value="${esc(f.responsible_person)}"></label>
        <label>${esc(t('measures'))} <textarea id="danger-form-measures" data-field="measures" rows="2">${esc(f.measures)}</textarea></label>
        <label>${esc(t('funds'))} <input type="number" min="0" step="any" id="danger-form-funds" data-field="funds_cny" value="${esc(f.funds_cny)}"></label>
        <div class="df-actions"><button type="submit" id="danger-form-submit"${f.busy ? ' disabled' : ''}>${esc(t('submitReport'))}</button>
          <button type="button" id="danger-form-cancel">${esc(t('cancel'))}</button></div>
        ${f.error ? `<div id="danger-form-error" class="error-box" data-status="${esc(f.error.status)}"><p>${esc(f.error.text)}</p></div>` : ''}
      </form>`;
    const form = el.querySelector('#danger-form');
    form.querySelectorAll('[data-field]').forEach((x) => {
      const h = () => { f[x.dataset.field] = x.value; };
      x.addEventListener('input', h);
      x.addEventListener('change', h);
    });
    form.querySelector('#danger-form-level').addEventListener('change', () => ctx.rerender());
    form.querySelector('#danger-form-pick').addEventListener('click', () => setPicking(!s.picking));
    form.querySelector('#danger-form-cancel').addEventListener('click', () => {
      setPicking(false);
      s.form = null;
      if (f.enterprise_id) ctx.openEnterprise(f.enterprise_id); else ctx.showPanel(null);
    });
    form.addEventListener('submit', (e) => { e.preventDefault(); submitReport(); });
  }

  function setPicking(on) {
    s.picking = Boolean(on);
    map.getCanvas().style.cursor = s.picking ? 'crosshair' : '';
    if (ctx.state.panelView === 'danger-form') ctx.rerender();
  }

  /** Map click while picking: an enterprise under the cursor, else a public place. True when taken. */
  function onMapClick(e) {
    if (!s.picking || !s.form) return false;
    const pad = 3;
    const box = [[e.point.x - pad, e.point.y - pad], [e.point.x + pad, e.point.y + pad]];
    const layers = (map.getStyle().layers ?? []).filter((l) => l.source === 'enterprises' && l.type !== 'line').map((l) => l.id);
    const ent = map.queryRenderedFeatures(box, { layers }).find((x) => !x.properties?.aggregated && x.properties?.id);
    const f = s.form;
    if (ent) {
      f.enterprise_id = String(ent.properties.id);
      f.enterprise_name = ent.properties.name ?? null;
      f.geometry = null;
      f.district_code = null;
    } else {
      f.enterprise_id = null;
      f.enterprise_name = null;
      f.geometry = { type: 'Point', coordinates: [e.lngLat.lng, e.lngLat.lat] };
      const dl = (map.getStyle().layers ?? []).filter((l) => l.source === 'districts' && l.type === 'fill').map((l) => l.id);
      const district = dl.length ? map.queryRenderedFeatures(e.point, { layers: dl }).find((x) => x.properties?.code) : null;
      f.district_code = district ? String(district.properties.code) : null;
    }
    setPicking(false);
    return true;
  }

  function onMouseMove() {
    if (!s.picking) return false;
    map.getCanvas().style.cursor = 'crosshair';
    return true;
  }

  function buildFeature(f) {
    const props = {
      level: f.level, source: f.source, description: f.description.trim(), found_date: f.found_date,
    };
    if (f.enterprise_id) props.enterprise_id = f.enterprise_id;
    if (!f.enterprise_id && f.district_code) props.district_code = f.district_code;
    if (f.level === 'major' && f.rule_item) props.rule_item = f.rule_item;
    if (f.deadline) props.deadline = f.deadline;
    if (f.responsible_person.trim()) props.responsible_person = f.responsible_person.trim();
    if (f.measures.trim()) props.measures = f.measures.trim();
    if (String(f.funds_cny).trim() !== '') {
      const n = Number(f.funds_cny);
      props.funds_cny = Number.isFinite(n) ? n : f.funds_cny; // let the server name a bad value
    }
    return { type: 'Feature', id: f.id, geometry: f.enterprise_id ? null : f.geometry, properties: props };
  }

  async function submitReport() {
    const f = s.form;
    if (!f || f.busy) return;
    const missing = [];
    if (!f.enterprise_id && !f.geometry) missing.push(t('dangerWhere'));
    if (f.level === 'major' && !f.rule_item) missing.push(t('ruleItem'));
    if (!f.description.trim()) missing.push(t('description'));
    if (!f.found_date) missing.push(t('foundDate'));
    if (missing.length) {
      f.error = { status: 'form', text: `${t('required')}: ${missing.join('、')}` };
      ctx.rerender();
      return;
    }
    f.busy = true;
    f.error = null;
    ctx.rerender();
    let ok = false;
    try {
      const res = await fetch('/collections/hidden_dangers/items', {
        method: 'POST',
        headers: ctx.auth.headers({ 'Content-Type': 'application/geo+json', Accept: 'application/json' }),
        body: JSON.stringify(buildFeature(f)),
      });
      if (res.ok) ok = true;
      else f.error = { status: res.status, text: `HTTP ${res.status}: ${await errorText(res)}` };
    } catch (err) {
      f.error = { status: 0, text: String(err) };
    }
    f.busy = false;
    if (!ok) { if (s.form === f) ctx.rerender(); return; }
    s.form = null;
    const written = ctx.afterWrite({ enterprise_id: f.enterprise_id, danger_id: f.id });
    await openDanger(f.id);
    await written;
  }

  // ------------------------------------------------------------ statistics
  async function loadStats(group = s.statsGroup) {
    s.statsGroup = group;
    const seq = ++s.seq;
    try {
      const st = await ctx.getJson(`/api/stats/hidden-dangers?group_by=${encodeURIComponent(group)}`);
      if (seq !== s.seq) return;
      s.stats = st;
      s.statsError = null;
    } catch (err) {
      if (seq !== s.seq) return;
      s.statsError = err.status ?? 0;
    }
    renderStats();
  }

  function groupLabel(key) {
    const g = s.statsGroup;
    if (key === '(none)') return t('noneGroup');
    if (g === 'district') return ctx.districtName?.(key) ?? key;
    if (g === 'level') return t('dlevel_' + key);
    if (g === 'status') return stateName(key);
    if (g === 'source') return t('source_' + key);
    return key;
  }

  function renderStats() {
    const box = $('#danger-stats-chart');
    const sel = $('#danger-stats-group');
    if (sel) {
      sel.innerHTML = GROUPS.map((g) => `<option value="${g}"${g === s.statsGroup ? ' selected' : ''}>${esc(t('groupBy_' + g))}</option>`).join('');
    }
    if (!box) return;
    if (s.statsError !== null && s.statsError !== undefined) { box.innerHTML = `<p class="hint">${esc(t('errorOther'))} (HTTP ${esc(s.statsError)})</p>`; return; }
    const groups = s.stats?.groups ?? [];
    if (!s.stats) { box.innerHTML = `<p class="hint">${esc(t('loading'))}</p>`; return; }
    if (!groups.length) { box.innerHTML = `<p class="hint">${esc(t('none'))}</p>`; return; }
    const W = 246, labelW = 62, barW = 110, rowH = 20;
    const max = Math.max(1, ...groups.map((g) => g.count));
    const segs = [
      ['closed', DANGER_COLOURS.closed, (g) => g.closed],
      ['open', DANGER_COLOURS.open, (g) => g.open - g.overdue],
      ['overdue', OVERDUE_COLOUR, (g) => g.overdue],
      ['rejected', DANGER_COLOURS.rejected, (g) => g.rejected],
    ];
    const rows = groups.map((g, i) => {
      const y = i * rowH + 4;
      let x = labelW;
      const bars = segs.map(([k, c, f]) => {
        const n = Math.max(0, f(g) ?? 0);
        const w = (n / max) * barW;
        const r = n ? `<rect data-seg="${k}" x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${c}"><title>${esc(t('seg_' + k))}: ${n}</title></rect>` : '';
        x += w;
        return r;
      }).join('');
      const label = groupLabel(g.key);
      // Fit the label column: about 5 CJK or 9 Latin characters at 11 px.
      const short = (x) => { const max = /[^\x00-\x7f]/.test(x) ? 5 : 9; return x.length > max ? `${x.slice(0, max - 1)}…` : x; };
      return `<g data-key="${esc(g.key)}" data-count="${g.count}" data-rate="${g.rectification_rate ?? ''}"><text x="${labelW - 4}" y="${y + rowH - 9}" text-anchor="end"><title>${esc(label)}</title>${esc(short(label))}</text>${bars}<text x="${(x + 3).toFixed(1)}" y="${y + rowH - 9}">${g.count} · ${esc(pct(g.rectification_rate))}</text></g>`;
    }).join('');
    const legend = segs.map(([k, c]) => `<span><span class="swatch" style="background:${c}"></span>${esc(t('seg_' + k))}</span>`).join(' ');
    const tot = s.stats.total;
    const total = tot ? `<p id="danger-stats-total" data-rate="${tot.rectification_rate ?? ''}">${esc(fill(t('dangerStatsTotal'), {
      count: tot.count, major: tot.major, open: tot.open, overdue: tot.overdue, rate: pct(tot.rectification_rate),
      median: tot.median_days_to_close === null || tot.median_days_to_close === undefined ? '—' : String(Math.round(tot.median_days_to_close * 10) / 10),
    }))}</p>` : '';
    box.innerHTML = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${groups.length * rowH + 8}" role="img" aria-label="${esc(t('dangerStats'))}">${rows}</svg>
      <div class="danger-stats-legend">${legend}</div><p class="hint">${esc(t('rateHint'))}</p>${total}`;
  }

  $('#danger-stats-group')?.addEventListener('change', (e) => loadStats(e.target.value));

  // Clicks inside the panel (delegated: the panel is re-rendered often).
  $('#panel-body').addEventListener('click', (e) => {
    const open = e.target.closest('[data-open-danger]');
    if (open) { openDanger(open.dataset.openDanger); return; }
    const rep = e.target.closest('#danger-report-button');
    if (rep) {
      const sel = ctx.state.selected;
      openReportForm({ enterprise_id: rep.dataset.enterprise, enterprise_name: sel?.id === rep.dataset.enterprise ? (sel.properties?.name ?? sel.dangers?.name) : null });
      return;
    }
    const ent = e.target.closest('[data-open-enterprise]');
    if (ent) ctx.openEnterprise(ent.dataset.openEnterprise);
  });
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape' && s.picking) setPicking(false); });

  return {
    state: s, addLayers, reloadGeoJson, renderLegend, loadForEnterprise, enterpriseHtml, openDanger, renderDetail,
    openReportForm, renderForm, onMapClick, onMouseMove, loadStats, renderStats, loadLifecycle, setPicking,
  };
}
