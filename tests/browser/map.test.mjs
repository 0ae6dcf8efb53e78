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
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = process.env.RISKMAP_BIN ?? join(repo, 'target/debug/riskmap');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const out = join(repo, 'test-output/browser');

const COLOURS = { red: [255, 0, 0], orange: [0xed, 0x7d, 0x31], yellow: [255, 255, 0], blue: [0, 0xb0, 0xf0] };
const TOLERANCE = 48; // per channel: fills are drawn at 85 % opacity over the background

let server;
let serverLog = '';
let base;
let tmp;
let context;
let page;
const requests = [];
const pageErrors = [];

function startServer(dataDir) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data-dir', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
    });
    const timer = setTimeout(() => reject(new Error(`server did not start in 120 s:\n${serverLog}`)), 120_000);
    const onData = (buf) => {
      serverLog += buf.toString();
      // Wait for the whole line: output can arrive split anywhere.
      const m = serverLog.match(/listening on (http:\/\/\S+)\r?\n/);
      if (m) {
        clearTimeout(timer);
        resolvePromise({ child, url: m[1].replace(/\/$/, '') });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}):\n${serverLog}`)); });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    server = child;
  });
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

/** Counts pixels of the map canvas near each risk colour. */
async function colourCounts() {
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
  }, { colours: COLOURS, tol: TOLERANCE });
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
  assert.ok(await page.$eval('#siting button', (b) => b.disabled), 'siting panel is disabled');
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
