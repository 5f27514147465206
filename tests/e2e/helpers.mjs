// Shared harness for the e2e tests: one static server and one Chromium per test file, a fresh
// browser context (= fresh profile: no cookies, no storage) per test, and page-error / console-error
// collection that every test asserts empty at its end.
//
//   import { harness } from './helpers.mjs';
//   const h = harness();
//   h.test('first visit shows the banner', async ({ page, context, errors }) => { ... });

import { before, after, test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';

export const E2E_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(E2E_DIR, '..', '..');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/** The banner build under test (default: the repository's pkg/, made by `make build`). */
export const PKG_DIR = path.resolve(process.env.E2E_PKG_DIR || path.join(ROOT, 'pkg'));
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];
/** Default timeout for waits on the banner (wasm load + instantiate on a slow CI box). */
export const T = Number(process.env.E2E_TIMEOUT_MS || 15000);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Serve a file after a delay: used to prove gated external scripts keep document order. */
function slowFile(file, ms, type = 'text/javascript; charset=utf-8') {
  return async (req, res) => {
    await sleep(ms);
    const body = fs.readFileSync(file);
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Cache-Control': 'no-store' });
    res.end(body);
  };
}

/**
 * Registers before/after hooks that start the server and the browser for this file, and returns
 * the harness: `h.url`, `h.events` (bodies POSTed to /v1/events), `h.test(name, fn, opts)`.
 */
/**
 * A stand-in consent endpoint: answers 204 (CORS-open) and records every request body in `events`
 * as {method, host, contentType, text, json}.
 */
export function recordEvents(events) {
  return (req, res) => {
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'Access-Control-Allow-Origin': '*',
        'Access-Control-Allow-Methods': 'POST',
        'Access-Control-Allow-Headers': 'content-type',
      });
      return void res.end();
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let json = null;
      try {
        json = JSON.parse(text);
      } catch {
        /* recorded as text */
      }
      events.push({ method: req.method, host: req.headers.host, contentType: req.headers['content-type'] ?? '', text, json });
      res.writeHead(req.method === 'POST' ? 204 : 405, { 'Cache-Control': 'no-store' });
      res.end();
    });
  };
}

/** opts.routes: extra server routes ({path: (req, res) => …}) for this file's pages. */
/** What every harness serves: the demo site, the built package and the test pages. */
export const BASE_MOUNTS = [
  { prefix: '/', dir: path.join(ROOT, 'www') },
  { prefix: '/pkg/', dir: PKG_DIR },
  { prefix: '/t/', dir: path.join(E2E_DIR, 'pages') },
];

/** Fails the file at once, with the fix, when `pkg/` was not built. */
export function assertBuilt() {
  const missing = ['consent.js', 'consent_banner.js', 'consent_banner_bg.wasm'].filter(
    (f) => !fs.existsSync(path.join(PKG_DIR, f)),
  );
  assert.deepEqual(missing, [], `banner build missing (${missing.join(', ')}): run \`make build\` first`);
}

export function harness(opts = {}) {
  const h = {
    url: '',
    browser: null,
    server: null,
    /** Every request body POSTed to the consent endpoint, as {text, json, contentType}. */
    events: [],
  };

  before(async () => {
    assertBuilt();

    h.server = await startServer({
      port: 0,
      mounts: BASE_MOUNTS,
      routes: {
        '/v1/events': recordEvents(h.events),
        // The first of two gated external scripts arrives late; document order must still hold.
        '/t/slow/order-a.js': slowFile(path.join(E2E_DIR, 'pages', 'order-a.js'), 600),
        ...opts.routes,
      },
    });
    h.url = h.server.url;
    h.browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await h.browser?.close();
    await h.server?.close();
  });

  /**
   * A test with its own browser context and page. opts:
   *   context: extra browser.newContext options (viewport, ...)
   *   init: array of functions / strings added with context.addInitScript, before the recorder
   *   allowConsole: array of RegExp for console errors that this test tolerates
   *   timeout: node:test timeout (ms)
   */
  h.test = (name, fn, opts = {}) =>
    nodeTest(name, { timeout: opts.timeout ?? 90_000 }, async () => {
      const context = await h.browser.newContext({ viewport: { width: 1280, height: 800 }, ...opts.context });
      context.setDefaultTimeout(T);
      for (const s of opts.init ?? []) await context.addInitScript(s);
      await context.addInitScript(recorder);
      const errors = { page: [], console: [] };
      const watch = (page) => {
        page.on('pageerror', (e) => errors.page.push(`${page.url()}: ${e.stack || e.message || e}`));
        page.on('console', (m) => {
          if (m.type() !== 'error') return;
          const text = `${m.text()} @ ${m.location()?.url ?? '?'}`;
          if ((opts.allowConsole ?? []).some((re) => re.test(text))) return;
          errors.console.push(text);
        });
      };
      context.on('page', watch);
      const page = await context.newPage();
      try {
        await fn({ page, context, errors, h });
        // Let anything still in flight (late activations, reports) surface its errors.
        await settle(page).catch(() => {});
        assert.deepEqual(errors.page, [], 'uncaught page errors');
        assert.deepEqual(errors.console, [], 'console errors');
      } finally {
        await context.close();
      }
    });

  return h;
}

/**
 * Init script for every context: records consent:ready / consent:change (a JSON snapshot of each
 * event's detail, at dispatch time) before any page script can run.
 */
function recorder() {
  const ev = { ready: [], change: [] };
  Object.defineProperty(window, '__ev', { value: ev, configurable: true });
  const snap = (d) => {
    try {
      return JSON.parse(JSON.stringify(d ?? null));
    } catch {
      return { unserializable: String(d) };
    }
  };
  document.addEventListener('consent:ready', (e) => ev.ready.push(snap(e.detail)));
  document.addEventListener('consent:change', (e) => ev.change.push(snap(e.detail)));
}

