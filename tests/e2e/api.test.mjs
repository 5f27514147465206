// The JS API (window.consent) and the DOM events, per docs/contract.md.
import {
  harness, assert, waitReady, settle, bannerState, gone, waitBanner, gated, cookieMap,
  layerButton, parseConsentCookie, recorded,
} from './helpers.mjs';

const h = harness();

h.test('acceptAll() called before ready is queued and applied; queries answer from nothing', async ({ page, context }) => {
  await page.goto(h.url + '/t/queue.html');
  const pre = await page.evaluate(() => window.__pre);
  assert.deepEqual(
    { hasApi: pre.hasApi, accepted: pre.accepted, categories: pre.categories, consentId: pre.consentId, readyIsPromise: pre.readyIsPromise },
    { hasApi: true, accepted: false, categories: [], consentId: null, readyIsPromise: true },
    'before the wasm: false, [], null, and ready is a Promise',
  );
  await waitReady(page);
  await page.waitForFunction(() => window.__gated?.analytics === 1 && window.__gated?.marketing === 1);
  await page.waitForFunction(() => window.__pre.readyResolved === true);
  await settle(page, 300);
  const st = await bannerState(page);
  assert.ok(gone(st.layer), `queued acceptAll hides the banner, got ${st.layer}`);
  assert.equal((await gated(page)).analytics, 1);
  assert.match(await page.evaluate(() => window.consent.consentId()), /^[0-9a-f]{32}$/);
  const rec = parseConsentCookie((await cookieMap(context)).pc_consent);
  assert.deepEqual(rec?.choices, { essential: true, analytics: true, marketing: true });
});

h.test('consent:ready fires exactly once per load, with {categories, consentId, decided}', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  // Give a late duplicate every chance to show up.
  await page.evaluate(() => window.consent.ready);
  await settle(page, 500);
  const ev = await recorded(page);
  assert.equal(ev.ready.length, 1, 'consent:ready once');
  const d = ev.ready[0];
  assert.ok(Array.isArray(d.categories), 'detail.categories is an array');
  assert.ok('consentId' in d, 'detail.consentId present');
  assert.equal(typeof d.decided, 'boolean');
  assert.equal(ev.change.length, 0, 'no consent:change without a choice');
});

h.test('a returning visitor: the API answers truly inside consent:ready handlers and gated scripts', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.consent.accepted('analytics'));
  await page.addInitScript(() => {
    document.addEventListener('consent:ready', () => {
      window.__atReady = { analytics: window.consent.accepted('analytics'), id: window.consent.consentId() };
    });
  });
  await page.reload();
  await waitReady(page);
  const at = await page.evaluate(() => window.__atReady);
  assert.equal(at.analytics, true, 'accepted() inside consent:ready');
  assert.match(at.id ?? '', /^[0-9a-f]{32}$/, 'consentId() inside consent:ready');
});

h.test('accepted(), acceptedCategories(), consentId() after a choice, accept([...])', async ({ page, context }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  assert.equal(await page.evaluate(() => window.consent.consentId()), null, 'no id before a choice');
  assert.equal(await page.evaluate(() => window.consent.accepted('essential')), true, 'essential is always accepted');
  assert.deepEqual(await page.evaluate(() => window.consent.acceptedCategories()), ['essential']);

  await page.evaluate(() => window.consent.accept(['analytics']));
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  const r = await page.evaluate(() => ({
    a: window.consent.accepted('analytics'),
    m: window.consent.accepted('marketing'),
    unknown: window.consent.accepted('no-such-category'),
    cats: window.consent.acceptedCategories(),
    id: window.consent.consentId(),
  }));
  assert.equal(r.a, true);
  assert.equal(r.m, false);
  assert.equal(r.unknown, false);
  assert.deepEqual(r.cats.slice().sort(), ['analytics', 'essential']);
  assert.match(r.id, /^[0-9a-f]{32}$/, 'consentId is 32 hex chars');
  assert.equal(parseConsentCookie((await cookieMap(context)).pc_consent)?.id, r.id, 'same id in the cookie');
  await waitBanner(page, 'layer', 'hidden');
  const ev = await recorded(page);
  assert.equal(ev.change.length, 1);
  assert.deepEqual(ev.change[0].changed.slice().sort(), ['analytics']);

  // The preferences show the same id.
  await page.evaluate(() => window.consent.showPreferences());
  await waitBanner(page, 'prefs', 'shown');
  const shown = await page.evaluate(() =>
    document.querySelector('#pc-host').shadowRoot.querySelector('div.prefs [data-consent-id]')?.textContent ?? '');
  assert.ok(shown.includes(r.id), `prefs show the consent id: "${shown}"`);

  // rejectAll() via the API withdraws analytics.
  await page.evaluate(() => window.consent.rejectAll());
  await page.waitForFunction(() => window.__ev.change.length === 2);
  assert.deepEqual(await page.evaluate(() => window.consent.acceptedCategories()), ['essential']);
  assert.equal(await page.evaluate(() => window.consent.consentId()), r.id, 'id stable across changes');
});

h.test('reset() brings the banner back and nothing new runs', async ({ page, context }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.analytics === 1 && window.__gated?.marketing === 1);
  await waitBanner(page, 'layer', 'hidden');

  await page.evaluate(() => window.consent.reset());
  await waitBanner(page, 'layer', 'shown');
  await settle(page, 300);
  const g = await gated(page);
  assert.equal(g.analytics, 1, 'nothing re-ran');
  assert.equal(g.marketing, 1, 'nothing re-ran');
  assert.equal(await page.evaluate(() => window.consent.accepted('analytics')), false, 'analytics no longer accepted');
  assert.equal(await page.evaluate(() => window.consent.consentId()), null, 'consent id cleared');
  assert.ok(!('pc_consent' in (await cookieMap(context))), 'stored record cleared');

  // After a reload the visitor is asked again and nothing runs.
  await page.reload();
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  await settle(page, 300);
  const g2 = await gated(page);
  assert.equal(g2.analytics + g2.marketing, 0);
});

