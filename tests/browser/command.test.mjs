// Browser test of the emergency-command view (应急指挥) end to end: sign in
// as a regulator through the form, open the command view from the toolbar,
// pick a demo enterprise's chlorine (液氯, CAS 7782-50-5) unit through the
// search, enter a wind and report the incident (worst credible case); the
// zones are drawn (rendered features and canvas pixels) and the panel's
// counts equal what POST /api/incidents/assess answers for the same
// request; a wind change is sent with PATCH and the panel and map follow
// the incident's Server-Sent Events, the zones turning with the wind; the
// printable brief (/?incident=<id>) is saved as A4 PDF and PNG; the
// incident is closed from the list; signed out, an assessment is not
// stored and a bad field's 400 is shown verbatim; nothing leaves the
// server.
//
//   cargo build --bin riskmap && cd tests/browser && npm ci && node --test
//
// Env: RISKMAP_BIN (default target/debug/riskmap), CHROMIUM (default
// /usr/bin/chromium). Output goes to test-output/browser/ (incident-*.png,
// incident-brief.pdf, incident-brief.png).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = process.env.RISKMAP_BIN ?? join(repo, 'target/debug/riskmap');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const out = join(repo, 'test-output/browser');
const TOKEN = `browser-cmd-${process.pid}-${Date.now().toString(36)}`;
const CHLORINE = '7782-50-5';
const ZONE_RGB = { red: [255, 0, 0], orange: [0xed, 0x7d, 0x31], yellow: [255, 255, 0] };
const FILL_OPACITY = 0.4; // cmd-zones-fill in incident.js

let server;
let base;
let tmp;
let context;
let page;
const requests = [];
const pageErrors = [];

function startServer(dataDir) {
  const s = serve(bin, ['--data-dir', dataDir, '--admin-token', TOKEN]);
  server = s.child;
  return s.ready;
}

async function api(path, { method = 'GET', body, auth = false } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth) headers.Authorization = `Bearer ${TOKEN}`;
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: json, text };
}

async function idle(p = page) {
  await p.waitForFunction(() => window.__map !== undefined, null, { timeout: 60_000 });
  await p.evaluate(() => new Promise((res) => {
    const m = window.__map;
    if (m.loaded() && m.areTilesLoaded() && !m.isMoving()) res();
    else m.once('idle', () => res());
  }));
}

/** Fits the map to [w, s, e, n] and waits until it is drawn. */
async function fitAndIdle(b) {
  await page.evaluate((bb) => new Promise((res) => {
    const m = window.__map;
    m.once('idle', () => res());
    m.fitBounds([[bb[0], bb[1]], [bb[2], bb[3]]], { padding: 40, duration: 0 });
    m.triggerRepaint();
  }), b);
}

/** The canvas's pixels at lon/lats, [[r, g, b], …]. */
async function pixelsAt(lonlats) {
  return page.evaluate((lls) => {
    const m = window.__map;
    const src = m.getCanvas();
    const dpr = src.width / src.clientWidth;
    const c = document.createElement('canvas');
    c.width = src.width; c.height = src.height;
    const g = c.getContext('2d');
    g.drawImage(src, 0, 0);
    return lls.map((ll) => {
      const { x, y } = m.project(ll);
      return [...g.getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data].slice(0, 3);
    });
  }, lonlats);
}

async function setCommandLayers(visible) {
  await page.evaluate((v) => new Promise((res) => {
    const m = window.__map;
    for (const l of m.getStyle().layers) if (l.id.startsWith('cmd-')) m.setLayoutProperty(l.id, 'visibility', v ? 'visible' : 'none');
    m.once('idle', () => res());
    m.triggerRepaint();
  }), visible);
}

// ------------------------------------------------------------- geometry
function inRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
const insidePolygon = (pt, g) => g.type === 'Polygon' && inRing(pt, g.coordinates[0]) && !g.coordinates.slice(1).some((h) => inRing(pt, h));

