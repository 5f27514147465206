// Shared harness for the standards-*.test.mjs and sites-*.test.mjs files (not a test file itself).
//
// Like helpers.mjs's harness(): one server and one Chromium per test file, a fresh browser
// context per test, page-error and console-error checks at the end of each test. In addition:
//   - the examples/ directory is served at /examples/ and tests/e2e/pages/std/ at /std/;
//   - pages can be generated per test: `h.page('/g/x.html', () => html)` (the handler runs on each
//     request, so a test can change the config between two loads of the same URL);
//   - extra Chromium switches (`args`) and `ignoreDefaultArgs` for the launch;
//   - `h.events`: every body POSTed to /v1/events, on any host name.

import { before, after, test as nodeTest } from 'node:test';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';
import { assert, assertBuilt, recordEvents, BASE_MOUNTS, CHROMIUM, CHROMIUM_ARGS, E2E_DIR, ROOT, T, settle } from './helpers.mjs';

export const EXAMPLES_DIR = path.join(ROOT, 'examples');
export const STD_DIR = path.join(E2E_DIR, 'pages', 'std');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Records consent:ready / consent:change details (same shape as helpers.mjs's recorder). */
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

/**
 * opts: args (extra Chromium switches), ignoreDefaultArgs (array), routes ({path: handler}),
 * noStore (default true: generated pages get Cache-Control: no-store).
 */
export function stdHarness(opts = {}) {
  const h = {
    url: '',
    port: 0,
    browser: null,
    server: null,
    events: [],
    routes: {},
    /** Mutable per-file state a generated page may read on each request. */
    state: {},
  };

  h.routes['/v1/events'] = recordEvents(h.events);
  Object.assign(h.routes, opts.routes ?? {});

  /**
   * Serve generated HTML at `urlPath`. `make(req)` returns the HTML (called on every request).
   * `headers` are extra response headers.
   */
  h.page = (urlPath, make, headers = {}) => {
    h.routes[urlPath] = (req, res) => {
      const body = Buffer.from(typeof make === 'function' ? make(req) : make, 'utf8');
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': body.length,
        ...(opts.noStore === false ? {} : { 'Cache-Control': 'no-store' }),
        ...headers,
      });
      res.end(body);
    };
  };

  before(async () => {
    assertBuilt();
    h.server = await startServer({
      port: 0,
      mounts: [
        ...BASE_MOUNTS,
        { prefix: '/std/', dir: STD_DIR },
        { prefix: '/examples/', dir: EXAMPLES_DIR },
      ],
      routes: h.routes,
    });
    h.url = h.server.url;
    h.port = h.server.port;
    h.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
      ignoreDefaultArgs: opts.ignoreDefaultArgs ?? false,
    });
  });

  after(async () => {
    await h.browser?.close();
    await h.server?.close();
  });

  /** Same contract as helpers.mjs's h.test; `opts.console` collects every console message. */
  h.test = (name, fn, topts = {}) =>
    nodeTest(name, { timeout: topts.timeout ?? 90_000, skip: topts.skip }, async () => {
      h.events.length = 0;
      const context = await h.browser.newContext({ viewport: { width: 1280, height: 800 }, ...topts.context });
      context.setDefaultTimeout(T);
      for (const s of topts.init ?? []) await context.addInitScript(s);
      await context.addInitScript(recorder);
      const errors = { page: [], console: [] };
      const messages = [];
      const watch = (page) => {
        page.on('pageerror', (e) => errors.page.push(`${page.url()}: ${e.stack || e.message || e}`));
        page.on('console', (m) => {
          const text = `${m.text()} @ ${m.location()?.url ?? '?'}`;
          messages.push({ type: m.type(), text });
          if (m.type() !== 'error') return;
          if ((topts.allowConsole ?? []).some((re) => re.test(text))) return;
          errors.console.push(text);
        });
      };
      context.on('page', watch);
      const page = await context.newPage();
      try {
        await fn({ page, context, errors, messages, h });
        await settle(page).catch(() => {});
        assert.deepEqual(errors.page, [], 'uncaught page errors');
        assert.deepEqual(errors.console, [], 'console errors');
      } finally {
        await context.close();
      }
    });

  /** Wait until the endpoint received an event matching `pred` (returns it). */
  h.waitEvent = async (pred, timeout = T) => {
    const end = Date.now() + timeout;
    for (;;) {
      const e = h.events.find((x) => x.json && pred(x.json));
      if (e) return e.json;
      if (Date.now() > end) {
        assert.fail(`no matching event reached /v1/events in ${timeout} ms; got ${JSON.stringify(h.events.map((x) => x.json ?? x.text))}`);
      }
      await sleep(50);
    }
  };

  return h;
}

