// "What changed since" (变化情况): a date input (default 7 days ago, China
// time), GET /api/changes?since=…, the changes listed in the sidebar (levels
// old → new with the reason, violations new and cleared, hidden dangers
// opened and closed, edits), and a ring on the map around each changed
// feature. Clicking an item flies there and opens its explanation.
import './changes.css';
import { esc, fill } from './util.js';

const SEVERITY = { blue: 1, yellow: 2, orange: 3, red: 4 };
/** Ring colours per kind of change. */
export const RING_COLOURS = {
  up: '#B71C1C', down: '#2E7D32', violation_new: '#6A1B9A', violation_cleared: '#78909C',
  danger_opened: '#E65100', danger_closed: '#00897B', edit: '#37474F',
};
/** Collections the map can explain (`/api/risk`). */
const EXPLAINED = new Set(['enterprises', 'parks', 'pipelines', 'districts', 'risk_grid']);
/** Items listed per group, at most (the answer has them all). */
const SHOWN = 200;
const EMPTY = { type: 'FeatureCollection', features: [] };

/** `YYYY-MM-DD` in China time (UTC+8), `days` before now. */
export function chinaDate(daysAgo = 0, now = Date.now()) {
  return new Date(now + 8 * 3600e3 - daysAgo * 86400e3).toISOString().slice(0, 10);
}

function centre(bbox) {
  return Array.isArray(bbox) && bbox.length === 4 ? [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2] : null;
}

function levelKind(item) {
  return (SEVERITY[item.new] ?? 0) > (SEVERITY[item.old] ?? 0) ? 'up' : 'down';
}

/**
 * ctx: { map, t, getJson, openFeature(collection, id, properties) }.
 * Returns { render } (call it when the language changes).
 */