function bboxOf(geoms) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') { b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]); } else c.forEach(walk);
  };
  geoms.forEach((g) => walk(g.coordinates));
  return b;
}

/** Bearing (degrees from north) from `a` to `b`, both [lon, lat], in a local flat frame. */
function bearing(a, b) {
  const dx = (b[0] - a[0]) * Math.cos((a[1] * Math.PI) / 180);
  const dy = b[1] - a[1];
  return ((Math.atan2(dx, dy) * 180) / Math.PI + 360) % 360;
}
const angleDiff = (x, y) => Math.abs(((x - y + 540) % 360) - 180);

/** [lon, lat] `d` metres from `p` toward `deg`. */
function offset([lon, lat], deg, d) {
  const R = 6371008.8;
  const r = (deg * Math.PI) / 180;
  return [lon + ((d * Math.sin(r)) / (R * Math.cos((lat * Math.PI) / 180))) * (180 / Math.PI), lat + ((d * Math.cos(r)) / R) * (180 / Math.PI)];
}

const threatZones = (a) => a.zones_geojson.features.filter((f) => f.properties.kind === 'threat_zone');

/** The panel's zones, as the DOM shows them. */
async function panelZones(p = page) {
  return p.$$eval('#cmd-zones .cmd-zone', (els) => els.map((e) => ({
    colour: e.dataset.colour,
    hazard: e.dataset.hazard,
    population: Number(e.dataset.population),
    targets: Number(e.dataset.targets),
    pipelines: Number(e.dataset.pipelines),
    sites: Number(e.dataset.sites),
    people: Number(e.querySelector('.cmd-people').textContent),
    ids: [...e.querySelectorAll('.cmd-targets li[data-id]')].map((li) => li.dataset.id),
  })));
}

/** The panel shows what the API answers for the same request: zones, who is inside, help. */
async function assertPanelMatches(answer, what) {
  const zones = await panelZones();
  const tz = threatZones(answer);
  assert.equal(zones.length, tz.length, `${what}: one panel entry per threat zone`);
  tz.forEach((f, i) => {
    const ins = answer.inside[i];
    const z = zones[i];
    assert.equal(z.colour, f.properties.colour, `${what}: zone ${i} colour`);
    assert.equal(z.population, ins.population, `${what}: ${z.colour} population`);
    assert.equal(z.people, ins.population, `${what}: ${z.colour} people shown`);
    assert.equal(z.targets, ins.targets.length, `${what}: ${z.colour} targets`);
    assert.equal(z.pipelines, ins.pipelines.length, `${what}: ${z.colour} pipelines`);
    assert.equal(z.sites, ins.hazardous_sites.length, `${what}: ${z.colour} hazardous sites`);
    assert.deepEqual(z.ids, ins.targets.slice(0, 12).map((x) => x.id), `${what}: ${z.colour} targets in the API's order (vulnerable first)`);
  });
  const teams = await page.$$eval('#cmd-teams tbody tr', (trs) => trs.map((tr) => ({ id: tr.dataset.id, basis: tr.dataset.basis })));
  assert.deepEqual(teams.map((x) => x.id), answer.help.teams.map((x) => x.id), `${what}: teams by arrival`);
  const straight = !/^road/i.test(answer.help.distance_basis);
  for (const [i, x] of teams.entries()) {
    const basis = answer.help.teams[i].distance_basis ?? (answer.help.teams[i].route ? 'road' : (straight ? 'straight_line' : 'road'));
    assert.equal(x.basis, basis, `${what}: team ${x.id} distance basis`);
  }
  const depots = await page.$$eval('#cmd-depots tbody tr', (trs) => trs.map((tr) => tr.dataset.id));
  assert.deepEqual(depots, answer.help.depots.map((x) => x.id), `${what}: depots`);
  const shelters = await page.$$eval('#cmd-shelters tbody tr', (trs) => trs.map((tr) => [tr.dataset.id, Number(tr.dataset.assigned), Number(tr.dataset.capacity)]));
  assert.deepEqual(shelters, answer.help.shelters.slice(0, 10).map((x) => [x.id, x.assigned, x.capacity_persons]), `${what}: shelters with assigned/capacity`);
  assert.equal(Number(await page.$eval('#cmd-unassigned', (e) => e.textContent)), answer.help.unassigned, `${what}: unassigned`);
  const basis = await page.$eval('#cmd-basis', (e) => e.textContent);
  assert.ok(basis.includes(answer.release_basis), `${what}: release basis shown`);
  assert.ok(basis.includes(answer.toxic.model), `${what}: model shown`);
  assert.ok(basis.includes(answer.stability_basis), `${what}: stability basis shown`);
  const notes = await page.$$eval('#cmd-notes li', (lis) => lis.map((li) => li.textContent));
  assert.deepEqual(notes, answer.notes, `${what}: notes`);
}

