// Bundles the web map into dist/: index.html, assets/app.js (the app with
// maplibre-gl), assets/app.css, and assets/maplibre-gl-worker.mjs (MapLibre's
// module worker, loaded from the same origin). Run with `npm run build`.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const dist = join(root, 'dist');
// Build beside dist and swap at the end, so a concurrent reader (another
// cargo build) never sees a half-written dist.
const staging = join(root, `.dist-${process.pid}`);
const assets = join(staging, 'assets');

rmSync(staging, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

await build({
  entryPoints: { app: join(root, 'src/entry.js') },
  outdir: assets,
  bundle: true,
  format: 'esm',
  minify: true,
  target: ['es2022'],
  legalComments: 'eof',
  logLevel: 'warning',
});

copyFileSync(
  join(root, 'node_modules/maplibre-gl/dist/maplibre-gl-worker.mjs'),
  join(assets, 'maplibre-gl-worker.mjs'),
);
copyFileSync(join(root, 'node_modules/maplibre-gl/LICENSE.txt'), join(assets, 'maplibre-gl-LICENSE.txt'));

// index.html last: build.rs treats its mtime as the time of the whole build.
writeFileSync(join(staging, 'index.html'), readFileSync(join(root, 'src/index.html')));
rmSync(dist, { recursive: true, force: true });
renameSync(staging, dist);
console.log('web-map built into', dist);
