// bench/speed.mjs — speed + bytes benchmark: our wasm banner vs vanilla-cookieconsent 3.1.0 in headless Chromium.
//
// Run after `make build` (via `make bench`):  node bench/speed.mjs [--json out.json]
// Env: BENCH_RUNS (default 15) measured first visits per page, BENCH_WARMUP (default 1) discarded runs,
//      BENCH_PAGES (default "ours,vanilla,demo") which pages to measure, CHROMIUM (default /usr/bin/chromium),
//      BENCH_PKG (default pkg) the directory served at /pkg/.
//
// Each run is a first visit: a fresh browser context (empty cache, no cookies). Per run it records
//   dom      performance.now() at the first animation frame where the banner element has a layout box
//   visible  ... where it is also visible (Element.checkVisibility with opacity + visibility CSS)
//   bytes    response body bytes of the banner's own files (served uncompressed here), plus what
//            gzip -9 / brotli -q 11 would make of those files (read from disk).
// Pages: ours = bench/pages/ours.html, vanilla = bench/pages/vanilla.html (same body, same gated
// scripts, same texts), demo = www/index.html (our banner in the demo site, if it exists).

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { startServer } from '../scripts/serve.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(BENCH, '..');
const RUNS = intEnv('BENCH_RUNS', 15);
const WARMUP = intEnv('BENCH_WARMUP', 1);
const TIMEOUT_MS = 10_000;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const VANILLA_DIST = path.join(BENCH, 'node_modules/vanilla-cookieconsent/dist');
const PKG = path.resolve(ROOT, process.env.BENCH_PKG || 'pkg');
const PKG_FILES = ['consent.js', 'consent_banner.js', 'consent_banner_bg.wasm'].map((f) => path.join(PKG, f));
const jsonOut = argValue('--json');

const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

// How to find each banner's first layer, evaluated in the page (must be self-contained).
const PROBES = {
  ours: "document.getElementById('pc-host')?.shadowRoot?.querySelector('section.layer')",
  vanilla: "document.querySelector('#cc-main .cm')",
};

const PAGES = {
  ours: {
    url: '/bench/ours.html',
    probe: PROBES.ours,
    isBannerFile: (p) => p.startsWith('/pkg/'),
    files: PKG_FILES,
    needs: PKG_FILES,
    hint: 'run `make build` first',
  },
  vanilla: {
    url: '/bench/vanilla.html',
    probe: PROBES.vanilla,
    isBannerFile: (p) => p.startsWith('/vendor/cookieconsent/'),
    files: [path.join(VANILLA_DIST, 'cookieconsent.umd.js'), path.join(VANILLA_DIST, 'cookieconsent.css')],
    needs: [path.join(VANILLA_DIST, 'cookieconsent.umd.js'), path.join(VANILLA_DIST, 'cookieconsent.css')],
    hint: 'run `scripts/setup.sh --browser` (npm ci in bench/)',
  },
  demo: {
    url: '/',
    probe: PROBES.ours,
    isBannerFile: (p) => p.startsWith('/pkg/'),
    files: PKG_FILES,
    needs: [path.join(ROOT, 'www/index.html'), ...PKG_FILES],
    hint: 'needs www/index.html and `make build`',
  },
};

