// The visitor's main paths on the demo page: first visit, Accept all, Reject all, Customize,
// re-open and withdraw.
import {
  harness, assert, waitReady, settle, bannerState, gone, waitBanner, gated, cookieMap,
  layerButton, prefs, inBanner, switches, parseConsentCookie, recorded,
} from './helpers.mjs';

const h = harness();

const TRACKERS = ['_ga', '_ga_DEMO', '_gcl_au'];
const trackerCookies = (c) => TRACKERS.filter((n) => n in c);

async function iframeSrc(page) {
  return page.evaluate(() => document.querySelector('iframe[data-consent="marketing"]').getAttribute('src'));
}

/** Open the demo page, wait for consent:ready. */
async function open(page) {
  await page.goto(h.url + '/');
  await waitReady(page);
}

h.test('first visit: banner shown, nothing gated runs, no tracker cookies', async ({ page, context }) => {
  await open(page);
  await waitBanner(page, 'layer', 'shown');
  const st = await bannerState(page);
  assert.equal(st.hosts, 1, 'one #pc-host');
  assert.ok(st.inBody, '#pc-host is a child of <body>');
  assert.ok(st.shadow, '#pc-host has an open shadow root');
  assert.equal(st.layer, 'shown');
  assert.ok(gone(st.prefs), `preferences closed on first visit, got ${st.prefs}`);
  assert.ok(gone(st.reopen), `no re-open button before a choice, got ${st.reopen}`);

  // First layer structure per the contract.
  const layer = await page.evaluate(() => {
    const l = document.querySelector('#pc-host').shadowRoot.querySelector('section.layer');
    const lb = l.getAttribute('aria-labelledby');
    return {
      role: l.getAttribute('role'),
      // Accessible name: aria-label, or the element aria-labelledby points at.
      label: l.getAttribute('aria-label') ?? (lb ? l.getRootNode().getElementById(lb)?.textContent.trim() : null),
      h2: l.querySelector('h2')?.textContent.trim(),
      p: !!l.querySelector('p'),
      actions: [...l.querySelectorAll('button[data-action]')].map((b) => b.dataset.action),
      policyHref: l.querySelector('a[href]')?.getAttribute('href') ?? null,
    };
  });
  assert.equal(layer.role, 'region');
  assert.equal(layer.label, 'Your privacy choices');
  assert.equal(layer.h2, 'Your privacy choices');
  assert.ok(layer.p);
  for (const a of ['accept-all', 'reject-all', 'customize']) assert.ok(layer.actions.includes(a), `button ${a}`);

  await settle(page, 300);
  const g = await gated(page);
  assert.equal(g.analytics, 0, 'analytics did not run');
  assert.equal(g.marketing, 0, 'marketing did not run');
  assert.equal(await iframeSrc(page), null, 'gated iframe has no src');
  const c = await cookieMap(context);
  assert.deepEqual(trackerCookies(c), [], 'no tracker cookies');
  assert.ok(!('pc_consent' in c), 'no consent cookie before a choice');

  // consent:ready detail on first visit.
  const ev = await recorded(page);
  assert.equal(ev.ready.length, 1);
  assert.equal(ev.ready[0].decided, false);
  assert.equal(ev.ready[0].consentId, null);
  assert.ok(!(ev.ready[0].categories || []).includes('analytics'));
});

h.test('first layer is one region named by its title (docs/contract.md)', async ({ page }) => {
  await open(page);
  const names = await page.evaluate(() => {
    const root = document.querySelector('#pc-host').shadowRoot;
    return [...root.querySelectorAll('section.layer[role=region][aria-labelledby]')]
      .map((l) => root.getElementById(l.getAttribute('aria-labelledby'))?.textContent.trim());
  });
  assert.deepEqual(names, ['Your privacy choices']);
});

