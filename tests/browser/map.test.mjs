// Browser tests for the web map: start the real server, drive Debian's
// chromium headless through playwright-core, and check what is drawn.
//
//   cargo build && cd tests/browser && npm ci && node --test
//
// Env: RISKMAP_BIN (default target/debug/riskmap), CHROMIUM (default
// /usr/bin/chromium), RISKMAP_URL (test a running server instead of starting
// one; it must hold the demo data). Screenshots, the exported PNG and zoom timings go to
// test-output/browser/ at the repository root.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = process.env.RISKMAP_BIN ?? join(repo, 'target/debug/riskmap');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const out = join(repo, 'test-output/browser');

const COLOURS = { red: [255, 0, 0], orange: [0xed, 0x7d, 0x31], yellow: [255, 255, 0], blue: [0, 0xb0, 0xf0] };
const TOLERANCE = 48; // per channel: fills are drawn at 85 % opacity over the background

let server;
let base;
let tmp;
let context;
let page;
const requests = [];
const pageErrors = [];

function startServer(dataDir) {
  const s = serve(bin, ['--data-dir', dataDir]);
  server = s.child;
  return s.ready;
}

/** Resolves when the map has loaded its style and tiles and stopped moving. */
async function idle() {
  await page.waitForFunction(() => window.__map !== undefined, null, { timeout: 60_000 });
  await page.evaluate(() => new Promise((res) => {
    const m = window.__map;
    if (m.loaded() && m.areTilesLoaded() && !m.isMoving()) res();
    else m.once('idle', () => res());
  }));
}

async function jumpAndIdle(camera) {
  return page.evaluate((cam) => new Promise((res) => {
    const m = window.__map;
    const t0 = performance.now();
    m.once('idle', () => res(performance.now() - t0));
    m.jumpTo(cam);
    m.triggerRepaint();
  }), camera);
}

/** Counts pixels of the map canvas near each risk colour (or the given colours). */
async function colourCounts(colours = COLOURS, tol = TOLERANCE) {
  return page.evaluate(({ colours, tol }) => {
    const src = window.__map.getCanvas();
    const c = document.createElement('canvas');
    c.width = src.width; c.height = src.height;
    const g = c.getContext('2d');
    g.drawImage(src, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const counts = Object.fromEntries(Object.keys(colours).map((k) => [k, 0]));
    for (let i = 0; i < d.length; i += 4) {
      for (const [k, [r, gg, b]] of Object.entries(colours)) {
        if (Math.abs(d[i] - r) <= tol && Math.abs(d[i + 1] - gg) <= tol && Math.abs(d[i + 2] - b) <= tol) { counts[k] += 1; break; }
      }
    }
    return counts;
  }, { colours, tol });
}

// ------------------------------------------------ geometry for the oracles
function inRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Whether a lon/lat point is inside a Polygon or MultiPolygon (holes respected). */
function inside(pt, g) {
  if (g.type === 'Polygon') return inRing(pt, g.coordinates[0]) && !g.coordinates.slice(1).some((h) => inRing(pt, h));
  if (g.type === 'MultiPolygon') return g.coordinates.some((c) => inside(pt, { type: 'Polygon', coordinates: c }));
  return false;
}

function bboxOf(g) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') { b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]); } else c.forEach(walk);
  };
  walk(g.coordinates);
  return b;
}

async function allItems(collection) {
  const features = [];
  let url = `${base}/collections/${collection}/items?limit=10000`;
  while (url) {
    const page = await (await fetch(url)).json();
    features.push(...page.features);
    const next = page.links?.find((l) => l.rel === 'next');
    url = next && page.features.length ? next.href : null;
  }
  return features;
}

/**
 * A point well inside an individual-risk zone that protects high-sensitivity
 * targets (3×10⁻⁷/yr for a new installation first), outside the site itself,
 * with 30 m of zone all around it.
 */