h.test('show() reopens the first layer; showPreferences() opens the dialog', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await layerButton(page, 'reject-all').click();
  await waitBanner(page, 'layer', 'hidden');
  await page.evaluate(() => window.consent.show());
  await waitBanner(page, 'layer', 'shown');
  await layerButton(page, 'reject-all').click();
  await waitBanner(page, 'layer', 'hidden');
  await page.evaluate(() => window.consent.showPreferences());
  await waitBanner(page, 'prefs', 'shown');
  await settle(page, 200);
  assert.equal((await gated(page)).analytics, 0, 'opening the UI runs nothing');
});

h.test('a choice is reported to the configured endpoint', async ({ page }) => {
  const before = h.events.length;
  await page.goto(h.url + '/');
  await waitReady(page);
  const req = page.waitForRequest((r) => r.url().endsWith('/v1/events') && r.method() === 'POST');
  await layerButton(page, 'accept-all').click();
  const r = await req;
  const id = await page.evaluate(() => window.consent.consentId());
  const body = r.postData() ?? '';
  assert.ok(body.includes(id), 'the report carries the consent id');
  const deadline = Date.now() + 5000;
  while (h.events.length === before && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
  assert.ok(h.events.length > before, 'the endpoint received the event');
});

h.test('accept() with bad input: not an array changes nothing; unknown names are dropped; each says why once', async ({ page }) => {
  const warnings = [];
  page.on('console', (m) => m.type() === 'warning' && warnings.push(m.text()));
  await page.goto(h.url + '/');
  await waitReady(page);

  const threw = await page.evaluate(() => {
    try {
      window.consent.accept('analytics');
      return null;
    } catch (e) {
      return String(e);
    }
  });
  assert.equal(threw, null, 'no exception reaches the page');
  await settle(page, 200);
  assert.equal(await page.evaluate(() => window.consent.consentId()), null, 'no decision was made');
  assert.equal((await bannerState(page)).layer, 'shown', 'the banner still asks');
  assert.equal(warnings.filter((w) => w.includes('expects an array')).length, 1, `warnings: ${JSON.stringify(warnings)}`);

  // A typo is not a decision: nothing is stored or reported as the visitor's choice.
  for (const bad of [['analytics', 'no-such-category'], ['analytic'], ['analytics', 42]]) {
    await page.evaluate((b) => window.consent.accept(b), bad);
  }
  await settle(page, 200);
  assert.equal(await page.evaluate(() => window.consent.consentId()), null, 'still no decision');
  assert.equal((await bannerState(page)).layer, 'shown', 'the banner still asks');
  assert.equal(warnings.filter((w) => w.includes('unknown category names; nothing changed')).length, 3, `warnings: ${JSON.stringify(warnings)}`);
  await page.evaluate(() => window.consent.accept(['analytics']));
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  assert.deepEqual((await page.evaluate(() => window.consent.acceptedCategories())).sort(), ['analytics', 'essential']);
});

h.test('config fetched through data-config: the default the bootstrap had to send is followed by updates', async ({ page }) => {
  await page.goto(h.url + '/t/gcm-fetched.html');
  await waitReady(page);
  const consent = () => page.evaluate(() => (window.dataLayer || []).filter((e) => e[0] === 'consent').map((e) => [e[1], e[2]]));
  const before = await consent();
  assert.equal(before[0]?.[0], 'default', `the bootstrap's default: ${JSON.stringify(before)}`);
  assert.equal(before[0][1].analytics_storage, 'denied');
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => (window.dataLayer || []).some((e) => e[0] === 'consent' && e[1] === 'update' && e[2].analytics_storage === 'granted'));
});

h.test('a page localStorage wrapper that fires same-tab storage events and calls the API: no trap, its call applies', async ({ page, errors }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  // The wrapper's rejectAll() ran while the banner wrote its Consent Mode hint.
  await page.waitForFunction(() => window.__calledBack === 1);
  await settle(page, 300);
  assert.deepEqual(await page.evaluate(() => window.consent.acceptedCategories()), ['essential'], 'the nested rejectAll applied');
  assert.deepEqual(errors.page, [], 'no trap');
}, {
  init: [() => {
    // The "same-tab storage event" trick, plus a wrapper that consults the banner.
    const set = Storage.prototype.setItem;
    Storage.prototype.setItem = function (k, v) {
      set.call(this, k, v);
      window.dispatchEvent(new Event('storage'));
      if (k === 'pc_gcm' && !window.__calledBack && window.consent.accepted('marketing')) {
        window.__calledBack = 1;
        window.consent.rejectAll();
      }
    };
  }],
});

h.test('a page Date.now that reads the API: the banner keeps working after a decision', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await page.evaluate(() => { window.__trackConsent = 1; });
  await layerButton(page, 'accept-all').click();
  await waitBanner(page, 'layer', 'hidden');
  assert.equal(await page.evaluate(() => window.consent.accepted('analytics')), true);
  await page.evaluate(() => window.consent.rejectAll());
  assert.deepEqual(await page.evaluate(() => window.consent.acceptedCategories()), ['essential']);
}, {
  init: [() => {
    const now = Date.now;
    Date.now = function () {
      if (window.__trackConsent) window.consent.accepted('analytics');
      return now.call(Date);
    };
  }],
});