/** The rendered red zone's vertex centre and the colours of the zones drawn. */
async function renderedZones() {
  return page.evaluate(() => {
    const m = window.__map;
    const feats = m.queryRenderedFeatures({ layers: ['cmd-zones-fill'] });
    const colours = [...new Set(feats.map((f) => f.properties.colour))].sort();
    const pts = [];
    for (const f of feats.filter((x) => x.properties.colour === 'red')) {
      const walk = (c) => { if (typeof c[0] === 'number') pts.push(c); else c.forEach(walk); };
      walk(f.geometry.coordinates);
    }
    const centre = pts.length ? [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length] : null;
    return { colours, centre, count: feats.length };
  });
}

/** Expected colour of a point inside the red zone: the yellow, orange and red fills over what was under them. */
function composed(under) {
  let c = under;
  for (const z of ['yellow', 'orange', 'red']) c = c.map((v, i) => v * (1 - FILL_OPACITY) + ZONE_RGB[z][i] * FILL_OPACITY);
  return c;
}

/**
 * Samples points on the red zone's axis (30–70 % of its reach) that lie in
 * the red polygon, and checks the canvas there: the zone fills over what is
 * drawn without them.
 */
async function checkZonePixels(answer, what) {
  const red = threatZones(answer).find((f) => f.properties.colour === 'red');
  const reach = red.properties.reach.distance_m ?? red.properties.reach.max_distance_m;
  const samples = [];
  for (let k = 3; k <= 7; k += 1) {
    const pt = offset(answer.source, answer.toxic.downwind_deg, (reach * k) / 10);
    if (insidePolygon(pt, red.geometry)) samples.push(pt);
  }
  assert.ok(samples.length >= 3, `${what}: points inside the red zone on its axis`);
  await setCommandLayers(false);
  const under = await pixelsAt(samples);
  await setCommandLayers(true);
  const drawn = await pixelsAt(samples);
  const good = samples.filter((_, i) => composed(under[i]).every((v, j) => Math.abs(v - drawn[i][j]) <= 24));
  console.log(`${what}: ${good.length}/${samples.length} red-zone pixels as filled (e.g. ${under[0]} → ${drawn[0]})`);
  assert.ok(good.length >= Math.ceil(samples.length * 0.6), `${what}: the red, orange and yellow fills drawn at the zone: ${JSON.stringify({ under, drawn })}`);
}

