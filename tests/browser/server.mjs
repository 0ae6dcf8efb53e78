// Starts `riskmap serve` for a browser test and resolves once it has built
// its world; every test file starts its own server through this.
import { spawn } from 'node:child_process';

/**
 * `riskmap serve --addr 127.0.0.1:0 <args>`: `child` at once (so a test can
 * kill it whatever happens) and `ready`, a promise of the base URL once the
 * server listens and has built its world ("ready in … s").
 */
export function serve(bin, args) {
  let log = '';
  const child = spawn(bin, ['serve', '--addr', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  });
  const ready = new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 120 s:\n${log}`)), 120_000);
    const onData = (buf) => {
      log += buf.toString();
      // Wait for the whole line: output can arrive split anywhere.
      const m = log.match(/listening on (http:\/\/\S+)\r?\n/);
      // The data is served once the world is built ("ready in … s").
      if (m && /ready in \S+ s\r?\n/.test(log)) {
        clearTimeout(timer);
        resolvePromise({ child, url: m[1].replace(/\/$/, '') });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}):\n${log}`)); });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
  return { child, ready };
}
