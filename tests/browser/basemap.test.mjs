// The offline basemap (离线底图): the web map draws the server's `basemap`
// tileset (water, land use, roads…) under the risk layers, with Chinese
// place and district names drawn from the server's own glyph PBFs
// (/fonts/{fontstack}/{range}.pbf), and no request leaves the server.
//
//   cargo build --bin riskmap && cd tests/browser && npm ci && node --test basemap.test.mjs
//
// Env as map.test.mjs (RISKMAP_BIN, CHROMIUM). Screenshot:
// test-output/browser/basemap.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './server.mjs';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = process.env.RISKMAP_BIN ?? join(repo, 'target/debug/riskmap');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const out = join(repo, 'test-output/browser');

let server;
let base;
let tmp;
let context;
let page;
const requests = [];
const responses = [];
const pageErrors = [];

before(async () => {
  assert.ok(existsSync(chromiumPath), `${chromiumPath} is missing: apt-get install chromium`);
  assert.ok(existsSync(bin), `${bin} is missing: run cargo build first`);
  mkdirSync(out, { recursive: true });
  tmp = mkdtempSync(join(tmpdir(), 'riskmap-basemap-'));
  // No --glyph-font: the server finds fonts-wqy-zenhei where Debian puts it.
  const s = serve(bin, ['--data-dir', join(tmp, 'data')]);
  server = s.child;
  base = (await s.ready).url;
  context = await chromium.launchPersistentContext(join(tmp, 'profile'), {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1200, height: 800 },
    args: [
      '--no-sandbox', '--disable-gpu', '--enable-unsafe-swiftshader', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
    ],
  });
  context.on('request', (r) => requests.push(r.url()));
  context.on('response', (r) => responses.push({ url: r.url(), status: r.status() }));
  page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') console.error('[browser]', m.text()); });
});

after(async () => {
  await context?.close().catch(() => {});
  if (server && server.exitCode === null) server.kill('SIGTERM');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function idle() {
  await page.waitForFunction(() => window.__map !== undefined, null, { timeout: 60_000 });
  await page.evaluate(() => new Promise((res) => {
    const m = window.__map;
    if (m.loaded() && m.areTilesLoaded() && !m.isMoving()) res();
    else m.once('idle', () => res());
  }));
}

async function jumpAndIdle(camera) {
  await page.evaluate((cam) => new Promise((res) => {
    const m = window.__map;
    m.once('idle', () => res());
    m.jumpTo(cam);
    m.triggerRepaint();
  }), camera);
}

/** Pixels of the canvas within `tol` of an RGB colour. */
async function countColour([r, g, b], tol = 6) {
  return page.evaluate(({ r, g, b, tol }) => {
    const src = window.__map.getCanvas();
    const c = document.createElement('canvas');
    c.width = src.width; c.height = src.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(src, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (Math.abs(d[i] - r) <= tol && Math.abs(d[i + 1] - g) <= tol && Math.abs(d[i + 2] - b) <= tol) n += 1;
    }
    return n;
  }, { r, g, b, tol });
}

test('the basemap draws with Chinese labels from the server alone', { timeout: 240_000 }, async () => {
  const style = await (await fetch(`${base}/style.json`)).json();
  assert.match(style.glyphs, /\/fonts\/\{fontstack\}\/\{range\}\.pbf$/);
  assert.equal(style.sources.basemap.type, 'vector');
  assert.equal(style.sources['basemap-raster'], undefined, 'no raster basemap unless configured');
  const ids = style.layers.map((l) => l.id);
  // Basemap under the risk layers, labels above them.
  assert.ok(ids.indexOf('basemap-water') < ids.indexOf('districts-fill'));
  assert.ok(ids.indexOf('basemap-district-labels') > ids.indexOf('enterprises'));

  await page.goto(`${base}/`);
  await idle();
  // West Lake (西湖) between 西湖区 and 上城区.
  await jumpAndIdle({ center: [120.16, 30.26], zoom: 11.5 });

  const ok = (re) => responses.filter((r) => re.test(new URL(r.url).pathname));
  const glyphs = ok(/^\/fonts\/[^/]+\/\d+-\d+\.pbf$/);
  const tiles = ok(/^\/tiles\/basemap\/\d+\/\d+\/\d+\.mvt$/);
  assert.ok(glyphs.length > 0, 'glyph ranges requested');
  assert.ok(glyphs.every((r) => r.status === 200), JSON.stringify(glyphs));
  // 中文: the CJK ranges (U+4E00–U+9FFF) were fetched, not only Latin.
  assert.ok(glyphs.some((r) => Number(/\/(\d+)-\d+\.pbf$/.exec(r.url)[1]) >= 0x4e00), JSON.stringify(glyphs.map((r) => r.url)));
  assert.ok(tiles.length > 0, 'basemap tiles requested');
  assert.ok(tiles.every((r) => r.status === 200 || r.status === 304), JSON.stringify(tiles));

  // Placed labels: a symbol is placed only once its glyphs are in.
  const labels = await page.evaluate(() => window.__map
    .queryRenderedFeatures({ layers: ['basemap-district-labels', 'basemap-place-labels'] })
    .map((f) => ({ layer: f.layer.id, name: f.properties.name })));
  const districts = labels.filter((l) => l.layer === 'basemap-district-labels').map((l) => l.name);
  assert.ok(districts.includes('西湖区') || districts.includes('上城区'), `district labels: ${districts}`);
  assert.ok(districts.every((n) => /[\u4e00-\u9fff]/.test(n)), `${districts}`);
  console.log(`district labels: ${[...new Set(districts)].join(' ')}; ${labels.length} labels placed; ${glyphs.length} glyph ranges, ${tiles.length} basemap tiles`);

  await page.screenshot({ path: join(out, 'basemap.png') });

  // Water (#AAD3F0, under the districts' faint level tint) is on the canvas.
  const water = await countColour([0xaa, 0xd3, 0xf0], 24);
  assert.ok(water > 2000, `water pixels: ${water}`);

  // The 底图 toggle hides every basemap layer and brings it back.
  const toggle = page.locator('#layer-list input[data-source="basemap"]');
  assert.equal(await toggle.count(), 1, 'a 底图 toggle in the layer list');
  assert.match(await page.locator('#layer-list label').filter({ has: page.locator('input[data-source="basemap"]') }).innerText(), /底图/);
  await toggle.uncheck();
  const hidden = await page.evaluate(() => window.__map.getStyle().layers
    .filter((l) => l.source === 'basemap').every((l) => window.__map.getLayoutProperty(l.id, 'visibility') === 'none'));
  assert.ok(hidden, 'basemap layers hidden');
  await toggle.check();
  await idle();

  // Enterprise names from the enterprises tileset at high zoom.
  const firm = (await (await fetch(`${base}/collections/enterprises/items?limit=1`)).json()).features[0];
  const at = firm.geometry.type === 'Point' ? firm.geometry.coordinates : null;
  if (at) {
    await jumpAndIdle({ center: at, zoom: 15 });
    const names = await page.evaluate(() => window.__map
      .queryRenderedFeatures({ layers: ['enterprise-labels'] }).map((f) => f.properties.name));
    assert.ok(names.includes(firm.properties.name), `enterprise labels: ${names}`);
  }

  assert.deepEqual(pageErrors, []);
  const origin = new URL(base).origin;
  const foreign = requests.filter((u) => !u.startsWith('data:') && !u.startsWith('blob:') && new URL(u).origin !== origin);
  assert.deepEqual(foreign, [], 'requests to other hosts');
  console.log(`${requests.length} requests, all to ${origin}`);
});