function conflictPoint(zones, enterprises) {
  const cands = zones.filter((z) => z.properties.kind === 'iso_risk' && (z.properties.classes ?? []).includes('high_sensitivity'))
    .sort((a, b) => (Math.abs(b.properties.level - 3e-7) < 1e-12) - (Math.abs(a.properties.level - 3e-7) < 1e-12) || b.properties.area_m2 - a.properties.area_m2);
  const d = 0.0003; // ≈ 30 m
  for (const zone of cands) {
    const site = enterprises.find((e) => e.id === zone.properties.site_id);
    if (!site) continue;
    const c = centroid(site.geometry);
    const polys = zone.geometry.type === 'MultiPolygon' ? zone.geometry.coordinates : [zone.geometry.coordinates];
    for (const poly of polys) {
      const ring = poly[0];
      const step = Math.max(1, Math.floor(ring.length / 24));
      for (let i = 0; i < ring.length - 1; i += step) {
        for (const f of [0.6, 0.5, 0.7, 0.4]) {
          const p = [c[0] + f * (ring[i][0] - c[0]), c[1] + f * (ring[i][1] - c[1])];
          const around = [p, [p[0] + d, p[1]], [p[0] - d, p[1]], [p[0], p[1] + d], [p[0], p[1] - d]];
          if (around.every((q) => inside(q, zone.geometry) && !(site.geometry.type !== 'Point' && inside(q, site.geometry)))) return { zone, site, point: p };
        }
      }
    }
  }
  return null;
}

/** A point outside every zone by at least `margin` degrees of bounding box: 120.30, 30.37 first. */
function clearPoint(zones, enterprises, margin = 0.01) {
  const boxes = zones.map((z) => bboxOf(z.geometry));
  const free = (p) => boxes.every((b) => p[0] < b[0] - margin || p[0] > b[2] + margin || p[1] < b[1] - margin || p[1] > b[3] + margin);
  if (free([120.30, 30.37])) return [120.30, 30.37];
  const all = bboxOf({ coordinates: enterprises.map((e) => centroid(e.geometry)) });
  for (let x = all[0]; x <= all[2]; x += 0.01) {
    for (let y = all[1]; y <= all[3]; y += 0.01) if (free([x, y])) return [x, y];
  }
  return null;
}

