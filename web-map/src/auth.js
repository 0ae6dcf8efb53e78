// Sign-in for writes (登录): a name + password form (POST /api/login) or a
// pasted API token checked with GET /api/me. The token lives in
// sessionStorage (this tab only) and goes out as `Authorization: Bearer`.
// Tolerant of servers without accounts: a token that /api/me does not know
// how to check (404) is kept unverified, and the server's answer to each
// write decides.
import { esc } from './util.js';

const KEY = 'riskmap.token';

/**
 * ctx: { t, onChange() } — onChange runs after a login, logout or a
 * refreshed /api/me (to re-render what depends on the account).
 */
export function createAuth(ctx) {
  const { t } = ctx;
  const $ = (sel) => document.querySelector(sel);
  const s = {
    token: read(),
    me: null, // { name, role, districts, credit_code, rights } or { unverified: true }
    open: false,
    busy: false,
    error: null,
    mode: 'password', // 'password' | 'token'
  };

  function read() {
    try { return sessionStorage.getItem(KEY); } catch { return null; }
  }
  function store(token) {
    s.token = token;
    try {
      if (token) sessionStorage.setItem(KEY, token); else sessionStorage.removeItem(KEY);
    } catch { /* private mode: the token lives in memory */ }
  }

  /** Headers for a request, with the bearer token when signed in. */
  function headers(extra = {}) {
    return s.token ? { ...extra, Authorization: `Bearer ${s.token}` } : { ...extra };
  }

  /** GET /api/me for the stored token; 401 signs out, 404 (no accounts yet) keeps it unverified. */
  async function loadMe() {
    if (!s.token) { s.me = null; return null; }
    let res;
    try {
      res = await fetch('/api/me', { headers: headers({ Accept: 'application/json' }) });
    } catch (err) {
      s.error = String(err);
      return null;
    }
    if (res.ok) {
      s.me = await res.json().catch(() => ({ unverified: true }));
      s.error = null;
    } else if (res.status === 401 || res.status === 403) {
      const msg = await errorText(res);
      store(null);
      s.me = null;
      s.error = `${t('tokenRejected')} (HTTP ${res.status}) ${msg}`;
    } else {
      // No /api/me on this server: keep the token; writes will tell.
      s.me = { unverified: true };
      s.error = null;
    }
    return s.me;
  }

  async function login(name, password) {
    s.busy = true; s.error = null; render();
    try {
      const res = await fetch('/api/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ name, password }),
      });
      if (res.ok) {
        const body = await res.json();
        store(body.token);
        s.me = body.account ?? null;
        await loadMe();
        if (s.token) s.open = false;
      } else if (res.status === 404 || res.status === 405) {
        s.error = t('loginUnsupported');
        s.mode = 'token';
      } else {
        s.error = `HTTP ${res.status}: ${await errorText(res)}`;
      }
    } catch (err) {
      s.error = String(err);
    }
    s.busy = false;
    render();
    ctx.onChange?.();
  }

  async function useToken(token) {
    s.busy = true; s.error = null; render();
    store(token.trim() || null);
    await loadMe();
    if (s.token) s.open = false;
    s.busy = false;
    render();
    ctx.onChange?.();
  }

  async function logout() {
    const token = s.token;
    store(null);
    s.me = null;
    s.error = null;
    render();
    ctx.onChange?.();
    if (token) {
      try { await fetch('/api/logout', { method: 'POST', headers: { Authorization: `Bearer ${token}` } }); } catch { /* gone anyway */ }
    }
  }

  function who() {
    if (!s.token) return null;
    const me = s.me;
    if (!me || me.unverified) return t('tokenUnverified');
    const role = me.role ? t('role_' + me.role) : '';
    return `${me.name ?? ''}${role ? `（${role}）` : ''}`;
  }

  function render() {
    const box = $('#auth');
    if (!box) return;
    if (s.token) {
      box.innerHTML = `<span id="auth-user" data-role="${esc(s.me?.role ?? '')}" title="${esc((s.me?.rights ?? []).join(', '))}">${esc(who())}</span> <button type="button" id="auth-logout">${esc(t('logout'))}</button>`;
      box.querySelector('#auth-logout').addEventListener('click', () => logout());
      return;
    }
    const err = s.error ? `<p id="auth-error" class="error-box">${esc(s.error)}</p>` : '';
    const form = !s.open ? '' : `
      <div id="auth-popup">
        <form id="auth-form" autocomplete="on"${s.mode === 'password' ? '' : ' hidden'}>
          <label>${esc(t('accountName'))} <input id="auth-name" name="username" autocomplete="username" required></label>
          <label>${esc(t('password'))} <input id="auth-password" name="password" type="password" autocomplete="current-password" required></label>
          <button type="submit" id="auth-submit"${s.busy ? ' disabled' : ''}>${esc(t('login'))}</button>
        </form>
        <form id="auth-token-form"${s.mode === 'token' ? '' : ' hidden'}>
          <label>${esc(t('apiToken'))} <input id="auth-token" type="password" autocomplete="off" required></label>
          <button type="submit" id="auth-token-submit"${s.busy ? ' disabled' : ''}>${esc(t('useToken'))}</button>
        </form>
        <button type="button" class="linkish" id="auth-switch">${esc(s.mode === 'password' ? t('orPasteToken') : t('orPassword'))}</button>
        ${err}
      </div>`;
    box.innerHTML = `<button type="button" id="auth-open">${esc(t('login'))}</button>${form}${s.open ? '' : err}`;
    box.querySelector('#auth-open').addEventListener('click', () => { s.open = !s.open; render(); });
    box.querySelector('#auth-switch')?.addEventListener('click', () => { s.mode = s.mode === 'password' ? 'token' : 'password'; s.error = null; render(); });
    box.querySelector('#auth-form')?.addEventListener('submit', (e) => {
      e.preventDefault();
      login(box.querySelector('#auth-name').value.trim(), box.querySelector('#auth-password').value);
    });
    box.querySelector('#auth-token-form')?.addEventListener('submit', (e) => {
      e.preventDefault();
      useToken(box.querySelector('#auth-token').value);
    });
  }

  async function init() {
    render();
    if (s.token) { await loadMe(); render(); ctx.onChange?.(); }
  }

  return { state: s, headers, loadMe, login, useToken, logout, render, init, signedIn: () => Boolean(s.token) };
}

/** The text of an error response: an OGC exception's description (with its field errors), else the body. */
export async function errorText(res) {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    const parts = [body.description ?? body.message ?? body.error ?? text];
    for (const e of body.errors ?? []) parts.push(e.text ?? `${e.field}: ${e.message}`);
    return parts.filter(Boolean).join('\n');
  } catch {
    return text;
  }
}
