// Global Privacy Control (compliance.md C-D1, C-D2, C-D5, C-D6): with
// navigator.globalPrivacyControl === true, marketing is off before any interaction, the banner
// still asks about the rest, the honoured signal is shown and reported, and an explicit opt-in
// made while sending the signal is kept.
import {
  assert,
  waitReady,
  waitBanner,
  gated,
  settle,
  layerButton,
  prefs,
  switches,
  cookieMap,
  bannerState,
} from './helpers.mjs';
import { stdHarness, config, html, parseCookie, GPC_ON, sleep } from './standards-support.mjs';

const h = stdHarness();
h.page('/g/gpc.html', () => html({ cfg: config() }));
h.page('/g/gpc-2.html', () => html({ cfg: config(), title: 'Second page' }));

const gpcEvents = () => h.events.filter((e) => e.json?.action === 'gpc');

h.test(
  'GPC on, first visit: marketing off before any click, banner still shown, gpc event reported, notice + switch off in preferences',
  async ({ page, context }) => {
    await page.goto(h.url + '/g/gpc.html');
    await waitReady(page);
    await waitBanner(page, 'layer', 'shown');
    assert.equal(await page.evaluate(() => navigator.globalPrivacyControl), true, 'the init script sets the signal');
    assert.equal(await page.evaluate(() => window.consent.accepted('marketing')), false, 'marketing off');
    assert.equal(await page.evaluate(() => window.consent.accepted('analytics')), false, 'analytics undecided = off');
    const ready = await page.evaluate(() => window.__ev.ready[0]);
    assert.equal(ready.decided, false, `analytics is still undecided, so not decided: ${JSON.stringify(ready)}`);
    // The first layer says so before the visitor chooses (C-D2), so Accept all is an informed override.
    const layerNotice = page.locator('#pc-host section.layer [data-gpc-notice]');
    assert.ok(await layerNotice.isVisible(), 'the GPC notice is visible on the first layer');
    assert.match((await layerNotice.textContent()) ?? '', /Global Privacy Control/);

    const ev = await h.waitEvent((j) => j.action === 'gpc');
    assert.equal(ev.surface, 'signal');
    assert.equal(ev.gpc, true);
    assert.equal(ev.choices.marketing, false);
    assert.notEqual(ev.choices.analytics, true, 'GPC grants nothing');
    assert.equal(ev.site_id, 'std-pages');

    // Consent Mode: the update the banner sends keeps the ad signals denied (C-D1).
    const updates = await page.evaluate(() =>
      (window.dataLayer || []).map((a) => Array.from(a)).filter((e) => e[0] === 'consent' && e[1] === 'update'),
    );
    assert.ok(updates.length >= 1, 'an update was sent');
    for (const u of updates) {
      for (const k of ['ad_storage', 'ad_user_data', 'ad_personalization']) assert.equal(u[2][k], 'denied', `${k} in ${JSON.stringify(u)}`);
    }

    await layerButton(page, 'customize').click();
    await waitBanner(page, 'prefs', 'shown');
    const sw = await switches(page);
    assert.equal(sw.marketing.checked, false, 'marketing switch off');
    assert.equal(sw.analytics.checked, false, 'analytics switch off (not pre-ticked)');
    const notice = page.locator('#pc-host div.prefs [data-gpc-notice]');
    assert.ok(await notice.isVisible(), 'the GPC notice is visible');
    assert.match((await notice.textContent()) ?? '', /Global Privacy Control/);
    await settle(page, 300);
    assert.equal((await gated(page)).marketing, 0, 'no marketing script ran');
    const rec = parseCookie((await cookieMap(context)).pc_consent);
    if (rec) assert.notEqual(rec.choices.marketing, true, `stored record does not grant marketing: ${JSON.stringify(rec)}`);
  },
  { init: [GPC_ON] },
);