function intEnv(name, dflt) {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) die(`${name} must be a non-negative integer, got ${v}`);
  return n;
}
function argValue(flag) {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
function die(msg) {
  console.error(`bench: ${msg}`);
  process.exit(2);
}
function median(xs) {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
const fmtMs = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const fmtB = (x) => (Number.isFinite(x) ? String(Math.round(x)) : '-');

function compressedSizes(files) {
  let raw = 0, gzip = 0, brotli = 0;
  for (const f of files) {
    const buf = fs.readFileSync(f);
    raw += buf.length;
    gzip += zlib.gzipSync(buf, { level: 9 }).length;
    brotli += zlib.brotliCompressSync(buf, {
      params: {
        [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
        [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length,
      },
    }).length;
  }
  return { raw, gzip, brotli };
}

// Injected before any page script: poll every animation frame, stamp the first frame the banner
// has a box (dom) and the first it is visible (visible). Times are ms since navigation start.
function initScript(probe) {
  return `(() => {
    const t = { dom: null, visible: null };
    Object.defineProperty(window, '__bench', { value: t });
    const tick = () => {
      try {
        const el = ${probe};
        if (el) {
          const r = el.getBoundingClientRect();
          if (r.width > 0 && r.height > 0) {
            if (t.dom === null) t.dom = performance.now();
            if (el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true })) {
              t.visible = performance.now();
              return;
            }
          }
        }
      } catch (e) {}
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  })();`;
}

async function measure(browser, baseUrl, name) {
  const spec = PAGES[name];
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console.error: ${m.text()}`); });
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  const pending = [];
  page.on('requestfinished', (req) => {
    pending.push((async () => {
      const u = new URL(req.url());
      if (u.origin !== baseUrl) return null;
      const resp = await req.response();
      const sizes = await req.sizes().catch(() => null);
      return { path: u.pathname, status: resp?.status(), body: sizes?.responseBodySize ?? 0,
               headers: sizes?.responseHeadersSize ?? 0 };
    })());
  });
  await page.addInitScript(initScript(spec.probe));
  try {
    const resp = await page.goto(baseUrl + spec.url, { waitUntil: 'commit', timeout: TIMEOUT_MS });
    if (!resp || !resp.ok()) throw new Error(`page ${spec.url} answered ${resp?.status()}`);
    try {
      await page.waitForFunction(() => window.__bench && window.__bench.visible !== null, null,
        { polling: 'raf', timeout: TIMEOUT_MS });
    } catch {
      const t = await page.evaluate(() => window.__bench).catch(() => null);
      throw new Error(`banner not visible within ${TIMEOUT_MS / 1000}s` +
        (t?.dom != null ? ` (in the DOM at ${t.dom.toFixed(0)} ms but never visible)` : ' (never appeared in the DOM)'));
    }
    const t = await page.evaluate(() => ({ ...window.__bench }));
    // Let requestfinished handlers for already-loaded files settle.
    await page.waitForLoadState('load', { timeout: TIMEOUT_MS }).catch(() => {});
    await new Promise((r) => setTimeout(r, 50));
    const reqs = (await Promise.all(pending)).filter(Boolean);
    const own = reqs.filter((r) => spec.isBannerFile(r.path));
    const bad = own.filter((r) => r.status !== 200);
    if (bad.length) throw new Error(`banner file(s) failed: ${bad.map((r) => `${r.path} ${r.status}`).join(', ')}`);
    return {
      dom: t.dom,
      visible: t.visible,
      bannerBody: own.reduce((s, r) => s + r.body, 0),
      bannerWire: own.reduce((s, r) => s + r.body + r.headers, 0),
      bannerRequests: own.length,
      pageBody: reqs.reduce((s, r) => s + r.body, 0),
      requests: reqs.length,
      errors,
    };
  } catch (err) {
    err.pageErrors = errors;
    throw err;
  } finally {
    await context.close();
  }
}

async function main() {
  const wanted = (process.env.BENCH_PAGES || 'ours,vanilla,demo').split(',').map((s) => s.trim()).filter(Boolean);
  for (const w of wanted) if (!PAGES[w]) die(`unknown page '${w}' in BENCH_PAGES (known: ${Object.keys(PAGES).join(', ')})`);
  if (!fs.existsSync(CHROMIUM)) die(`${CHROMIUM} not found; run scripts/setup.sh --browser`);

  let chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    die('playwright-core not installed in bench/; run scripts/setup.sh --browser');
  }

  const results = {};
  const active = [];
  for (const name of wanted) {
    const missing = PAGES[name].needs.filter((f) => !fs.existsSync(f)).map((f) => path.relative(ROOT, f));
    if (missing.length) {
      results[name] = { error: `missing ${missing.join(', ')} — ${PAGES[name].hint}` };
      console.log(`bench: ${name}: SKIPPED: ${results[name].error}`);
    } else {
      results[name] = { runs: [], sizes: compressedSizes(PAGES[name].files) };
      active.push(name);
    }
  }

  const srv = await startServer({
    mounts: [
      { prefix: '/', dir: path.join(ROOT, 'www') },
      { prefix: '/pkg/', dir: PKG },
      { prefix: '/bench/', dir: path.join(BENCH, 'pages') },
      { prefix: '/vendor/cookieconsent/', dir: VANILLA_DIST },
    ],
    routes: {
      // The banner's report endpoint, so no request leaves the machine.
      '/v1/events': (req, res) => { req.resume(); res.writeHead(204, { 'Cache-Control': 'no-store' }); res.end(); },
    },
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  console.log(`bench: ${srv.url}  chromium ${browser.version()}  ${RUNS} runs + ${WARMUP} warm-up per page: ${active.join(', ') || '(none)'}`);

  try {
    // Interleave pages run by run so drift (thermal, background work) hits all of them alike.
    for (let i = 0; i < WARMUP + RUNS; i++) {
      for (const name of active) {
        const r = results[name];
        if (r.error) continue;
        try {
          const m = await measure(browser, srv.url, name);
          if (i >= WARMUP) r.runs.push(m);
        } catch (err) {
          r.error = err.message;
          const detail = (err.pageErrors ?? []).slice(0, 5).map((e) => `\n    ${e}`).join('');
          console.log(`bench: ${name}: FAILED on run ${i + 1}: ${err.message}${detail}`);
        }
      }
      if (process.stdout.isTTY) process.stdout.write(`\rbench: run ${i + 1}/${WARMUP + RUNS}`);
    }
    if (process.stdout.isTTY) process.stdout.write('\n');
  } finally {
    await browser.close();
    await srv.close();
  }

  // Report.
  const rows = [];
  const summary = {};
  for (const name of wanted) {
    const r = results[name];
    if (r.error) {
      summary[name] = { error: r.error };
      rows.push([name, 'FAILED', '-', '-', '-', '-', '-', '-', '-']);
      continue;
    }
    const vis = r.runs.map((x) => x.visible);
    const dom = r.runs.map((x) => x.dom);
    const s = {
      runs: r.runs.length,
      visibleMedianMs: median(vis),
      visibleMinMs: Math.min(...vis),
      visibleMaxMs: Math.max(...vis),
      domMedianMs: median(dom),
      bannerBodyBytes: median(r.runs.map((x) => x.bannerBody)),
      bannerWireBytes: median(r.runs.map((x) => x.bannerWire)),
      bannerRequests: median(r.runs.map((x) => x.bannerRequests)),
      pageBodyBytes: median(r.runs.map((x) => x.pageBody)),
      files: PAGES[name].files.map((f) => path.relative(ROOT, f)),
      rawBytes: r.sizes.raw,
      gzipBytes: r.sizes.gzip,
      brotliBytes: r.sizes.brotli,
    };
    summary[name] = s;
    rows.push([name, String(s.runs), fmtMs(s.visibleMedianMs), `${fmtMs(s.visibleMinMs)}–${fmtMs(s.visibleMaxMs)}`,
      fmtMs(s.domMedianMs), fmtB(s.bannerBodyBytes),
      String(s.bannerRequests), fmtB(s.gzipBytes), fmtB(s.brotliBytes)]);
  }
  const head = ['page', 'runs', 'visible ms (median)', 'min–max', 'in DOM ms', 'banner bytes', 'reqs', 'gzip -9', 'brotli 11'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log();
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log();
  console.log('visible = first animation frame with the first layer visible, ms since navigation start (served from');
  console.log('127.0.0.1, uncompressed, no throttling). banner bytes = response bodies of the banner\'s own files;');
  console.log('gzip/brotli = those files compressed from disk (what a real server would send).');
  for (const name of wanted) if (results[name].error) console.log(`bench: ${name}: ${results[name].error}`);

  if (jsonOut) {
    fs.writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), runs: RUNS, results: summary }, null, 2) + '\n');
    console.log(`bench: wrote ${jsonOut}`);
  }
  const failed = wanted.filter((n) => results[n].error);
  process.exitCode = failed.length ? 1 : 0;
}

main().catch((err) => {
  console.error('bench: FAILED:', err?.stack ?? err);
  process.exit(1);
});