before(async () => {
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: apt-get install chromium`);
  assert.ok(existsSync(bin), `${bin} is missing: run cargo build first`);
  mkdirSync(out, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'riskmap-command-'));
  base = (await startServer(join(tmp, 'data'))).url;
  console.log(`server at ${base}`);
  context = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1500, height: 950 },
    args: [
      '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    ],
  });
  context.on('request', (r) => requests.push(r.url()));
  page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') console.error('[browser]', m.text()); });
});

after(async () => {
  await context?.close().catch(() => {});
  if (server && server.exitCode === null) server.kill('SIGTERM');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

let site; // the enterprise feature
let unitId;
let request; // the request the UI sent, as the test expects it
let incidentId;
let first; // the API's answer for the first request

test('sign in as a regulator and open the command view', { timeout: 120_000 }, async () => {
  const name = 'browser-commander';
  const password = `pw-${TOKEN}`;
  const made = await api('/api/accounts', { method: 'POST', auth: true, body: { name, role: 'regulator', districts: ['33'], password } });
  assert.ok(made.status === 200 || made.status === 201, `account created: ${made.status} ${made.text}`);
  await page.goto(`${base}/`);
  await idle();
  await page.click('#auth-open');
  await page.fill('#auth-name', name);
  await page.fill('#auth-password', password);
  await page.click('#auth-submit');
  await page.waitForSelector('#auth-user[data-role="regulator"]', { timeout: 20_000 });
  assert.match(await page.$eval('#command-open', (b) => b.textContent), /应急指挥/);
  await page.click('#command-open');
  await page.waitForSelector('#command-panel:not([hidden]) #command-form #cmd-run', { timeout: 10_000 });
  assert.equal(await page.$eval('#cmd-run', (b) => b.dataset.action), 'create', 'a regulator reports and stores');
  await page.waitForSelector('#command-incidents p.hint, #cmd-incident-list', { timeout: 10_000 });
});

test('report a chlorine release at a demo unit; the zones are drawn and the panel equals the API', { timeout: 240_000 }, async () => {
  const ents = (await api('/collections/enterprises/items?limit=10000')).body.features;
  const weather = { wind_from_deg: 45, wind_speed_m_s: 3, time_of_day: 'day', cloud_cover_oktas: 4, terrain: 'urban' };
  // Of the demo units holding chlorine, the one whose worst credible case
  // ends its red zone within the range drawn (so the three zones differ)
  // with the most people inside it.
  const held = [];
  for (const e of ents) for (const u of e.properties.units ?? []) for (const x of u.substances ?? []) if (x.cas === CHLORINE) held.push({ e, u, t: x.quantity_t });
  assert.ok(held.length, 'a demo unit holds chlorine');
  let best = null;
  for (const h of held) {
    const a = (await api('/api/incidents/assess', { method: 'POST', body: { substance: CHLORINE, site_id: h.e.id, unit_id: h.u.id, ...weather } })).body;
    const red = a?.zones_geojson && threatZones(a).find((f) => f.properties.colour === 'red');
    if (red?.properties.reach.reach !== 'within') continue;
    const people = a.inside[threatZones(a).indexOf(red)].population;
    if (!best || people > best.people) best = { ...h, people };
  }
  assert.ok(best && best.people > 0, 'a chlorine unit whose red zone ends within the range and holds people');
  site = best.e;
  unitId = best.u.id;
  const held0 = best;
  console.log(`chlorine: ${site.id} ${site.properties.name}, unit ${unitId} (${best.t} t), ${best.people} people in the red zone`);

  // Pick it through the panel's search, then its unit and substance.
  await page.fill('#cmd-site-search', site.properties.name);
  await page.waitForSelector(`#cmd-site-results li[data-id="${site.id}"]`, { timeout: 10_000 });
  await page.click(`#cmd-site-results li[data-id="${site.id}"]`);
  await page.waitForSelector(`#cmd-site[data-site="${site.id}"] strong`, { timeout: 10_000 });
  const offered = await page.$$eval('#cmd-unit option', (os) => os.map((o) => o.value));
  assert.deepEqual(offered, site.properties.units.map((u) => u.id), 'the units of the site');
  await page.selectOption('#cmd-unit', unitId);
  const substances = await page.$$eval('#cmd-substance-select option', (os) => os.map((o) => o.value));
  assert.deepEqual(substances, held0.u.substances.map((x) => x.cas ?? x.name), 'the substances of the unit');
  await page.selectOption('#cmd-substance-select', CHLORINE);
  assert.equal(await page.$eval('#cmd-release', (s) => s.value), 'worst', 'the worst credible case by default');
  assert.match(await page.$eval('#cmd-worst-note', (p) => p.textContent), /最坏可信情景/);
  await page.fill('#cmd-wind-from', '45');
  assert.match(await page.$eval('#cmd-wind-hint', (p) => p.textContent), /东北/, 'compass hint for 45°');
  await page.fill('#cmd-wind-speed', '3');
  await page.selectOption('#cmd-stability', 'daynight');
  await page.check('input[name="cmd-tod"][value="day"]');
  await page.fill('#cmd-cloud', '4');
  request = { substance: CHLORINE, site_id: site.id, unit_id: unitId, ...weather };

  await page.click('#cmd-run');
  await page.waitForSelector('#cmd-incident[data-status="open"][data-revision="1"]', { timeout: 60_000 });
  incidentId = await page.$eval('#cmd-incident', (e) => e.dataset.id);
  console.log(`reported ${incidentId}`);
  const stored = (await api(`/api/incidents/${incidentId}`)).body;
  assert.deepEqual(
    Object.fromEntries(Object.entries(stored.incident.request).filter(([, v]) => v !== null)),
    request,
    'the stored request is what was entered',
  );
  assert.equal(stored.incident.created_by, 'browser-commander');

  // The same request to the assessment (not stored) answers the same.
  const assessed = await api('/api/incidents/assess', { method: 'POST', body: request });
  assert.equal(assessed.status, 200, assessed.text);
  first = assessed.body;
  assert.match(first.release_basis, /worst credible case/);
  assert.equal(first.stability, 'C', 'day, 4/8 cloud, 3 m/s');
  await assertPanelMatches(first, 'first');
  const zones = threatZones(first);
  const drawnColours = zones.filter((f) => f.geometry).map((f) => f.properties.colour).sort();
  console.log(`zones: ${zones.map((f) => `${f.properties.zone_name} ${f.properties.colour} ${f.properties.population} people`).join('; ')}; teams ${first.help.teams.length}, shelters ${first.help.shelters.length}`);

  // Drawn: every zone with a footprint is rendered, and the fills are on the canvas.
  const b = bboxOf(first.zones_geojson.features.filter((f) => f.geometry).map((f) => f.geometry));
  await fitAndIdle(b);
  const r1 = await renderedZones();
  assert.deepEqual(r1.colours, [...new Set(drawnColours)].sort(), 'rendered zone colours');
  assert.ok(angleDiff(bearing(first.source, r1.centre), 225) < 20, `red zone downwind of a 45° wind: ${bearing(first.source, r1.centre).toFixed(1)}°`);
  await checkZonePixels(first, 'first');
  // The wind arrow, the source and the resource labels (DOM; the style has no glyphs).
  assert.equal(await page.$eval('.cmd-wind-label', (e) => e.dataset.windFrom), '45');
  const labels = await page.$$eval('.cmd-help-label', (els) => els.map((e) => ({ kind: e.dataset.kind, basis: e.dataset.basis, text: e.textContent })));
  assert.ok(labels.filter((l) => l.kind === 'team').length === first.help.teams.length, 'a label per team');
  if (!/^road/i.test(first.help.distance_basis)) {
    assert.ok(labels.every((l) => l.basis === 'straight_line' && l.text.includes('直线距离')), 'no road data: straight lines, labelled so');
    const dashed = await page.evaluate(() => window.__map.querySourceFeatures('cmd-routes').filter((f) => f.properties.basis === 'straight_line').length);
    assert.ok(dashed >= first.help.teams.length, `dashed straight lines drawn: ${dashed}`);
  }
  await page.screenshot({ path: join(out, 'incident-reported.png') });
});