h.test(
  'GPC on: the visitor may still opt in (Accept all → marketing runs, event accept_all gpc:true), kept on reload with no second gpc event',
  async ({ page, context }) => {
    await page.goto(h.url + '/g/gpc.html');
    await waitReady(page);
    await h.waitEvent((j) => j.action === 'gpc');
    await layerButton(page, 'accept-all').click();
    await page.waitForFunction(() => window.__gated?.marketing === 1 && window.__gated?.analytics === 1);
    const acc = await h.waitEvent((j) => j.action === 'accept_all');
    assert.equal(acc.gpc, true, 'the event says the signal was present');
    assert.equal(acc.choices.marketing, true);
    const rec = parseCookie((await cookieMap(context)).pc_consent);
    assert.deepEqual(rec?.choices, { essential: true, analytics: true, marketing: true }, 'explicit opt-in stored');

    await page.reload();
    await waitReady(page);
    await page.waitForFunction(() => window.__gated?.marketing === 1);
    assert.equal(await page.evaluate(() => window.consent.accepted('marketing')), true, 'opt-in honoured on reload');
    const s = await bannerState(page);
    assert.equal(s.layer === 'shown', false, `no banner on reload: ${JSON.stringify(s)}`);
    // Another page of the site, too.
    await page.goto(h.url + '/g/gpc-2.html');
    await waitReady(page);
    await page.waitForFunction(() => window.__gated?.marketing === 1);
    await sleep(500);
    assert.equal(gpcEvents().length, 1, `one gpc event in all: ${JSON.stringify(h.events.map((e) => e.json?.action))}`);
  },
  { init: [GPC_ON] },
);

h.test('earlier Accept all without GPC, then GPC on: marketing off on the next load, analytics kept, gpc event', async ({ page, context }) => {
  await page.goto(h.url + '/g/gpc.html');
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.marketing === 1);
  await h.waitEvent((j) => j.action === 'accept_all');
  assert.equal(gpcEvents().length, 0);

  await context.addInitScript(GPC_ON); // applies from the next navigation on
  await page.reload();
  await waitReady(page);
  assert.equal(await page.evaluate(() => navigator.globalPrivacyControl), true);
  await settle(page, 300);
  assert.equal((await gated(page)).marketing, 0, 'marketing did not run');
  assert.equal((await gated(page)).analytics, 1, 'analytics (not covered by GPC) still runs');
  assert.equal(await page.evaluate(() => window.consent.accepted('marketing')), false);
  const ev = await h.waitEvent((j) => j.action === 'gpc');
  assert.equal(ev.surface, 'signal');
  assert.equal(ev.gpc, true);
  assert.equal(ev.choices.marketing, false);
  assert.equal(ev.choices.analytics, true);
  const rec = parseCookie((await cookieMap(context)).pc_consent);
  assert.equal(rec?.choices.marketing, false, `stored: ${JSON.stringify(rec)}`);
  // The honoured signal is shown where the visitor looks (C-D2), and re-consent is offered (C-D5).
  await page.evaluate(() => window.consent.showPreferences());
  await waitBanner(page, 'prefs', 'shown');
  assert.ok(await page.locator('#pc-host div.prefs [data-gpc-notice]').isVisible(), 'GPC notice shown');
  assert.equal((await switches(page)).marketing.checked, false);
  assert.equal((await switches(page)).marketing.disabled, false, 'the visitor can switch marketing back on');
  await prefs(page, '[data-action=close]').click();
});

h.test('without GPC there is no gpc event and no notice', async ({ page }) => {
  await page.goto(h.url + '/g/gpc.html');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  assert.equal(await page.locator('#pc-host section.layer [data-gpc-notice]').isVisible(), false);
  await layerButton(page, 'customize').click();
  await waitBanner(page, 'prefs', 'shown');
  assert.equal(await page.locator('#pc-host div.prefs [data-gpc-notice]').isVisible(), false);
  await sleep(500);
  assert.equal(gpcEvents().length, 0);
});

h.test(
  'GPC on a site without a marketing category (trAPIoka example): nothing to turn off, no gpc event, no notice, banner shown',
  async ({ page }) => {
    await page.goto(h.url + '/examples/trapioka.html');
    await waitReady(page);
    await waitBanner(page, 'layer', 'shown');
    await layerButton(page, 'customize').click();
    await waitBanner(page, 'prefs', 'shown');
    assert.equal(await page.locator('#pc-host div.prefs [data-gpc-notice]').isVisible(), false);
    await sleep(500);
    assert.equal(gpcEvents().length, 0, JSON.stringify(h.events.map((e) => e.json)));
  },
  { init: [GPC_ON] },
);

h.test(
  'GPC on, no click on three pages: one gpc event in all, the banner asks on each page (analytics undecided), marketing never runs',
  async ({ page }) => {
    for (const path of ['/g/gpc.html', '/g/gpc-2.html', '/g/gpc.html']) {
      await page.goto(h.url + path);
      await waitReady(page);
      await waitBanner(page, 'layer', 'shown');
      await settle(page, 200);
      assert.equal((await gated(page)).marketing, 0);
    }
    await h.waitEvent((j) => j.action === 'gpc');
    await sleep(500);
    assert.equal(gpcEvents().length, 1, `events: ${JSON.stringify(h.events.map((e) => e.json?.action))}`);
  },
  { init: [GPC_ON] },
);
