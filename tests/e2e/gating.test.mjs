// Gated elements: inserted later (MutationObserver path), document order, module type, copied
// attributes, gated iframes.
import { harness, assert, waitReady, settle, waitBanner, gated, layerButton } from './helpers.mjs';

const h = harness();

/** Insert a gated inline script from page code; it increments window.__gated[key]. */
async function insertGated(page, category, key) {
  await page.evaluate(({ category, key }) => {
    const s = document.createElement('script');
    s.type = 'text/plain';
    s.setAttribute('data-consent', category);
    s.textContent = `(function(){var g=window.__gated=window.__gated||{};g.order=g.order||[];` +
      `g[${JSON.stringify(key)}]=(g[${JSON.stringify(key)}]||0)+1;g.order.push(${JSON.stringify(key)});})();`;
    document.body.appendChild(s);
  }, { category, key });
}

h.test('gated elements inserted after load run once consent exists (MutationObserver)', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await layerButton(page, 'customize').click();
  await page.locator('#pc-host div.prefs input[data-category=analytics]').check();
  await page.locator('#pc-host div.prefs [data-action=save]').click();
  await page.waitForFunction(() => window.__gated?.analytics === 1);

  await insertGated(page, 'analytics', 'late_analytics');
  await insertGated(page, 'marketing', 'late_marketing');
  await page.waitForFunction(() => window.__gated?.late_analytics === 1);
  // An iframe too.
  await page.evaluate(() => {
    const f = document.createElement('iframe');
    f.setAttribute('data-consent', 'analytics');
    f.setAttribute('data-src', '/t/frame.html');
    f.id = 'late-frame';
    f.title = 'late';
    document.body.appendChild(f);
  });
  await page.waitForFunction(() => document.getElementById('late-frame').getAttribute('src') === '/t/frame.html');
  await settle(page, 300);
  const g = (await gated(page)).raw;
  assert.equal(g.late_analytics, 1, 'late analytics script ran once');
  assert.equal(g.late_marketing, undefined, 'late marketing script did not run (not granted)');
  const state = await page.evaluate(() =>
    [...document.querySelectorAll('script[data-consent]')].map((s) => [s.textContent.includes('late_analytics') ? 'late' : 'other', s.getAttribute('data-consent-state')]));
  assert.ok(state.some(([k, s]) => k === 'late' && s === 'activated'), `late script marked activated: ${JSON.stringify(state)}`);
});

h.test('a later-inserted gated inline script may call the API as it runs (re-entrant, no crash)', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  // Runs inside the banner's own activation (MutationObserver → activate), and changes the choice.
  await page.evaluate(() => {
    const s = document.createElement('script');
    s.type = 'text/plain';
    s.setAttribute('data-consent', 'analytics');
    s.textContent = 'window.__reentered = window.consent.accepted("analytics"); window.consent.rejectAll();';
    document.body.appendChild(s);
  });
  await page.waitForFunction(() => window.__reentered === true);
  await page.waitForFunction(() => !window.consent.accepted('analytics'));
  // The banner still answers and acts afterwards.
  await page.evaluate(() => window.consent.acceptAll());
  assert.equal(await page.evaluate(() => window.consent.accepted('marketing')), true);
});

h.test('a gated script inserted before consent runs after Accept all, once', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await insertGated(page, 'analytics', 'early_analytics');
  await insertGated(page, 'marketing', 'early_marketing');
  await settle(page, 300);
  assert.equal((await gated(page)).raw.early_analytics, undefined, 'not before consent');
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.early_analytics === 1 && window.__gated?.early_marketing === 1);
  await settle(page, 300);
  const g = (await gated(page)).raw;
  assert.equal(g.early_analytics, 1);
  assert.equal(g.early_marketing, 1);
  assert.equal(g.analytics, 1);
  assert.equal(g.marketing, 1);
});

h.test('after Reject all, later-inserted gated scripts stay inert', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await layerButton(page, 'reject-all').click();
  await waitBanner(page, 'layer', 'hidden');
  await insertGated(page, 'analytics', 'late_analytics');
  await settle(page, 400);
  assert.equal((await gated(page)).raw.late_analytics, undefined);
  const type = await page.evaluate(() => [...document.querySelectorAll('script[data-consent]')].pop().type);
  assert.equal(type, 'text/plain', 'still inert');
});

