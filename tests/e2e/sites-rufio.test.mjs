// A family of sites sharing one choice: the Rufio marketing site (www.rufio.test: essential,
// analytics, marketing) and the Rufio app (app.rufio.test: essential, analytics) set
// `cookie.domain: "rufio.test"`, so one consent cookie serves both. Chromium resolves
// *.rufio.test to this test's server (--host-resolver-rules); one server answers both hosts.
//
// The pages are the examples/ pages with exactly one change: the cookie domain added to the
// inline config (the README of examples/ tells site owners to do the same).
import fs from 'node:fs';
import path from 'node:path';
import { assert, waitReady, waitBanner, gated, settle, layerButton, prefs, switches, bannerState } from './helpers.mjs';
import { stdHarness, EXAMPLES_DIR, parseCookie } from './standards-support.mjs';

const h = stdHarness({ args: ['--host-resolver-rules=MAP *.rufio.test 127.0.0.1'] });

const CONFIG_RE = /(<script type="application\/json" id="consent-config">)([\s\S]*?)(<\/script>)/;
function withDomain(file) {
  const html = fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8');
  return html.replace(CONFIG_RE, (_, open, json, close) => {
    const cfg = JSON.parse(json);
    cfg.cookie = { domain: 'rufio.test' };
    return `${open}\n${JSON.stringify(cfg, null, 2)}\n${close}`;
  });
}
h.page('/', (req) => {
  const host = (req.headers.host ?? '').split(':')[0];
  if (host === 'www.rufio.test') return withDomain('rufio-marketing.html');
  if (host === 'app.rufio.test') return withDomain('rufio-app.html');
  return '<!doctype html><title>unknown host</title>';
});

const www = () => `http://www.rufio.test:${h.port}/`;
const app = () => `http://app.rufio.test:${h.port}/`;

async function shared(context) {
  const c = (await context.cookies()).filter((x) => x.name === 'pc_consent');
  assert.equal(c.length, 1, `one consent cookie: ${JSON.stringify(c)}`);
  return { domain: c[0].domain, raw: c[0].value, rec: parseCookie(c[0].value) };
}

h.test('a choice on www applies on app: no banner there, analytics runs', async ({ page, context }) => {
  await page.goto(www());
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.marketing === 1 && window.__gated?.analytics === 1);
  const c = await shared(context);
  assert.equal(c.domain, '.rufio.test', 'the cookie is set for the registrable domain');
  assert.deepEqual(c.rec?.choices, { essential: true, analytics: true, marketing: true });

  await page.goto(app());
  await waitReady(page);
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  const s = await bannerState(page);
  assert.ok(s.layer !== 'shown' && s.prefs !== 'shown', `no banner on app: ${JSON.stringify(s)}`);
  assert.equal(s.reopen, 'shown');
  assert.equal(await page.evaluate(() => window.consent.consentId()), c.rec.id, 'the same consent id');
});

h.test('withdrawing analytics on app keeps the marketing choice made on www; www then shows analytics off, marketing on', async ({ page, context }) => {
  await page.goto(www());
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.marketing === 1);

  await page.goto(app());
  await waitReady(page);
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  await page.click('footer [data-consent-open]');
  await waitBanner(page, 'prefs', 'shown');
  assert.deepEqual(Object.keys(await switches(page)), ['essential', 'analytics'], 'the app asks only about its own categories');
  await prefs(page, 'input[data-category=analytics]').uncheck();
  await prefs(page, '[data-action=save]').click();
  await waitBanner(page, 'prefs', 'hidden');
  const ev = await h.waitEvent((j) => j.site_id === 'rufio-app' && j.action === 'withdraw');
  assert.equal(ev.choices.analytics, false);
  const c = await shared(context);
  assert.match(c.raw, /~marketing:1(\.g)?$|marketing:1~/, `marketing kept in the cookie: ${c.raw}`);
  assert.deepEqual(c.rec?.choices, { essential: true, analytics: false, marketing: true });

  await page.goto(www());
  await waitReady(page);
  await page.waitForFunction(() => window.__gated?.marketing === 1);
  await settle(page, 300);
  assert.equal((await gated(page)).analytics, 0, 'analytics no longer runs on www');
  assert.equal(await page.evaluate(() => window.consent.accepted('analytics')), false);
  assert.equal(await page.evaluate(() => window.consent.accepted('marketing')), true);
  const s = await bannerState(page);
  assert.notEqual(s.layer, 'shown', 'www is decided: no banner');
  await page.click('footer [data-consent-open]');
  await waitBanner(page, 'prefs', 'shown');
  const sw = await switches(page);
  assert.equal(sw.analytics.checked, false, 'www preferences: analytics off');
  assert.equal(sw.marketing.checked, true, 'www preferences: marketing on');
});

h.test('a first choice on app leaves marketing undecided on www: the banner asks there, analytics pre-set from app', async ({ page, context }) => {
  await page.goto(app());
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  const c = await shared(context);
  assert.deepEqual(c.rec?.choices, { essential: true, analytics: true });

  await page.goto(www());
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  await settle(page, 300);
  assert.equal((await gated(page)).marketing, 0, 'marketing was never decided: off');
  await layerButton(page, 'customize').click();
  await waitBanner(page, 'prefs', 'shown');
  const sw = await switches(page);
  assert.equal(sw.analytics.checked, true, 'the analytics choice made on app shows on www');
  assert.equal(sw.marketing.checked, false);
  await prefs(page, '[data-action=save]').click();
  await waitBanner(page, 'prefs', 'hidden');
  assert.deepEqual((await shared(context)).rec?.choices, { essential: true, analytics: true, marketing: false });
});

h.test('a Reject all on www is respected on app (no banner, nothing runs)', async ({ page }) => {
  await page.goto(www());
  await waitReady(page);
  await layerButton(page, 'reject-all').click();
  await waitBanner(page, 'layer', 'hidden');
  await page.goto(app());
  await waitReady(page);
  await settle(page, 300);
  assert.equal((await gated(page)).analytics, 0);
  assert.notEqual((await bannerState(page)).layer, 'shown');
});
