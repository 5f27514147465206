// How the banner's reporter treats the endpoint's answers other than 2xx, against a scripted
// stand-in endpoint: 503 and 429 keep the event (honouring Retry-After, also across page loads),
// a 400 drops it; the visitor's choice applies at once either way, with one console warning.
import { harness, assert, T, waitReady, settle, layerButton } from './helpers.mjs';

/** What the stand-in endpoint answers next, and every POST it received. */
const script = { status: 204, headers: {}, posts: [] };

const h = harness({
  routes: {
    '/v1/events': (req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST') script.posts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(script.status, { 'Cache-Control': 'no-store', ...script.headers });
        res.end(script.status === 400 ? '{"error":"bad field","field":"choices.x"}' : '');
      });
    },
  },
});

// Chromium logs every non-2xx fetch as a console error of its own; those are expected here.
const answered = { allowConsole: [/Failed to load resource: the server responded with a status of (400|429|503)/] };

const outbox = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('pc_outbox') || '[]'));

/** Loads the demo page with the endpoint answering `status`, collecting the banner's warnings. */
async function visit(page, status, headers = {}) {
  Object.assign(script, { status, headers, posts: [] });
  const warnings = [];
  page.on('console', (m) => m.type() === 'warning' && m.text().startsWith('consent:') && warnings.push(m.text()));
  await page.goto(h.url + '/');
  await waitReady(page);
  return warnings;
}

async function waitPosts(n) {
  const deadline = Date.now() + T;
  while (script.posts.length < n && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 25));
  assert.equal(script.posts.length, n, `the endpoint received ${n} event(s)`);
}

for (const status of [503, 429]) {
  h.test(`${status} + Retry-After: the choice applies, the event stays queued and is not resent before then`, async ({ page }) => {
    const warnings = await visit(page, status, { 'Retry-After': '120' });
    const t0 = await page.evaluate(() => Date.now());
    await layerButton(page, 'accept-all').click();
    assert.equal(await page.evaluate(() => window.consent.accepted('marketing')), true, 'applies at once');
    await waitPosts(1);
    await page.waitForFunction(() => JSON.parse(localStorage.getItem('pc_outbox') || '[]')[0]?.[1] === 1, null, { timeout: T });
    const [[id, attempts, nextAt]] = await outbox(page);
    assert.equal(id, script.posts[0].event_id, 'the queued event is the one sent');
    assert.equal(attempts, 1);
    assert.ok(nextAt >= t0 + 119_000, `next try honours Retry-After (in ${nextAt - t0} ms)`);
    // A later page load, and the page becoming visible again, do not send it early.
    await page.reload();
    await waitReady(page);
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await settle(page, 300);
    assert.equal(script.posts.length, 1, 'not resent before Retry-After');
    assert.equal((await outbox(page)).length, 1, 'still queued');
    assert.deepEqual(warnings, ['consent: the consent endpoint is unreachable; the choice applies and will be reported later.']);
  }, answered);
}

h.test('400: the event is dropped (it would never be accepted) with one warning; the choice stands', async ({ page }) => {
  const warnings = await visit(page, 400);
  await layerButton(page, 'reject-all').click();
  await waitPosts(1);
  await page.waitForFunction(() => localStorage.getItem('pc_outbox') === null, null, { timeout: T });
  assert.equal(await page.evaluate(() => window.consent.accepted('analytics')), false);
  // A second decision refused the same way still warns only once per page.
  await page.evaluate(() => window.consent.acceptAll());
  await waitPosts(2);
  await page.waitForFunction(() => localStorage.getItem('pc_outbox') === null, null, { timeout: T });
  assert.equal(await page.evaluate(() => window.consent.accepted('analytics')), true);
  assert.deepEqual(warnings, ['consent: the consent endpoint refused an event; see its response for the field.']);
}, answered);

h.test('localStorage refuses the outbox (quota): the event is kept in memory and delivered, not lost', async ({ page, context }) => {
  // An outbox from an earlier visit is still stored, and every new write of it fails.
  await context.addInitScript(() => {
    localStorage.setItem('pc_outbox', '[]');
    const set = Storage.prototype.setItem;
    Storage.prototype.setItem = function (k, v) {
      if (k === 'pc_outbox') throw new DOMException('full', 'QuotaExceededError');
      return set.call(this, k, v);
    };
  });
  await visit(page, 503);
  await layerButton(page, 'accept-all').click();
  await waitPosts(1);
  // The endpoint recovers; the page becoming visible again retries from memory.
  script.status = 204;
  await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
  await waitPosts(2);
  assert.equal(script.posts[1].event_id, script.posts[0].event_id, 'the same event, retried');
}, answered);

h.test('a page fetch wrapper that calls the consent API while an event is sent: both decisions apply and are reported', async ({ page }) => {
  await visit(page, 204);
  await layerButton(page, 'accept-all').click();
  await waitPosts(2);
  // The wrapper's decision goes out from inside the first send, so it may arrive first.
  assert.deepEqual(script.posts.map((p) => p.action).sort(), ['accept_all', 'withdraw']);
  assert.deepEqual(await page.evaluate(() => window.consent.acceptedCategories()), ['essential']);
  assert.equal(await page.evaluate(() => window.__wrapped), 1, 'the wrapper ran its call once');
}, {
  init: [() => {
    // Instrumentation that wraps fetch (RUM, error trackers) and consults the banner inside.
    const real = window.fetch;
    window.fetch = function (url, init) {
      if (String(url).includes('/v1/events') && !window.__wrapped) {
        window.__wrapped = 1;
        window.consent.rejectAll();
      }
      return real.call(this, url, init);
    };
  }],
});