async function siteCheck(body) {
  const res = await fetch(`${base}/api/siting/check`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

/** Clicks the map at a lon/lat with the siting tool in point mode and waits for the answer. */
async function pickOnMap(lonlat) {
  await jumpAndIdle({ center: lonlat, zoom: 15, bearing: 0, pitch: 0 });
  await page.click('#siting-point');
  const p = await page.evaluate((ll) => window.__map.project(ll), lonlat);
  const box = await page.locator('#map canvas').boundingBox();
  await page.mouse.click(box.x + p.x, box.y + p.y);
  await page.waitForSelector('#siting-result[data-state="clear"], #siting-result[data-state="conflict"], #siting-result[data-state="error"]', { timeout: 120_000 });
  return page.evaluate(() => window.__riskmap.siting.state.geometry);
}

let demo; // { zones, enterprises, conflict }
async function demoSafety() {
  if (!demo) {
    const [zones, enterprises] = await Promise.all([allItems('safety_zones'), allItems('enterprises')]);
    demo = { zones, enterprises, conflict: conflictPoint(zones, enterprises) };
  }
  return demo;
}

function centroid(geometry) {
  const pts = [];
  const walk = (c) => { if (typeof c[0] === 'number') pts.push(c); else c.forEach(walk); };
  walk(geometry.type === 'Polygon' ? geometry.coordinates[0].slice(0, -1) : geometry.coordinates);
  return [pts.reduce((s, p) => s + p[0], 0) / pts.length, pts.reduce((s, p) => s + p[1], 0) / pts.length];
}

before(async () => {
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: apt-get install chromium`);
  mkdirSync(out, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'riskmap-browser-'));
  if (process.env.RISKMAP_URL) {
    base = process.env.RISKMAP_URL.replace(/\/$/, '');
  } else {
    assert.ok(existsSync(bin), `${bin} is missing: run cargo build first`);
    base = (await startServer(join(tmp, 'data'))).url;
    console.log(`server at ${base}`);
  }
  context = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1400, height: 900 },
    acceptDownloads: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    ],
  });
  context.on('request', (r) => requests.push(r.url()));
  page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') console.error('[browser]', m.text()); });
  page.on('response', (r) => { if (r.status() >= 400) console.error('[browser]', r.status(), r.url()); });
});

after(async () => {
  await context?.close().catch(() => {});
  if (server && server.exitCode === null) server.kill('SIGTERM');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('GET / serves the web map to browsers and JSON otherwise', async () => {
  const html = await fetch(`${base}/`, { headers: { Accept: 'text/html' } });
  assert.equal(html.status, 200);
  assert.match(html.headers.get('content-type'), /text\/html/);
  assert.match(await html.text(), /\/assets\/app\.js/);
  const json = await fetch(`${base}/?f=json`);
  assert.match(json.headers.get('content-type'), /json/);
  assert.ok((await json.json()).links.length > 0);
  const worker = await fetch(`${base}/assets/maplibre-gl-worker.mjs`);
  assert.match(worker.headers.get('content-type'), /javascript/);
});

test('the map loads and draws the four colours', { timeout: 180_000 }, async () => {
  const t0 = Date.now();
  await page.goto(`${base}/`);
  await idle();
  const loadMs = Date.now() - t0;
  console.log(`first idle after ${loadMs} ms`);
  await page.screenshot({ path: join(out, 'map-initial.png') });
  let counts = await colourCounts();
  console.log('colour pixels at the initial view', counts);
  if (Object.values(counts).some((n) => n < 5)) {
    // Fall back to the enterprises' extent one zoom level closer.
    const tj = await (await fetch(`${base}/tiles/enterprises.json`)).json();
    const [w, s, e, n] = tj.bounds;
    await jumpAndIdle({ center: [(w + e) / 2, (s + n) / 2], zoom: 12 });
    counts = await colourCounts();
    console.log('colour pixels at z12', counts);
    await page.screenshot({ path: join(out, 'map-z12.png') });
  }
  for (const [k, n] of Object.entries(counts)) assert.ok(n >= 5, `${k} pixels drawn: ${n}`);
  const legend = await page.$$eval('#legend-list li', (lis) => lis.map((li) => li.textContent));
  assert.equal(legend.length, 4);
  assert.ok(!(await page.$eval('#siting-point', (b) => b.disabled)), 'siting tool is enabled');
  const uses = await page.$$eval('#siting-use option', (os) => os.map((o) => o.value));
  assert.equal(uses.length, 14, `proposed uses: ${uses}`);
  assert.ok(uses.includes('school') && uses.includes('hazardous_site'));
  const bars = await page.$$eval('#stats-chart svg g[data-key]', (gs) => gs.length);
  assert.ok(bars > 0, 'district statistics drawn');
});

test('clicking a red enterprise shows its explanation', { timeout: 120_000 }, async () => {
  const fc = await (await fetch(`${base}/collections/enterprises/items?limit=10000`)).json();
  const red = fc.features.find((f) => f.properties.risk_level === 'red');
  assert.ok(red, 'the demo has a red enterprise');
  const c = centroid(red.geometry);
  await jumpAndIdle({ center: c, zoom: 15, bearing: 0, pitch: 0 });
  const p = await page.evaluate((ll) => window.__map.project(ll), c);
  const box = await page.locator('#map canvas').boundingBox();
  await page.mouse.click(box.x + p.x, box.y + p.y);
  await page.waitForSelector('#panel-score', { timeout: 20_000 });
  // Red is drawn on top: the pixel under the click is (nearly) #FF0000.
  await idle();
  const px = await page.evaluate((ll) => {
    const { x, y } = window.__map.project(ll);
    const src = window.__map.getCanvas();
    const dpr = src.width / src.clientWidth;
    const c = document.createElement('canvas');
    c.width = src.width; c.height = src.height;
    const g = c.getContext('2d');
    g.drawImage(src, 0, 0);
    return [...g.getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data];
  }, c);
  assert.ok(px[0] > 220 && px[1] < 60 && px[2] < 60, `pixel at the red enterprise is red: ${px}`);
  const badge = await page.$eval('#panel .badge', (b) => b.dataset.level);
  assert.equal(badge, 'red');
  const title = await page.$eval('#panel h3', (h) => h.textContent);
  assert.equal(title, red.properties.name);
  const factors = await page.$$eval('#panel-factors tbody tr', (rows) => rows.map((r) => [...r.cells].map((td) => td.textContent)));
  assert.ok(factors.length > 0, 'factors listed');
  assert.ok(factors.some((f) => f[3].length > 0), 'factors name their clauses');
  const link = await page.$eval('#panel-json', (a) => a.getAttribute('href'));
  assert.equal(link, `/api/risk/enterprises/${encodeURIComponent(red.id)}`);
  console.log(`clicked ${red.id} ${red.properties.name}: score ${await page.$eval('#panel-score', (e) => e.textContent)}, ${factors.length} factors`);
  await page.screenshot({ path: join(out, 'red-enterprise-panel.png') });
});

test('level filter and layer toggles', { timeout: 60_000 }, async () => {
  const tj = await (await fetch(`${base}/tiles/enterprises.json`)).json();
  const [w, s, e, n] = tj.bounds;
  await jumpAndIdle({ center: [(w + e) / 2, (s + n) / 2], zoom: 11 });
  const before = await colourCounts();
  await page.uncheck('#level-list input[data-level="blue"]');
  await idle();
  const noBlue = await colourCounts();
  assert.ok(noBlue.blue < before.blue / 4, `blue filtered out: ${before.blue} → ${noBlue.blue}`);
  assert.ok(noBlue.red > 0, 'red still drawn');
  await page.check('#level-list input[data-level="blue"]');
  await page.uncheck('#layer-list input[data-source="enterprises"]');
  await idle();
  const vis = await page.evaluate(() => window.__map.getLayoutProperty('enterprise-sites', 'visibility'));
  assert.equal(vis, 'none');
  await page.check('#layer-list input[data-source="enterprises"]');
  await idle();
});

test('language switch', async () => {
  assert.equal(await page.$eval('#topbar h1', (h) => h.textContent), '安全风险四色图');
  await page.click('#lang button[data-lang="en"]');
  assert.equal(await page.$eval('#topbar h1', (h) => h.textContent), 'Work-safety risk map');
  assert.equal(await page.$eval('html', (h) => h.lang), 'en');
  assert.match(await page.$eval('#panel', (p) => p.textContent), /Factors/);
  await page.screenshot({ path: join(out, 'english.png') });
  await page.click('#lang button[data-lang="zh"]');
  assert.equal(await page.$eval('#legend h2', (h) => h.textContent), '图例');
});

test('search by credit code flies to the enterprise', { timeout: 60_000 }, async () => {
  const fc = await (await fetch(`${base}/collections/enterprises/items?limit=10000`)).json();
  const f = fc.features.find((x) => x.properties.credit_code);
  await page.fill('#search-input', f.properties.credit_code);
  await page.waitForSelector(`#search-results li[data-id="${f.id}"]`, { timeout: 10_000 });
  await page.click(`#search-results li[data-id="${f.id}"]`);
  await page.waitForFunction((name) => document.querySelector('#panel h3')?.textContent === name, f.properties.name);
  await idle();
  const inView = await page.evaluate((ll) => window.__map.getBounds().contains(ll), centroid(f.geometry));
  assert.ok(inView, 'the map shows the found enterprise');
});

test('export PNG with legend, scale bar and north arrow', { timeout: 60_000 }, async () => {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-png')]);
  const file = join(out, 'export.png');
  await download.saveAs(file);
  const png = readFileSync(file);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.ok(png.length > 20_000, `PNG size ${png.length}`);
  console.log(`exported ${download.suggestedFilename()} (${png.length} bytes)`);
});

test('safety zones and violations are toggleable layers with a legend', { timeout: 120_000 }, async () => {
  await page.waitForFunction(() => window.__map.getLayer('safety-zones-line') && window.__map.getLayer('violation-points'), null, { timeout: 60_000 });
  const toggles = await page.$$eval('#layer-list input', (els) => els.map((e) => e.dataset.source));
  assert.ok(toggles.includes('safety_zones') && toggles.includes('violations'), `toggles: ${toggles}`);
  const legend = await page.$$eval('#safety-legend-list li[data-kind]', (lis) => lis.map((li) => li.dataset.kind));
  for (const k of ['iso_risk', 'code_distance', 'code_distance_unconfirmed', 'consequence', 'violation']) assert.ok(legend.includes(k), `legend has ${k}: ${legend}`);
  const source = await page.evaluate(() => window.__map.getSource('safety_zones').type);
  console.log(`safety zones drawn from a ${source} source`);

  // The zones of a site with a QRA are drawn in the contour colours.
  const { zones, conflict } = await demoSafety();
  assert.ok(zones.length > 0, 'the demo has safety zones');
  assert.ok(conflict, 'the demo has a high-sensitivity iso-risk zone with room inside');
  const c = centroid(conflict.site.geometry);
  await jumpAndIdle({ center: c, zoom: 14, bearing: 0, pitch: 0 });
  const palette = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#safety-legend-list li[data-kind="iso_risk"] .line-swatch')]
    .map((el, i) => [i, getComputedStyle(el).borderTopColor.match(/\d+/g).map(Number)])));
  const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
  const on = sum(await colourCounts(palette, 24));
  await page.uncheck('#layer-list input[data-source="safety_zones"]');
  await idle();
  assert.equal(await page.evaluate(() => window.__map.getLayoutProperty('safety-zones-line', 'visibility')), 'none');
  const off = sum(await colourCounts(palette, 24));
  console.log(`zone-colour pixels around ${conflict.site.id}: ${on} shown, ${off} hidden`);
  assert.ok(on > 50 && off < on / 4, `zone outlines drawn (${on}) and hidden (${off})`);
  await page.check('#layer-list input[data-source="safety_zones"]');
  await page.uncheck('#layer-list input[data-source="violations"]');
  assert.equal(await page.evaluate(() => window.__map.getLayoutProperty('violation-points', 'visibility')), 'none');
  await page.check('#layer-list input[data-source="violations"]');
  await idle();
});