// ---------------------------------------------------------------------------------------------
// Generated pages

export const EN_TEXTS = {
  title: 'Your privacy choices',
  description: 'Test page. Optional scripts run only after you allow them.',
  acceptAll: 'Accept all',
  rejectAll: 'Reject all',
  customize: 'Customize',
  save: 'Save choices',
  close: 'Close',
  preferencesTitle: 'Privacy preferences',
  reopen: 'Privacy choices',
  policyLink: 'Privacy policy',
  gpcNotice: 'Your browser sent Global Privacy Control: marketing is off.',
  consentIdLabel: 'Your consent ID',
  categories: {
    essential: { title: 'Essential', description: 'Needed for the site to work.' },
    analytics: { title: 'Analytics', description: 'Aggregate usage statistics.' },
    marketing: { title: 'Marketing', description: 'Which campaign brought you here.' },
  },
};

/** A valid three-category config; `extra` is merged on top (shallow). */
export function config(extra = {}) {
  return {
    siteId: 'std-pages',
    revision: 1,
    endpoint: '/v1/events',
    privacyPolicyUrl: '/privacy.html',
    categories: [
      { id: 'essential', required: true },
      { id: 'analytics', cookies: ['_std_a'] },
      { id: 'marketing', cookies: ['_std_m'] },
    ],
    texts: { en: EN_TEXTS },
    ...extra,
  };
}

/** An inline gated script that counts its runs in window.__gated (helpers.gated reads it). */
export function gatedScript(category, extraJs = '') {
  return `<script type="text/plain" data-consent="${category}">
(function () {
  var g = window.__gated = window.__gated || {};
  g.order = g.order || [];
  g[${JSON.stringify(category)}] = (g[${JSON.stringify(category)}] || 0) + 1;
  g.order.push(${JSON.stringify(category)});
  g['t_' + ${JSON.stringify(category)}] = performance.now();
  ${extraJs}
})();
</script>`;
}

/**
 * A whole page. opts: cfg (object, or a string used verbatim), lang ('en'; null = no attribute),
 * head (HTML before the bootstrap), afterBootstrap (HTML right after it), gated (true: one
 * analytics and one marketing gated script), body (HTML), title.
 */
export function html(opts = {}) {
  const cfg = typeof opts.cfg === 'string' ? opts.cfg : JSON.stringify(opts.cfg ?? config(), null, 2);
  const lang = opts.lang === undefined ? 'en' : opts.lang;
  return `<!doctype html>
<html${lang === null ? '' : ` lang="${lang}"`}>
<head>
<meta charset="utf-8">
<title>${opts.title ?? 'Standards test page'}</title>
<link rel="icon" href="data:,">
${opts.head ?? ''}
<script type="application/json" id="consent-config">
${cfg}
</script>
<script src="/pkg/consent.js"></script>
${opts.afterBootstrap ?? ''}
${opts.gated === false ? '' : gatedScript('analytics') + '\n' + gatedScript('marketing')}
</head>
<body>
<main><h1>${opts.title ?? 'Standards test page'}</h1>${opts.body ?? ''}</main>
</body>
</html>
`;
}

/** Parse the consent cookie; tolerates the undocumented `.g` (decided under GPC) suffix. */
export function parseCookie(value) {
  const m = /^1\.([0-9a-f]{32})\.(\d+)\.(\d+)\.(\d+)\.([^.]+)(\.g)?$/.exec(decodeURIComponent(value ?? ''));
  if (!m) return null;
  const choices = {};
  for (const part of m[5].split('~')) {
    const [id, bit] = part.split(':');
    if (!/^[a-z][a-z0-9_-]{0,31}$/.test(id) || (bit !== '0' && bit !== '1')) return null;
    choices[id] = bit === '1';
  }
  return { id: m[1], revision: Number(m[2]), first: Number(m[3]), last: Number(m[4]), choices, gpc: !!m[6] };
}

/** Init script: navigator.globalPrivacyControl === true. */
export const GPC_ON = () => {
  Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { configurable: true, get: () => true });
};

export { sleep };
