// Consent Mode on a returning visit: the stored choice reaches Google's tags before the page's
// first event, and only while it is still the visitor's current, valid choice.
import assert from 'node:assert/strict';
import { harness, waitReady } from './helpers.mjs';
import { config } from './standards-support.mjs';

// The shared test-page config, without an endpoint: this file is about Consent Mode only.
const CONFIG = config({ siteId: 'gcm-order', endpoint: undefined });

const h = harness({
  routes: {
    '/t/gcm-order.html': (req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="application/json" id="consent-config">${JSON.stringify(CONFIG)}</script>
<script src="/pkg/consent.js"></script>
<script src="/t/gcm-page.js"></script></head><body><h1>Tags</h1></body></html>`);
    },
    // The site's own Google tag snippet, running synchronously right after the bootstrap.
    '/t/gcm-page.js': (req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store' });
      res.end("gtag('js', new Date()); gtag('config', 'G-TEST'); gtag('event', 'page_view');");
    },
  },
});

/** dataLayer as [command, arg1, arg2] arrays. */
const layer = (page) => page.evaluate(() => window.dataLayer.map((a) => Array.from(a).map((x) => (x instanceof Date ? 'date' : x))));
const consentCommands = (dl) => dl.filter((e) => e[0] === 'consent');
const indexOfEvent = (dl) => dl.findIndex((e) => e[0] === 'event');
const click = (page, action) => page.locator(`#pc-host >> section.layer [data-action="${action}"]`).click();

h.test('after Accept all and a reload, a granted update precedes the page\'s first event', async ({ page }) => {
  await page.goto(`${h.url}/t/gcm-order.html`);
  await waitReady(page);
  let dl = await layer(page);
  assert.equal(consentCommands(dl)[0][1], 'default');
  assert.ok(dl.indexOf(consentCommands(dl)[0]) < indexOfEvent(dl), 'default before the first event');
  assert.ok(!consentCommands(dl).slice(0, 1).some((c) => c[1] === 'update'), 'no early update on a first visit');
  await click(page, 'accept-all');
  await page.reload();
  await waitReady(page);
  dl = await layer(page);
  const firstUpdate = dl.findIndex((e) => e[0] === 'consent' && e[1] === 'update');
  assert.ok(firstUpdate >= 0 && firstUpdate < indexOfEvent(dl), `update before the first event: ${JSON.stringify(dl)}`);
  assert.equal(dl[firstUpdate][2].analytics_storage, 'granted');
  assert.equal(dl[firstUpdate][2].ad_storage, 'granted');
});

h.test('analytics only: the early update leaves every ad_* signal denied', async ({ page }) => {
  await page.goto(`${h.url}/t/gcm-order.html`);
  await waitReady(page);
  await page.evaluate(() => window.consent.accept(['analytics']));
  await page.reload();
  await waitReady(page);
  const dl = await layer(page);
  const u = dl.find((e) => e[0] === 'consent' && e[1] === 'update')[2];
  assert.deepEqual(
    [u.analytics_storage, u.ad_storage, u.ad_user_data, u.ad_personalization],
    ['granted', 'denied', 'denied', 'denied'],
  );
});

h.test('no early granted update when the stored choice changed, was withdrawn, or GPC appeared', async ({ page, context }) => {
  await page.goto(`${h.url}/t/gcm-order.html`);
  await waitReady(page);
  await click(page, 'accept-all');
  const early = async () => {
    const dl = await layer(page);
    return dl.slice(0, indexOfEvent(dl)).filter((e) => e[0] === 'consent' && e[1] === 'update');
  };
  // Another tab or site rewrote the cookie: the cached update no longer names it.
  await page.evaluate(() => {
    document.cookie = `pc_consent=${document.cookie.match(/pc_consent=([^;]+)/)[1].replace('analytics:1', 'analytics:0')}; path=/`;
  });
  await page.reload();
  await waitReady(page);
  assert.deepEqual(await early(), [], 'a changed record is never replayed');
  // The visitor resets: nothing to replay.
  await page.evaluate(() => window.consent.reset());
  await page.reload();
  await waitReady(page);
  assert.deepEqual(await early(), []);
  // Granted without GPC, then the browser starts sending GPC: no early grant.
  await click(page, 'accept-all');
  await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
  await page.reload();
  await waitReady(page);
  assert.deepEqual(await early(), []);
  // The banner then applies GPC: marketing off.
  assert.equal(await page.evaluate(() => window.consent.accepted('marketing')), false);
});
