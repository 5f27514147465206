// Single-page apps (fault matrix row 25): client-side navigation (history.pushState + DOM
// replacement by the page's own router, pages/std/spa.html) never re-prompts, and gated elements
// that a route change adds are handled: run when granted, inert when not.
import { assert, waitReady, waitBanner, settle, layerButton, bannerState, recorded } from './helpers.mjs';
import { stdHarness } from './standards-support.mjs';

const h = stdHarness();

const go = async (page, route) => {
  const before = await page.evaluate(() => window.__routeChanges || 0);
  await page.click(`nav a[data-route=${route}]`);
  await page.waitForFunction((n) => (window.__routeChanges || 0) > n, before);
};
const routeRuns = (page) => page.evaluate(() => (window.__routeRuns || []).slice());
const states = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('#view [data-consent]')].map((el) => ({
      tag: el.tagName.toLowerCase(),
      cat: el.getAttribute('data-consent'),
      state: el.getAttribute('data-consent-state'),
      type: el.getAttribute('type'),
      src: el.getAttribute('src'),
    })),
  );

h.test('after Accept all, route changes never re-prompt and the gated elements they add run', async ({ page }) => {
  await page.goto(h.url + '/std/spa.html');
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await waitBanner(page, 'layer', 'hidden');
  for (const r of ['pricing', 'blog', 'home', 'pricing']) {
    await go(page, r);
    await settle(page, 100);
    const s = await bannerState(page);
    assert.ok(s.layer !== 'shown' && s.prefs !== 'shown', `${r}: no re-prompt (${JSON.stringify(s)})`);
    assert.equal(s.reopen, 'shown', `${r}: the re-open control stays`);
    assert.equal(s.hosts, 1, `${r}: one banner host`);
  }
  assert.ok(page.url().endsWith('/std/spa/pricing'), `client-side URL: ${page.url()}`);
  await page.waitForFunction(() => (window.__routeRuns || []).length >= 3);
  assert.deepEqual(await routeRuns(page), ['pricing-analytics', 'blog-marketing', 'pricing-analytics'], 'each route insertion ran once');
  const st = await states(page);
  const frame = st.find((e) => e.tag === 'iframe');
  assert.equal(frame?.state, 'activated', `the route's gated iframe loaded: ${JSON.stringify(st)}`);
  assert.equal(frame?.src, '/t/frame.html');
  const ev = await recorded(page);
  assert.equal(ev.ready.length, 1, 'one page load, one consent:ready');
  // Back/forward inside the app (popstate) re-renders without re-prompting either.
  await page.goBack({ waitUntil: 'commit' });
  await page.waitForFunction(() => location.pathname.endsWith('/std/spa.html'));
  await settle(page, 200);
  assert.notEqual((await bannerState(page)).layer, 'shown');
});

h.test('after Reject all, the gated elements a route adds stay inert', async ({ page }) => {
  await page.goto(h.url + '/std/spa.html');
  await waitReady(page);
  await layerButton(page, 'reject-all').click();
  await waitBanner(page, 'layer', 'hidden');
  await go(page, 'pricing');
  await settle(page, 400);
  const st = await states(page);
  assert.equal(st.length, 2, JSON.stringify(st));
  for (const e of st) {
    assert.notEqual(e.state, 'activated', `inert: ${JSON.stringify(e)}`);
    if (e.tag === 'script') assert.equal(e.type, 'text/plain');
    if (e.tag === 'iframe') assert.equal(e.src, null, 'no src on the refused iframe');
  }
  await go(page, 'blog');
  await settle(page, 400);
  assert.deepEqual(await routeRuns(page), [], 'nothing ran');
  assert.notEqual((await bannerState(page)).layer, 'shown', 'no re-prompt');
});

h.test('undecided visitor: the banner stays up (one host) across route changes; a later Accept all runs what the current route added', async ({ page }) => {
  await page.goto(h.url + '/std/spa.html');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  await go(page, 'pricing');
  await settle(page, 300);
  const s = await bannerState(page);
  assert.equal(s.layer, 'shown');
  assert.equal(s.hosts, 1);
  assert.deepEqual(await routeRuns(page), [], 'nothing ran while undecided');
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => (window.__routeRuns || []).includes('pricing-analytics'));
  assert.equal((await recorded(page)).ready.length, 1);
});