test('siting: a school inside a QRA zone is reported as a conflict', { timeout: 240_000 }, async () => {
  const { conflict } = await demoSafety();
  const { zone, site, point } = conflict;
  console.log(`school at ${point.map((v) => v.toFixed(5))}: inside ${zone.id} (${zone.properties.label_zh}) of ${site.id}`);
  await page.selectOption('#siting-use', 'school');
  const geometry = await pickOnMap(point);
  const api = await siteCheck({ use: 'school', geometry });
  assert.equal(api.status, 200);
  assert.equal(api.body.clear, false, 'the API reports a conflict');
  const res = await page.$eval('#siting-result', (el) => ({ state: el.dataset.state, n: Number(el.dataset.conflicts), text: el.textContent }));
  assert.equal(res.state, 'conflict', res.text);
  assert.equal(res.n, api.body.conflicts.length);
  assert.match(res.text, /不符合/);
  assert.match(res.text, /高敏感防护目标/);
  assert.ok(res.text.includes(site.properties.name), 'the site is named');
  const rows = await page.$$eval('#siting-conflicts tr.conflict', (trs) => trs.map((tr) => ({ site: tr.dataset.site, method: tr.dataset.method, cells: [...tr.cells].map((c) => c.textContent.trim()) })));
  assert.equal(rows.length, api.body.conflicts.length);
  const qra = rows.find((r) => r.site === site.id && r.method === 'qra');
  assert.ok(qra, `a QRA conflict with ${site.id}: ${JSON.stringify(rows)}`);
  assert.match(qra.cells[1], /定量风险评价法/);
  assert.match(qra.cells[4], /10⁻[⁰¹²³⁴⁵⁶⁷⁸⁹]+ \/ .*10⁻[⁰¹²³⁴⁵⁶⁷⁸⁹]+/, `IR vs criterion: ${qra.cells[4]}`);
  assert.match(qra.cells[5], /^−/, `negative margin inside the zone: ${qra.cells[5]}`);
  // A line to the site labelled with distance and margin, and the site's zones.
  await page.waitForSelector('.siting-label', { timeout: 20_000 });
  const labels = await page.$$eval('.siting-label', (els) => els.map((e) => ({ site: e.dataset.site, text: e.textContent })));
  const label = labels.find((l) => l.site === site.id);
  assert.ok(label, `a label on the line to ${site.id}`);
  assert.match(label.text, /距离 [\d.]+ m · 裕度 [−+]?[\d.]+ m/);
  await idle();
  const drawn = await page.evaluate(() => ({
    zones: window.__map.querySourceFeatures('siting-zones').length,
    links: window.__map.querySourceFeatures('siting-links').length,
  }));
  assert.ok(drawn.zones > 0 && drawn.links > 0, `zones and lines drawn: ${JSON.stringify(drawn)}`);
  console.log(`conflicts: ${rows.map((r) => `${r.site} ${r.method} margin ${r.cells[5]}`).join('; ')}; label "${label.text}"`);
  await page.screenshot({ path: join(out, 'siting-conflict.png') });

  // English.
  await page.click('#lang button[data-lang="en"]');
  const en = await page.$eval('#siting-result', (el) => el.textContent);
  assert.match(en, /Conflicts: \d+/);
  assert.match(en, /QRA/);
  assert.equal(await page.$eval('#siting-use option[value="school"]', (o) => o.textContent), 'School');
  assert.match(await page.$eval('.siting-label', (e) => e.textContent), /margin/);
  await page.screenshot({ path: join(out, 'siting-conflict-en.png') });
  await page.click('#lang button[data-lang="zh"]');
});