test('a wind change goes out as PATCH; the panel and zones follow the Server-Sent Events', { timeout: 180_000 }, async () => {
  assert.ok(incidentId, 'an incident was reported');
  const eventsBefore = await page.evaluate(() => window.__riskmap.command.state.sseEvents);
  assert.ok(eventsBefore >= 1, 'the stream gave the zones once opened');
  assert.ok(requests.some((u) => u.endsWith(`/api/incidents/${incidentId}/events`)), 'the stream was opened');
  await page.fill('#cmd-wind-from', '135');
  assert.equal(await page.$eval('#cmd-run', (b) => b.dataset.action), 'patch');
  const patched = page.waitForResponse((r) => r.url().endsWith(`/api/incidents/${incidentId}`) && r.request().method() === 'PATCH');
  await page.click('#cmd-run');
  const res = await patched;
  assert.equal(res.status(), 200);
  assert.deepEqual(JSON.parse(res.request().postData()), { wind_from_deg: 135 }, 'only the changed field is sent');
  await page.waitForSelector('#cmd-incident[data-revision="2"]', { timeout: 30_000 });
  const eventsAfter = await page.evaluate(() => window.__riskmap.command.state.sseEvents);
  assert.ok(eventsAfter > eventsBefore, `the new zones came as an event (${eventsBefore} → ${eventsAfter})`);

  const second = (await api('/api/incidents/assess', { method: 'POST', body: { ...request, wind_from_deg: 135 } })).body;
  await assertPanelMatches(second, 'after the wind change');
  const b = bboxOf([...first.zones_geojson.features, ...second.zones_geojson.features].filter((f) => f.geometry).map((f) => f.geometry));
  await fitAndIdle(b);
  const r2 = await renderedZones();
  const turned = bearing(second.source, r2.centre);
  assert.ok(angleDiff(turned, 315) < 20, `red zone downwind of a 135° wind: ${turned.toFixed(1)}°`);
  assert.equal(await page.$eval('.cmd-wind-label', (e) => e.dataset.windFrom), '135');
  await checkZonePixels(second, 'after the wind change');
  await page.screenshot({ path: join(out, 'incident-wind-changed.png') });
});