export function createChanges(ctx) {
  const { map, t } = ctx;
  const s = { since: chinaDate(7), data: null, error: null, loading: false, seq: 0 };

  const section = document.createElement('section');
  section.id = 'changes';
  const anchor = document.querySelector('#export');
  anchor?.parentNode?.insertBefore(section, anchor);

  function groups() {
    const d = s.data;
    if (!d) return [];
    return [
      ['levels', d.levels.map((x) => ({ ...x, ring: levelKind(x) }))],
      ['violationsNew', d.violations.new.map((x) => ({ ...x, ring: 'violation_new' }))],
      ['violationsCleared', d.violations.cleared.map((x) => ({ ...x, ring: 'violation_cleared' }))],
      ['dangersOpened', d.dangers.opened.map((x) => ({ ...x, ring: 'danger_opened' }))],
      ['dangersClosed', d.dangers.closed.map((x) => ({ ...x, ring: 'danger_closed' }))],
      ['edits', d.edits.map((x) => ({ ...x, ring: 'edit' }))],
    ];
  }

  function lvl(v) { return v ? t(v) : t('changesNoLevel'); }
  function when(at) { return at ? new Date(at).toLocaleString(document.documentElement.lang) : ''; }
  function cause(c) {
    if (!c) return '';
    if (c.kind === 'day') return fill(t('changesDayRollover'), { date: c.date });
    const who = c.actor ? ` · ${c.actor}` : '';
    return `${c.action} ${c.collection}/${(c.ids ?? []).join(', ')}${c.count > (c.ids ?? []).length ? ' …' : ''}${who}`;
  }

  function itemHtml(group, x, i) {
    const head = (() => {
      switch (group) {
        case 'levels':
          return `<b>${esc(x.name ?? x.id)}</b> <span class="chg-col">${esc(x.collection)}</span><br>${esc(lvl(x.old))} → <b>${esc(lvl(x.new))}</b>
            <div class="chg-reason">${esc(x.reason)}</div><div class="chg-cause">${esc(cause(x.cause))}</div>`;
        case 'violationsNew':
        case 'violationsCleared':
          return `<b>${esc(x.name ?? x.target_id)}</b> ← ${esc(x.site_name ?? x.site_id)}<br>
            ${esc(x.target_class)} · ${esc(x.distance_m)} m / ${esc(x.required_distance_m)} m
            <div class="chg-cause">${esc(cause(x.cause))}</div>`;
        case 'dangersOpened':
        case 'dangersClosed':
          return `<b>${esc(x.id)}</b> ${esc(x.level ?? '')} · ${esc(x.from ?? '—')} → ${esc(x.status ?? '—')}
            <div class="chg-reason">${esc(x.description ?? '')}</div>${x.actor ? `<div class="chg-cause">${esc(x.actor)}</div>` : ''}`;
        default:
          return `${esc(x.action)} <b>${esc(x.collection)}/${esc(x.id ?? '*')}</b>${x.actor ? ` · ${esc(x.actor)}` : ''}`;
      }
    })();
    const dot = `<span class="chg-dot" style="border-color:${RING_COLOURS[x.ring]}"></span>`;
    return `<li data-group="${group}" data-index="${i}">${dot}<div>${head}<div class="chg-at">${esc(when(x.at))}</div></div></li>`;
  }

  function render() {
    const gs = groups();
    const total = gs.reduce((n, [, xs]) => n + xs.length, 0);
    let body = '';
    if (s.loading) body = `<p class="hint">${esc(t('loading'))}</p>`;
    else if (s.error) body = `<p class="chg-error">${esc(t('changesError'))} ${esc(s.error)}</p>`;
    else if (s.data && !total) body = `<p class="hint">${esc(t('changesNone'))}</p>`;
    else if (s.data) {
      body = gs.filter(([, xs]) => xs.length).map(([g, xs]) => `
        <details${g === 'edits' ? '' : ' open'}><summary>${esc(t('changes_' + g))} (${xs.length})</summary>
        <ul class="chg-list">${xs.slice(0, SHOWN).map((x, i) => itemHtml(g, x, i)).join('')}</ul></details>`).join('');
      if (s.data.truncated) body += `<p class="hint">${esc(t('changesTruncated'))}</p>`;
    }
    section.innerHTML = `
      <h2>${esc(t('changesTitle'))}</h2>
      <form id="changes-form" class="chg-form">
        <label>${esc(t('changesSince'))} <input type="date" id="changes-since" value="${esc(s.since)}" max="${chinaDate(0)}" required></label>
        <button type="submit" id="changes-run">${esc(t('changesShow'))}</button>
        <button type="button" id="changes-clear"${s.data ? '' : ' disabled'}>${esc(t('changesClear'))}</button>
      </form>
      <div id="changes-result" aria-live="polite">${body}</div>`;
    section.querySelector('#changes-form').addEventListener('submit', (e) => {
      e.preventDefault();
      s.since = section.querySelector('#changes-since').value || s.since;
      load();
    });
    section.querySelector('#changes-clear').addEventListener('click', () => { s.data = null; s.error = null; draw(); render(); });
    section.querySelectorAll('#changes-result li').forEach((li) => li.addEventListener('click', () => {
      const xs = groups().find(([g]) => g === li.dataset.group)?.[1] ?? [];
      focus(li.dataset.group, xs[Number(li.dataset.index)]);
    }));
  }

  function focus(group, x) {
    if (!x) return;
    // The panel opens first, so the map has its size beside the panel before it flies.
    if (group === 'levels') {
      const [collection, id] = x.collection === 'pipeline_segments' ? ['pipelines', String(x.id).split('#')[0]] : [x.collection, x.id];
      if (EXPLAINED.has(collection)) ctx.openFeature(collection, id, { id, name: x.name });
    } else if (group.startsWith('violations')) {
      ctx.openFeature('enterprises', x.site_id, { id: x.site_id, name: x.site_name });
    }
    const c = centre(x.bbox);
    if (c) map.flyTo({ center: c, zoom: Math.max(map.getZoom(), 14) });
  }

  function features() {
    const out = [];
    for (const [, xs] of groups()) {
      for (const x of xs) {
        const c = centre(x.bbox);
        if (c) out.push({ type: 'Feature', geometry: { type: 'Point', coordinates: c }, properties: { ring: x.ring, id: String(x.id ?? '') } });
      }
    }
    return { type: 'FeatureCollection', features: out };
  }

  // Set on the map's 'load'. Not map.isStyleLoaded(): that is false while any
  // source still loads tiles, and the rings were then never drawn.
  let ready = false;
  function ensureLayer() {
    if (!ready || map.getSource('changes')) return Boolean(map.getSource('changes'));
    map.addSource('changes', { type: 'geojson', data: EMPTY });
    map.addLayer({
      id: 'changes-ring',
      type: 'circle',
      source: 'changes',
      paint: {
        'circle-radius': ['match', ['get', 'ring'], 'edit', 8, 13],
        'circle-color': 'rgba(0,0,0,0)',
        'circle-stroke-width': ['match', ['get', 'ring'], 'edit', 1.5, 3],
        'circle-stroke-color': ['match', ['get', 'ring'], ...Object.entries(RING_COLOURS).flat(), '#000000'],
      },
    });
    return true;
  }

  function draw() {
    if (ensureLayer()) map.getSource('changes').setData(s.data ? features() : EMPTY);
  }

  async function load() {
    const seq = ++s.seq;
    s.loading = true; s.error = null;
    render();
    try {
      const data = await ctx.getJson(`/api/changes?since=${encodeURIComponent(s.since)}`);
      if (seq !== s.seq) return;
      s.data = data;
    } catch (err) {
      if (seq !== s.seq) return;
      s.data = null;
      s.error = err.message;
    }
    s.loading = false;
    draw();
    render();
  }

  map.on('load', () => { ready = true; ensureLayer(); draw(); });
  render();
  if (ctx.state) ctx.state.changes = s;
  return { render, load, state: s };
}