test('siting: an outline drawn on the map is checked as a polygon', { timeout: 240_000 }, async () => {
  const { conflict } = await demoSafety();
  await page.selectOption('#siting-use', 'kindergarten');
  await jumpAndIdle({ center: conflict.point, zoom: 16, bearing: 0, pitch: 0 });
  await page.click('#siting-polygon');
  const p = await page.evaluate((ll) => window.__map.project(ll), conflict.point);
  const box = await page.locator('#map canvas').boundingBox();
  for (const [dx, dy] of [[-12, -10], [12, -10], [12, 10], [-12, 10]]) await page.mouse.click(box.x + p.x + dx, box.y + p.y + dy);
  await page.click('#siting-finish');
  await page.waitForSelector('#siting-result[data-state="clear"], #siting-result[data-state="conflict"], #siting-result[data-state="error"]', { timeout: 120_000 });
  const geometry = await page.evaluate(() => window.__riskmap.siting.state.geometry);
  assert.equal(geometry.type, 'Polygon');
  assert.equal(geometry.coordinates[0].length, 5, 'four corners, closed');
  const api = await siteCheck({ use: 'kindergarten', geometry });
  const res = await page.$eval('#siting-result', (el) => ({ state: el.dataset.state, n: Number(el.dataset.conflicts), text: el.textContent }));
  assert.equal(res.state, 'conflict', res.text);
  assert.equal(res.n, api.body.conflicts.length);
  assert.match(res.text, /多边形，4 个顶点/);
  await page.screenshot({ path: join(out, 'siting-polygon.png') });
});