test('the printable brief: map with zones and legend, wind, time, counts, resources, model; A4 PDF and PNG', { timeout: 300_000 }, async () => {
  assert.ok(incidentId, 'an incident was reported');
  const href = await page.$eval('#cmd-brief-link', (a) => a.getAttribute('href'));
  assert.equal(href, `/?incident=${encodeURIComponent(incidentId)}`);
  const [brief] = await Promise.all([context.waitForEvent('page', { timeout: 20_000 }), page.click('#cmd-brief-link')]);
  brief.on('pageerror', (e) => pageErrors.push(String(e)));
  try {
    await brief.setViewportSize({ width: 1100, height: 1400 });
    // The brief draws its own map (software WebGL, a debug server): give it time.
    await brief.waitForSelector(`#brief[data-ready="true"][data-id="${incidentId}"]`, { timeout: 180_000 });
    const now = (await api(`/api/incidents/${incidentId}`)).body;
    const sections = await brief.$$eval('#brief section[id]', (ss) => ss.map((s) => s.id));
    assert.deepEqual(sections, ['brief-map-section', 'brief-weather-section', 'brief-counts-section', 'brief-resources', 'brief-model']);
    // The map image: drawn, with the red fill in it.
    const img = await brief.$eval('#brief-map-img', (im) => {
      const c = document.createElement('canvas');
      c.width = im.naturalWidth; c.height = im.naturalHeight;
      const g = c.getContext('2d');
      g.drawImage(im, 0, 0);
      const d = g.getImageData(0, 0, c.width, c.height).data;
      let reddish = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] > 180 && d[i + 1] < 120 && d[i + 2] < 120) reddish += 1;
      return { w: im.naturalWidth, h: im.naturalHeight, reddish };
    });
    assert.ok(img.w >= 960 && img.h >= 600, `map image ${img.w}×${img.h}`);
    assert.ok(img.reddish > 500, `red zone fill in the map image: ${img.reddish} px`);
    const legend = await brief.$$eval('#brief-legend li[data-colour]', (lis) => lis.map((li) => li.dataset.colour));
    assert.deepEqual(legend, threatZones(now).map((f) => f.properties.colour), 'legend: one entry per zone');
    const weather = await brief.$eval('#brief-weather', (e) => e.textContent);
    assert.match(weather, /135°/);
    assert.match(weather, /3 m\/s/);
    assert.ok(weather.includes(now.stability_basis), 'stability basis in the brief');
    assert.match(await brief.$eval('#brief-times', (e) => e.textContent), new RegExp(`${incidentId}.*版本 2`));
    const counts = await brief.$$eval('#brief-counts tbody tr[data-colour]', (trs) => trs.map((tr) => [tr.dataset.colour, Number(tr.dataset.population), Number(tr.dataset.targets), Number(tr.dataset.pipelines), Number(tr.dataset.sites)]));
    assert.deepEqual(counts, threatZones(now).map((f, i) => [f.properties.colour, now.inside[i].population, now.inside[i].targets.length, now.inside[i].pipelines.length, now.inside[i].hazardous_sites.length]), 'counts per zone');
    const teams = await brief.$$eval('#cmd-teams tbody tr', (trs) => trs.map((tr) => tr.dataset.id));
    assert.deepEqual(teams, now.help.teams.map((x) => x.id), 'teams by arrival');
    const model = await brief.$eval('#brief-model', (e) => e.textContent);
    for (const s of [now.toxic.model, now.release_basis, ...now.help.assumptions, ...now.notes]) assert.ok(model.includes(s) || (await brief.$eval('#brief', (e) => e.textContent)).includes(s), `brief names: ${s}`);
    await brief.screenshot({ path: join(out, 'incident-brief.png'), fullPage: true });
    await brief.emulateMedia({ media: 'print' });
    assert.equal(await brief.$eval('#brief-tools', (e) => getComputedStyle(e).display), 'none');
    const pdf = join(out, 'incident-brief.pdf');
    await brief.pdf({ path: pdf, format: 'A4', printBackground: true });
    const bytes = readFileSync(pdf);
    assert.equal(bytes.subarray(0, 5).toString(), '%PDF-');
    const boxes = [...bytes.toString('latin1').matchAll(/\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.ok(boxes.length >= 1 && boxes.every(([w, h]) => Math.abs(w - 595.28) < 2 && Math.abs(h - 841.89) < 2), `A4 pages: ${JSON.stringify(boxes)}`);
    console.log(`brief: ${boxes.length} A4 page(s), ${statSync(pdf).size} bytes; map image ${img.w}×${img.h}`);
  } finally {
    await brief.close();
  }
});