h.test('Accept all: each gated element runs exactly once, banner hides, iframe gets its src', async ({ page, context }) => {
  await open(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated && window.__gated.analytics >= 1 && window.__gated.marketing >= 1);
  await waitBanner(page, 'layer', 'hidden');
  await page.waitForFunction(() => document.querySelector('iframe[data-consent]').getAttribute('src'));
  await settle(page, 300);

  const g = await gated(page);
  assert.equal(g.analytics, 1, 'analytics ran once');
  assert.equal(g.marketing, 1, 'marketing ran once');
  assert.deepEqual(g.order, ['analytics', 'marketing'], 'document order');
  assert.equal(await iframeSrc(page), '/vendor/ad-frame.html');
  const frame = page.frames().find((f) => f.url().endsWith('/vendor/ad-frame.html'));
  assert.ok(frame, 'ad frame loaded');
  await frame.waitForSelector('#offer');

  const st = await bannerState(page);
  assert.ok(gone(st.layer), `first layer hidden, got ${st.layer}`);
  assert.equal(st.reopen, 'shown', 're-open button visible once a choice exists');
  const states = await page.evaluate(() =>
    [...document.querySelectorAll('[data-consent]')].map((el) => el.getAttribute('data-consent-state')),
  );
  assert.ok(states.every((s) => s === 'activated'), `all gated elements activated: ${states}`);

  const c = await cookieMap(context);
  for (const n of TRACKERS) assert.ok(n in c, `cookie ${n} set`);
  const rec = parseConsentCookie(c.pc_consent);
  assert.ok(rec, `pc_consent matches the contract format: ${c.pc_consent}`);
  assert.deepEqual(rec.choices, { essential: true, analytics: true, marketing: true });
  assert.equal(rec.revision, 1);
  assert.ok(Math.abs(rec.last - Date.now() / 1000) < 120, 'last decision is now (unix seconds)');

  // Mirrored in localStorage under the same name.
  const ls = await page.evaluate(() => localStorage.getItem('pc_consent'));
  assert.ok(ls && parseConsentCookie(ls)?.id === rec.id, `localStorage mirror: ${ls}`);

  const ev = await recorded(page);
  assert.equal(ev.change.length, 1, 'one consent:change');
  assert.deepEqual([...ev.change[0].categories].sort(), ['analytics', 'essential', 'marketing']);
  assert.equal(ev.change[0].consentId, rec.id);

  // Activating again does not re-run anything.
  await page.evaluate(() => window.consent.acceptAll());
  await settle(page, 200);
  const g2 = await gated(page);
  assert.equal(g2.analytics, 1);
  assert.equal(g2.marketing, 1);
});

h.test('Accept all then reload: choice kept, no banner, granted scripts run once on that load', async ({ page }) => {
  await open(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.analytics === 1 && window.__gated?.marketing === 1);
  const id = await page.evaluate(() => window.consent.consentId());

  await page.reload();
  await waitReady(page);
  await page.waitForFunction(() => window.__gated?.analytics >= 1 && window.__gated?.marketing >= 1);
  await settle(page, 300);
  const g = await gated(page);
  assert.equal(g.analytics, 1, 'analytics once on the reload');
  assert.equal(g.marketing, 1, 'marketing once on the reload');
  const st = await bannerState(page);
  assert.ok(gone(st.layer), `no banner after reload, got ${st.layer}`);
  assert.equal(st.reopen, 'shown');
  assert.equal(await page.evaluate(() => window.consent.consentId()), id, 'same consent id');
  const ev = await recorded(page);
  assert.equal(ev.ready.length, 1);
  assert.equal(ev.ready[0].decided, true);
  assert.equal(ev.ready[0].consentId, id);
  assert.equal(await iframeSrc(page), '/vendor/ad-frame.html');
});