test('siting: a school far from every zone is clear', { timeout: 240_000 }, async () => {
  const { zones, enterprises } = await demoSafety();
  const point = clearPoint(zones, enterprises);
  assert.ok(point, 'a point outside every zone');
  assert.ok(zones.every((z) => !inside(point, z.geometry)));
  await page.selectOption('#siting-use', 'school');
  const geometry = await pickOnMap(point);
  const api = await siteCheck({ use: 'school', geometry });
  assert.equal(api.body.clear, true, JSON.stringify(api.body.conflicts));
  const res = await page.$eval('#siting-result', (el) => ({ state: el.dataset.state, text: el.textContent }));
  assert.equal(res.state, 'clear', res.text);
  assert.match(await page.$eval('#siting-result .verdict', (e) => e.textContent), /^符合/);
  assert.equal(await page.$$eval('#siting-conflicts', (e) => e.length), 0);
  const considered = await page.$$eval('#siting-considered li[data-id]', (lis) => lis.map((li) => li.dataset.id));
  assert.deepEqual(considered, api.body.considered.slice(0, 40).map((c) => c.id));
  if (!considered.length) assert.ok(await page.$('#siting-considered-none'), 'says nothing was near');
  assert.equal(await page.$$eval('.siting-label', (e) => e.length), 0, 'no conflict lines');
  console.log(`clear at ${point}: ${considered.length} sites considered`);
  await idle();
  await page.screenshot({ path: join(out, 'siting-clear.png') });
});