test('the open incident is listed, reopened and closed', { timeout: 120_000 }, async () => {
  assert.ok(incidentId, 'an incident was reported');
  // A fresh map: the incident is in the register and opens again.
  await page.reload();
  await idle();
  await page.waitForSelector('#auth-user[data-role="regulator"]', { timeout: 20_000 });
  await page.click('#command-open');
  await page.waitForSelector(`#cmd-incident-list li[data-id="${incidentId}"]`, { timeout: 20_000 });
  await page.click(`#cmd-incident-list button[data-open="${incidentId}"]`);
  await page.waitForSelector(`#cmd-incident[data-id="${incidentId}"][data-revision="2"]`, { timeout: 30_000 });
  assert.equal(await page.$eval('#cmd-wind-from', (e) => e.value), '135', 'the form holds the incident\'s weather');
  assert.equal(await page.$eval('#cmd-run', (b) => b.dataset.action), 'patch');
  await page.waitForFunction(() => window.__riskmap.command.state.sseEvents >= 1, null, { timeout: 20_000 });
  await page.click(`#cmd-incident-list button[data-close="${incidentId}"]`);
  await page.waitForSelector(`#cmd-incident[data-id="${incidentId}"][data-status="closed"]`, { timeout: 20_000 });
  await page.waitForFunction((id) => !document.querySelector(`#cmd-incident-list li[data-id="${id}"]`), incidentId, { timeout: 20_000 });
  const closed = (await api(`/api/incidents/${incidentId}`)).body.incident;
  assert.equal(closed.status, 'closed');
  assert.ok(closed.closed_at);
  // A closed incident is not changed.
  const again = await api(`/api/incidents/${incidentId}`, { method: 'PATCH', auth: true, body: { wind_from_deg: 10 } });
  assert.equal(again.status, 409);
});