/** Wait until the banner has dispatched consent:ready. */
export async function waitReady(page, timeout = T) {
  await page.waitForFunction(() => window.__ev && window.__ev.ready.length > 0, null, { timeout });
}

/** Give the page two frames and a short pause: used only before asserting that nothing happened. */
export async function settle(page, ms = 150) {
  await page.evaluate(
    (ms) => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, ms)))),
    ms,
  );
}

/**
 * The banner's visible state, per the contract. Each of layer / prefs / reopen is one of
 * 'absent' | 'hidden' | 'shown' | 'hidden-but-visible' | 'shown-but-invisible'.
 */
export async function bannerState(page) {
  return page.evaluate(() => {
    const hosts = document.querySelectorAll('#pc-host');
    const host = hosts[0];
    const root = host ? host.shadowRoot : null;
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none';
    };
    const hiddenAttr = (el) => {
      for (let n = el; n && n !== root; n = n.parentNode) if (n.hasAttribute && n.hasAttribute('hidden')) return true;
      return false;
    };
    const state = (sel) => {
      const el = root && root.querySelector(sel);
      if (!el) return 'absent';
      const h = hiddenAttr(el);
      const v = visible(el);
      if (h) return v ? 'hidden-but-visible' : 'hidden';
      return v ? 'shown' : 'shown-but-invisible';
    };
    return {
      hosts: hosts.length,
      inBody: !!host && host.parentNode === document.body,
      shadow: !!root,
      layer: state('section.layer'),
      prefs: state('div.prefs'),
      reopen: state('button[data-action=reopen]'),
    };
  });
}

/** True when the state string means "not on screen" (absent or hidden as the contract says). */
export const gone = (s) => s === 'absent' || s === 'hidden';

/** Wait until the first layer (or prefs, or reopen) reaches a condition. */
export async function waitBanner(page, part, want, timeout = T) {
  await page.waitForFunction(
    ({ part, want }) => {
      const root = document.querySelector('#pc-host')?.shadowRoot;
      const sel = { layer: 'section.layer', prefs: 'div.prefs', reopen: 'button[data-action=reopen]' }[part];
      const el = root && root.querySelector(sel);
      let hidden = !el;
      for (let n = el; n && n !== root; n = n.parentNode) if (n.hasAttribute && n.hasAttribute('hidden')) hidden = true;
      if (!hidden) {
        const r = el.getBoundingClientRect();
        hidden = !(r.width > 0 && r.height > 0);
      }
      return want === 'shown' ? !hidden : hidden;
    },
    { part, want },
    { timeout },
  );
}

/** Counters and order pushed by the gated demo scripts. */
export async function gated(page) {
  return page.evaluate(() => {
    const g = window.__gated || {};
    return {
      analytics: g.analytics || 0,
      marketing: g.marketing || 0,
      order: Array.isArray(g.order) ? g.order.slice() : [],
      raw: JSON.parse(JSON.stringify(g)),
    };
  });
}

/** Cookies of the context as a name -> value map. */
export async function cookieMap(context) {
  const out = {};
  for (const c of await context.cookies()) out[c.name] = c.value;
  return out;
}

/** Locator for an element in the banner's shadow root (Playwright's CSS pierces open roots). */
export function inBanner(page, selector) {
  return page.locator(`#pc-host ${selector}`);
}

/** The first layer's button for an action. */
export function layerButton(page, action) {
  return page.locator(`#pc-host section.layer [data-action=${action}]`);
}

/** A control inside the preferences dialog. */
export function prefs(page, selector) {
  return page.locator(`#pc-host div.prefs ${selector}`);
}

/** Switch states in the preferences dialog: {id: {checked, disabled, role}}. */
export async function switches(page) {
  return page.evaluate(() => {
    const root = document.querySelector('#pc-host').shadowRoot;
    const out = {};
    for (const el of root.querySelectorAll('div.prefs input[type=checkbox][data-category]')) {
      out[el.dataset.category] = { checked: el.checked, disabled: el.disabled, role: el.getAttribute('role') };
    }
    return out;
  });
}

/** Parse the pc_consent cookie per the contract. Returns null when it does not match the format. */
export function parseConsentCookie(value) {
  const m = /^1\.([0-9a-f]{32})\.(\d+)\.(\d+)\.(\d+)\.([^.]+)(\.g)?$/.exec(decodeURIComponent(value ?? ''));
  if (!m) return null;
  const choices = {};
  for (const part of m[5].split('~')) {
    const [id, bit] = part.split(':');
    if (!/^[a-z][a-z0-9_-]{0,31}$/.test(id) || (bit !== '0' && bit !== '1')) return null;
    choices[id] = bit === '1';
  }
  return { id: m[1], revision: Number(m[2]), first: Number(m[3]), last: Number(m[4]), choices, underGpc: !!m[6] };
}

/** Build a pc_consent cookie value per the contract. */
export function makeConsentCookie({ id = 'ab'.repeat(16), revision = 1, first, last, choices }) {
  const now = Math.floor(Date.now() / 1000);
  const enc = Object.entries(choices)
    .map(([k, v]) => `${k}:${v ? 1 : 0}`)
    .join('~');
  return `1.${id}.${revision}.${first ?? now - 60}.${last ?? now - 60}.${enc}`;
}

/** The consent:ready / consent:change details recorded so far. */
export async function recorded(page) {
  return page.evaluate(() => JSON.parse(JSON.stringify(window.__ev)));
}

export { assert };