h.test('withdrawing marketing blanks its frame (a frame keeps tracking until navigated away); a new grant loads it again', async ({ page }) => {
  await open(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => document.querySelector('iframe[data-consent="marketing"]').getAttribute('src'));
  await page.evaluate(() => window.consent.accept(['analytics']));
  await page.waitForFunction(() => document.querySelector('iframe[data-consent="marketing"]').getAttribute('src') === 'about:blank');
  assert.equal(await page.evaluate(() => document.querySelector('iframe[data-consent="marketing"]').hasAttribute('data-consent-state')), false,
    'back to pending');
  await page.evaluate(() => window.consent.acceptAll());
  await page.waitForFunction(() => document.querySelector('iframe[data-consent="marketing"]').getAttribute('src') === '/vendor/ad-frame.html');
});

h.test('Reject all: nothing runs, also after reload', async ({ page, context }) => {
  await open(page);
  await layerButton(page, 'reject-all').click();
  await waitBanner(page, 'layer', 'hidden');
  await settle(page, 300);
  let g = await gated(page);
  assert.equal(g.analytics + g.marketing, 0, 'nothing ran');
  // A decision that changes no category is still announced, so a page can tell the visitor decided.
  const change = (await page.evaluate(() => window.__ev.change));
  assert.equal(change.length, 1, `one consent:change: ${JSON.stringify(change)}`);
  assert.deepEqual(change[0].changed, []);
  assert.match(change[0].consentId ?? '', /^[0-9a-f]{32}$/);
  assert.equal(await iframeSrc(page), null);
  let c = await cookieMap(context);
  assert.deepEqual(trackerCookies(c), []);
  const rec = parseConsentCookie(c.pc_consent);
  assert.ok(rec, `pc_consent written for a refusal too: ${c.pc_consent}`);
  assert.deepEqual(rec.choices, { essential: true, analytics: false, marketing: false });
  assert.equal(await page.evaluate(() => window.consent.accepted('analytics')), false);

  await page.reload();
  await waitReady(page);
  await settle(page, 400);
  g = await gated(page);
  assert.equal(g.analytics + g.marketing, 0, 'nothing ran after reload');
  const st = await bannerState(page);
  assert.ok(gone(st.layer), `refusal remembered: no banner, got ${st.layer}`);
  c = await cookieMap(context);
  assert.deepEqual(trackerCookies(c), []);
  assert.equal(await iframeSrc(page), null);
});

h.test('Customize: switches start off (essential locked), analytics only runs analytics', async ({ page, context }) => {
  await open(page);
  await layerButton(page, 'customize').click();
  await waitBanner(page, 'prefs', 'shown');
  const dlg = await page.evaluate(() => {
    const d = document.querySelector('#pc-host').shadowRoot.querySelector('div.prefs');
    const lb = d.getAttribute('aria-labelledby');
    return {
      role: d.getAttribute('role'),
      modal: d.getAttribute('aria-modal'),
      label: lb ? d.getRootNode().getElementById(lb)?.textContent.trim() : null,
      actions: [...d.querySelectorAll('[data-action]')].map((b) => b.dataset.action),
    };
  });
  assert.equal(dlg.role, 'dialog');
  assert.equal(dlg.modal, 'true');
  assert.equal(dlg.label, 'Privacy preferences', 'aria-labelledby points at the dialog title');
  for (const a of ['save', 'accept-all', 'reject-all', 'close']) assert.ok(dlg.actions.includes(a), `prefs has ${a}`);

  assert.deepEqual(await switches(page), {
    essential: { checked: true, disabled: true, role: 'switch' },
    analytics: { checked: false, disabled: false, role: 'switch' },
    marketing: { checked: false, disabled: false, role: 'switch' },
  });

  await prefs(page, 'input[data-category=analytics]').check();
  await prefs(page, '[data-action=save]').click();
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  await waitBanner(page, 'prefs', 'hidden');
  await waitBanner(page, 'layer', 'hidden');
  await settle(page, 300);
  const g = await gated(page);
  assert.equal(g.analytics, 1);
  assert.equal(g.marketing, 0, 'marketing did not run');
  assert.equal(await iframeSrc(page), null, 'marketing iframe still has no src');
  const c = await cookieMap(context);
  assert.ok('_ga' in c);
  assert.ok(!('_gcl_au' in c));
  assert.deepEqual(parseConsentCookie(c.pc_consent)?.choices, { essential: true, analytics: true, marketing: false });
  assert.deepEqual(
    (await page.evaluate(() => window.consent.acceptedCategories())).slice().sort(),
    ['analytics', 'essential'],
  );
});

