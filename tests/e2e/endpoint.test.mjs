// Reporting end to end: the banner on a page and the real consent-endpoint binary, on loopback.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { harness, ROOT, waitReady, T } from './helpers.mjs';
import { config as baseConfig } from './standards-support.mjs';

const BIN = process.env.CONSENT_ENDPOINT_BIN || path.join(ROOT, 'target', 'debug', 'consent-endpoint');

/** The endpoint URL for the page currently being generated; set per test. */
let endpointUrl = '';
// The shared test-page config, pointed at the real endpoint and its `rufio-marketing` site.
const config = () => baseConfig({ siteId: 'rufio-marketing', endpoint: endpointUrl });

const h = harness({
  routes: {
    '/t/report.html': (req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="application/json" id="consent-config">${JSON.stringify(config())}</script>
<script src="/pkg/consent.js"></script></head><body><h1>Reporting</h1></body></html>`);
    },
  },
});

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** A consent-endpoint process with its own database; `start()` and `stop()` may repeat. */
async function endpoint(pageOrigin) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consent-e2e-'));
  const port = await freePort();
  const db = path.join(dir, 'consent.db');
  const toml = path.join(dir, 'endpoint.toml');
  fs.writeFileSync(toml, `listen = "127.0.0.1:${port}"\ndatabase = "${db}"\nadmin_token_env = "E2E_UNUSED_TOKEN"\n
[[sites]]\nid = "rufio-marketing"\norigins = ["${pageOrigin}"]\ncategories = ["essential", "analytics", "marketing"]\nrequired = ["essential"]\n`);
  let child = null;
  const ep = {
    url: `http://127.0.0.1:${port}/v1/events`,
    async start() {
      child = spawn(BIN, ['serve', '--config', toml], { stdio: ['ignore', 'ignore', 'pipe'] });
      let log = '';
      child.stderr.on('data', (d) => (log += d));
      const deadline = Date.now() + T;
      for (;;) {
        try {
          const r = await fetch(`http://127.0.0.1:${port}/healthz`);
          if (r.ok) return;
        } catch { /* not up yet */ }
        if (Date.now() > deadline) throw new Error(`endpoint did not start: ${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (!child) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      child = null;
    },
    rows() {
      const out = execFileSync(BIN, ['export', '--db', db], { encoding: 'utf8' });
      return out.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
    verify() {
      return execFileSync(BIN, ['verify', '--db', db], { encoding: 'utf8' });
    },
  };
  return ep;
}

const outbox = (page) => page.evaluate(() => localStorage.getItem('pc_outbox'));
const click = (page, action) => page.locator(`#pc-host >> section.layer [data-action="${action}"]`).click();
/** The event payload inside an exported row, whichever shape export gives it. */
const payload = (row) => (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload ?? row.event ?? row);

h.test('accept on a page -> exactly one committed row with the right choices', async ({ page }) => {
  assert.ok(fs.existsSync(BIN), `endpoint binary missing at ${BIN}: cargo build -p consent-endpoint`);
  const ep = await endpoint(h.url);
  endpointUrl = ep.url;
  await ep.start();
  try {
    await page.goto(`${h.url}/t/report.html?utm_source=mail&email=x%40y.z#top`);
    await waitReady(page);
    await click(page, 'accept-all');
    // The outbox empties only after the endpoint answered 2xx, i.e. after its durable commit.
    await page.waitForFunction(() => localStorage.getItem('pc_outbox') === null, null, { timeout: T });
    const rows = ep.rows();
    assert.equal(rows.length, 1);
    const e = payload(rows[0]);
    assert.equal(e.action, 'accept_all');
    assert.equal(e.surface, 'first_layer');
    assert.deepEqual(e.choices, { essential: true, analytics: true, marketing: true });
    assert.equal(e.consent_id, await page.evaluate(() => window.consent.consentId()));
    assert.equal(e.page, `${h.url}/t/report.html`, 'query string and fragment never leave the page');
    assert.match(e.banner_version, /^[0-9a-f]{32}$/);
    assert.match(ep.verify(), /ok/i);
  } finally {
    await ep.stop();
  }
});

h.test('endpoint down -> choose -> endpoint up -> reload -> the event arrives exactly once', async ({ page }) => {
  const ep = await endpoint(h.url);
  endpointUrl = ep.url;
  try {
    await page.goto(`${h.url}/t/report.html`);
    await waitReady(page);
    await click(page, 'reject-all');
    // The choice applies at once even though nothing could be delivered.
    assert.equal(await page.evaluate(() => window.consent.accepted('analytics')), false);
    await page.waitForFunction(() => {
      const o = JSON.parse(localStorage.getItem('pc_outbox') || '[]');
      return o.length === 1 && o[0][1] >= 1;
    }, null, { timeout: T });
    const [[eventId]] = JSON.parse(await outbox(page));
    await ep.start();
    await page.reload();
    await waitReady(page);
    await page.waitForFunction(() => localStorage.getItem('pc_outbox') === null, null, { timeout: T });
    // Further loads send nothing again.
    await page.reload();
    await waitReady(page);
    const rows = ep.rows();
    assert.equal(rows.length, 1, 'delivered once, deduplicated by event id');
    const e = payload(rows[0]);
    assert.equal(e.event_id, eventId);
    assert.equal(e.action, 'reject_all');
    assert.deepEqual(e.choices, { essential: true, analytics: false, marketing: false });
  } finally {
    await ep.stop();
  }
}, { allowConsole: [/ERR_CONNECTION_REFUSED|Failed to load resource|Failed to fetch/i] });