test('siting: a 400 from the API is shown in the panel', { timeout: 120_000 }, async () => {
  const { zones, enterprises } = await demoSafety();
  await page.selectOption('#siting-use', 'hazardous_site');
  await page.fill('#siting-inventory input[data-col="t"]', '-5');
  await pickOnMap(clearPoint(zones, enterprises));
  assert.equal(await page.$eval('#siting-result', (el) => el.dataset.state), 'error');
  const fields = await page.$$eval('#siting-result li[data-field]', (lis) => lis.map((li) => li.dataset.field));
  assert.ok(fields.some((f) => /units\[0\]\.substances\[0\]\.quantity_t/.test(f)), `error fields: ${fields}`);
  assert.match(await page.$eval('#siting-result', (el) => el.textContent), /请求未通过校验/);
});

test('siting: a proposed hazardous site gets its zones, methods and F–N curve', { timeout: 300_000 }, async () => {
  const { zones, enterprises } = await demoSafety();
  await page.selectOption('#siting-use', 'hazardous_site');
  await page.fill('#siting-inventory input[data-col="t"]', '20');
  await page.fill('#siting-inventory input[data-col="name"]', '液氨');
  await page.fill('#siting-inventory input[data-col="cas"]', '7664-41-7');
  const t0 = Date.now();
  await pickOnMap(clearPoint(zones, enterprises));
  const res = await page.$eval('#siting-result', (el) => ({ state: el.dataset.state, text: el.textContent }));
  console.log(`hazardous-site check answered in ${Date.now() - t0} ms: ${res.state}`);
  assert.ok(['clear', 'conflict'].includes(res.state), res.text);
  const methods = await page.$$eval('#siting-result .report-methods tr[data-method]', (trs) => trs.map((tr) => tr.dataset.method));
  assert.ok(methods.includes('qra'), `methods: ${methods}`);
  assert.ok(await page.$('#siting-result svg.fn-chart path[data-line="upper"]'));
  await idle();
  assert.ok(await page.evaluate(() => window.__map.querySourceFeatures('siting-zones').length) > 0, 'proposed zones drawn');
  await page.screenshot({ path: join(out, 'siting-hazardous-site.png') });
  await page.selectOption('#siting-use', 'school');
  await page.click('#siting-clear');
});