for (const via of ['reopen button', 'footer link']) {
  h.test(`withdraw marketing via the ${via}: _gcl_au deleted, consent:change names marketing`, async ({ page, context }) => {
    await open(page);
    await layerButton(page, 'accept-all').click();
    await page.waitForFunction(() => window.__gated?.marketing === 1);
    await page.reload();
    await waitReady(page);
    await page.waitForFunction(() => window.__gated?.marketing === 1 && window.__gated?.analytics === 1);
    assert.ok('_gcl_au' in (await cookieMap(context)), 'precondition: _gcl_au set');

    if (via === 'reopen button') await inBanner(page, 'button[data-action=reopen]').click();
    else await page.locator('footer [data-consent-open]').click();
    await waitBanner(page, 'prefs', 'shown');
    const sw = await switches(page);
    assert.equal(sw.analytics.checked, true, 'prefs reflect the stored choice (analytics on)');
    assert.equal(sw.marketing.checked, true, 'prefs reflect the stored choice (marketing on)');

    const before = await cookieMap(context);
    const idBefore = await page.evaluate(() => window.consent.consentId());
    await prefs(page, 'input[data-category=marketing]').uncheck();
    await prefs(page, '[data-action=save]').click();
    await page.waitForFunction(() => window.__ev.change.length >= 1);
    await waitBanner(page, 'prefs', 'hidden');

    const ev = await recorded(page);
    assert.equal(ev.change.length, 1);
    assert.ok(ev.change[0].changed.includes('marketing'), `changed: ${JSON.stringify(ev.change[0].changed)}`);
    assert.ok(!ev.change[0].changed.includes('analytics'), 'analytics did not change');
    assert.ok(!ev.change[0].categories.includes('marketing'));
    assert.ok(ev.change[0].categories.includes('analytics'));
    assert.equal(ev.change[0].consentId, idBefore, 'consent id stable across changes');

    await page.waitForFunction(() => !/(^|;\s*)_gcl_au=/.test(document.cookie));
    const c = await cookieMap(context);
    assert.ok(!('_gcl_au' in c), '_gcl_au deleted');
    assert.equal(c._ga, before._ga, 'analytics cookie untouched');
    assert.deepEqual(parseConsentCookie(c.pc_consent)?.choices, { essential: true, analytics: true, marketing: false });
    const g = await gated(page);
    assert.equal(g.marketing, 1, 'withdrawal does not re-run anything');
    assert.equal(await page.evaluate(() => window.consent.accepted('marketing')), false);

    // Next load: marketing stays off.
    await page.reload();
    await waitReady(page);
    await page.waitForFunction(() => window.__gated?.analytics === 1);
    await settle(page, 300);
    assert.equal((await gated(page)).marketing, 0);
    assert.ok(!('_gcl_au' in (await cookieMap(context))));
  });
}

h.test('close (X) in preferences is not consent', async ({ page, context }) => {
  await open(page);
  await layerButton(page, 'customize').click();
  await waitBanner(page, 'prefs', 'shown');
  await prefs(page, 'input[data-category=analytics]').check();
  await prefs(page, '[data-action=close]').click();
  await waitBanner(page, 'prefs', 'hidden');
  await settle(page, 300);
  assert.equal((await gated(page)).analytics, 0, 'closing without saving activates nothing');
  assert.deepEqual(trackerCookies(await cookieMap(context)), []);
});