h.test('a category withdrawn while an earlier external script loads: its queued scripts do not run', async ({ page }) => {
  await page.goto(h.url + '/t/queue-change.html');
  await waitReady(page);
  // Everything is queued behind the slow first script; then marketing is withdrawn.
  await page.evaluate(() => { window.consent.acceptAll(); window.consent.accept(['analytics']); });
  await page.waitForFunction(() => window.__gated?.c === 1);
  await settle(page, 300);
  const g = (await gated(page)).raw;
  assert.deepEqual(g.order, ['order-a', 'order-b'], 'analytics ran, in order');
  assert.equal(g.d, undefined, 'the marketing script queued before the withdrawal did not run');
  // Granted again later, it runs then.
  await page.evaluate(() => window.consent.acceptAll());
  await page.waitForFunction(() => window.__gated?.d === 1);
});

h.test('a queued external script removed before its turn does not stall the ones after it', async ({ page }) => {
  await page.goto(h.url + '/t/queue-change.html');
  await waitReady(page);
  await page.evaluate(() => { window.consent.acceptAll(); document.getElementById('b').remove(); });
  await page.waitForFunction(() => window.__gated?.c === 1 && window.__gated?.d === 1);
  assert.deepEqual((await gated(page)).raw.order, ['order-a'], 'the removed script never ran');
});

h.test('external gated scripts run in document order even when the first arrives late', async ({ page }) => {
  await page.goto(h.url + '/t/order.html');
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => (window.__gated?.order || []).length >= 2);
  await settle(page, 300);
  assert.deepEqual((await gated(page)).order, ['order-a', 'order-b']);
});

h.test('gated scripts run in document order after a reload (stored consent, first script slow)', async ({ page }) => {
  await page.goto(h.url + '/t/order.html');
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => (window.__gated?.order || []).length >= 2);
  await page.reload();
  await waitReady(page);
  await page.waitForFunction(() => (window.__gated?.order || []).length >= 2);
  await settle(page, 300);
  assert.deepEqual((await gated(page)).order, ['order-a', 'order-b']);
});

h.test('external and inline gated scripts together keep document order', async ({ page }) => {
  await page.goto(h.url + '/t/order-mixed.html');
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => (window.__gated?.order || []).length >= 3);
  await settle(page, 300);
  assert.deepEqual((await gated(page)).order, ['order-a', 'inline-mid', 'order-b']);
});

h.test('an async gated script is not waited for, and its load does not release the queue early', async ({ page }) => {
  await page.goto(h.url + '/t/order-async.html');
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => (window.__gated?.order || []).length >= 3);
  await settle(page, 300);
  const order = (await gated(page)).order;
  assert.deepEqual([...order].sort(), ['inline-mid', 'order-a', 'order-b']);
  assert.ok(order.indexOf('order-a') < order.indexOf('inline-mid'), `the inline script waits for the slow one before it: ${order}`);
});

h.test('data-type="module" becomes the type; attributes copied; gated iframe gets its src', async ({ page }) => {
  await page.goto(h.url + '/t/gating.html');
  await waitReady(page);
  await settle(page, 200);
  assert.equal(await page.evaluate(() => document.querySelector('iframe[data-consent]').getAttribute('src')), null);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.module && window.__gated?.attrs);
  const g = (await gated(page)).raw;
  assert.equal(g.module, h.url + '/t/module.js', 'module script ran as a module');
  const { type, ...copied } = g.attrs;
  assert.deepEqual(copied, { crossorigin: 'anonymous', referrerpolicy: 'no-referrer', probe: 'attrs' },
    'activated script keeps crossorigin, referrerpolicy and data-* attributes');
  assert.ok([null, '', 'text/javascript', 'application/javascript'].includes(type), `classic script type: ${type}`);
  // An external script the author marked async stays async (and is not waited for).
  const live = await page.waitForFunction(() => document.querySelector('script[data-probe=async][src]'));
  assert.equal(await live.evaluate((s) => s.async && s.hasAttribute('async')), true, 'async kept');
  await page.waitForFunction(() => document.querySelector('iframe[data-consent]').getAttribute('src') === '/t/frame.html');
  // The frame navigates after its src is set; wait for its document rather than racing it.
  const frame = await (await page.$('iframe[data-consent]')).contentFrame();
  assert.ok(frame);
  await frame.waitForSelector('#frame-ok');
  assert.ok(frame.url().endsWith('/t/frame.html'));
});