test('signed out: a point and a given release are assessed, not stored; a bad field is shown verbatim', { timeout: 300_000 }, async () => {
  const before = (await api('/api/incidents')).body.count;
  await page.click('#auth-logout');
  await page.waitForSelector('#auth-open', { timeout: 10_000 });
  if (await page.$('#cmd-new')) await page.click('#cmd-new'); // leave the closed incident
  assert.equal(await page.$eval('#cmd-run', (b) => b.dataset.action), 'assess');
  await page.check('input[name="cmd-mode"][value="point"]');
  assert.equal(await page.$eval('#cmd-release', (s) => s.value), 'continuous', 'a point has no inventory: a release is given');
  await page.click('#cmd-pick-point');
  const point = await page.evaluate(() => { const c = window.__map.getCenter(); return [c.lng, c.lat]; });
  const box = await page.$eval('#map', (m) => { const r = m.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; });
  await page.mouse.click(box.x, box.y);
  await page.waitForSelector('#cmd-point code', { timeout: 10_000 });
  const picked = (await page.$eval('#cmd-point code', (e) => e.textContent)).split(',').map(Number);
  assert.ok(Math.abs(picked[0] - point[0]) < 1e-3 && Math.abs(picked[1] - point[1]) < 1e-3, `picked ${picked} at the centre ${point}`);
  await page.fill('#cmd-substance', '氯气');
  await page.fill('#cmd-rate', '2');
  await page.fill('#cmd-duration', '600');
  await page.fill('#cmd-wind-from', '270');
  await page.fill('#cmd-wind-speed', 'abc');
  await page.selectOption('#cmd-stability', 'D');
  await page.click('#cmd-run');
  await page.waitForSelector('#cmd-error', { timeout: 20_000 });
  const shown = await page.$eval('#cmd-error .cmd-error-text', (e) => e.textContent);
  const req = await page.evaluate(() => window.__riskmap.command.buildRequest());
  const refused = await api('/api/incidents/assess', { method: 'POST', body: req });
  assert.equal(refused.status, 400);
  assert.equal(await page.$eval('#cmd-error', (e) => e.dataset.status), '400');
  assert.ok(shown.includes(refused.body.description), `shown verbatim: ${shown} vs ${refused.body.description}`);
  assert.match(shown, /wind_speed_m_s/);
  await page.fill('#cmd-wind-speed', '2');
  await page.click('#cmd-run');
  await page.waitForSelector('#command-result[data-state="answer"] #cmd-zones .cmd-zone', { timeout: 30_000 });
  assert.equal(await page.$$eval('#cmd-incident', (e) => e.length), 0, 'not an incident');
  const answer = (await api('/api/incidents/assess', { method: 'POST', body: await page.evaluate(() => window.__riskmap.command.buildRequest()) })).body;
  await assertPanelMatches(answer, 'assessment');
  assert.equal((await api('/api/incidents')).body.count, before, 'nothing stored');
  // Its brief, from the request left in this tab.
  const [brief] = await Promise.all([context.waitForEvent('page', { timeout: 20_000 }), page.click('#cmd-brief-link')]);
  try {
    await brief.waitForSelector('#brief[data-ready="true"] #brief-counts, #brief-error', { timeout: 180_000 });
    assert.equal(await brief.$$eval('#brief-error', (e) => e.map((x) => x.textContent).join('')), '', 'the brief of the assessment');
    assert.match(await brief.$eval('#brief-times', (e) => e.textContent), /未保存/);
  } finally {
    await brief.close();
  }
});

test('nothing was loaded from another host and no script errors', () => {
  const origin = new URL(base).origin;
  const foreign = requests.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== origin);
  assert.deepEqual(foreign, [], 'requests to other hosts');
  assert.deepEqual(pageErrors, [], 'page errors');
});