test('an enterprise panel loads its external safety distance report', { timeout: 180_000 }, async () => {
  const { conflict, enterprises } = await demoSafety();
  const site = conflict.site;
  const report = await (await fetch(`${base}/api/sites/${site.id}/report`)).json();
  await page.evaluate(([id, name]) => window.__riskmap.openFeature('enterprises', id, { id, name }), [site.id, site.properties.name]);
  await page.click('#site-report-button');
  await page.waitForSelector('#site-report svg.fn-chart', { timeout: 60_000 });
  const methods = await page.$$eval('#site-report .report-methods tr[data-method]', (trs) => trs.map((tr) => tr.dataset.method));
  assert.deepEqual(methods, report.methods.map((m) => m.method));
  const governing = await page.$$eval('#site-report .report-distances tr[data-governing="true"]', (trs) => trs.map((tr) => tr.dataset.class));
  assert.ok(governing.includes('high_sensitivity'), `governing classes: ${governing}`);
  assert.equal(governing.length, report.distances.filter((d) => d.governing).length);
  const chart = await page.$eval('#site-report svg.fn-chart', (svg) => ({
    points: Number(svg.dataset.points),
    upper: !!svg.querySelector('path[data-line="upper"]'),
    lower: !!svg.querySelector('path[data-line="lower"]'),
  }));
  assert.ok(chart.upper && chart.lower, 'both GB 36894 lines drawn');
  assert.equal(chart.points, (report.fn_curve?.points ?? []).filter((p) => p.n > 0 && p.f > 0).length);
  assert.match(await page.$eval('#site-report', (e) => e.textContent), /定量风险评价法/);
  await idle();
  const drawn = await page.evaluate(() => window.__map.querySourceFeatures('report-zones').length);
  assert.ok(drawn > 0, 'report zones drawn');
  console.log(`report of ${site.id}: methods ${methods}, ${chart.points} F–N points, governing for ${governing}`);
  await page.screenshot({ path: join(out, 'site-report.png') });

  // An enterprise without hazardous substances has no report.
  const plain = enterprises.find((e) => !(e.properties.units ?? []).some((u) => (u.substances ?? []).length));
  if (plain) {
    await page.evaluate(([id, name]) => window.__riskmap.openFeature('enterprises', id, { id, name }), [plain.id, plain.properties.name]);
    await page.click('#site-report-button');
    await page.waitForSelector('#site-report-missing', { timeout: 20_000 });
  }
});

test('time to idle from z5 to z16', { timeout: 300_000 }, async () => {
  const fc = await (await fetch(`${base}/collections/enterprises/items?limit=10000`)).json();
  const red = fc.features.find((f) => f.properties.risk_level === 'red');
  const c = centroid(red.geometry);
  const timings = [];
  for (let z = 5; z <= 16; z += 1) {
    const ms = await jumpAndIdle({ center: c, zoom: z });
    timings.push({ zoom: z, ms: Math.round(ms) });
  }
  console.log('time to idle by zoom (ms):', timings.map((t) => `z${t.zoom} ${t.ms}`).join(', '));
  writeFileSync(join(out, 'zoom-timings.json'), JSON.stringify(timings, null, 2));
  await page.screenshot({ path: join(out, 'map-z16.png') });
  for (const t of timings) assert.ok(t.ms < 30_000, `z${t.zoom} took ${t.ms} ms`);
});

test('nothing was loaded from another host and no script errors', () => {
  const origin = new URL(base).origin;
  const foreign = requests.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== origin);
  assert.deepEqual(foreign, [], 'requests to other hosts');
  assert.deepEqual(pageErrors, [], 'page errors');
  console.log(`${requests.length} requests, all to ${origin}`);
});
