// Faults the banner must survive: corrupt or stale stored records, storage that throws, hostile
// host CSS, the bootstrap included twice.
import {
  harness, assert, waitReady, settle, bannerState, gone, waitBanner, gated, cookieMap,
  layerButton, makeConsentCookie, parseConsentCookie,
} from './helpers.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const h = harness({
  routes: {
    // Holds the parser, and so DOMContentLoaded, for 800 ms.
    '/t/slow/block.js': async (req, res) => {
      await sleep(800);
      res.writeHead(200, { 'Content-Type': 'text/javascript', 'Cache-Control': 'no-store' });
      res.end('window.__blockRan = 1;');
    },
  },
});
const now = () => Math.floor(Date.now() / 1000);
const ALL_ON = { essential: true, analytics: true, marketing: true };

/** Seed pc_consent in the cookie jar and in localStorage before the page loads. */
async function seed(context, value) {
  await context.addCookies([{ name: 'pc_consent', value, url: h.url + '/' }]);
  await context.addInitScript((v) => {
    try {
      if (!sessionStorage.getItem('__seeded')) {
        localStorage.setItem('pc_consent', v);
        sessionStorage.setItem('__seeded', '1');
      }
    } catch {
      /* storage unavailable: the cookie alone is the seed */
    }
  }, value);
}

async function expectFreshBanner(page, context, what) {
  await page.goto(h.url + '/');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  await settle(page, 300);
  const g = await gated(page);
  assert.equal(g.analytics + g.marketing, 0, `${what}: nothing ran`);
  const c = await cookieMap(context);
  assert.ok(!('_ga' in c) && !('_gcl_au' in c), `${what}: no tracker cookies`);
  assert.equal(await page.evaluate(() => window.consent.consentId()), null, `${what}: no consent id`);
  assert.equal(await page.evaluate(() => window.consent.accepted('analytics')), false);
  const ev = await page.evaluate(() => window.__ev.ready[0]);
  assert.equal(ev.decided, false, `${what}: consent:ready says undecided`);
}

// Control: a well-formed current record per the contract is honoured (proves the seeding works,
// so the corrupt cases below fail for the right reason).
h.test('a valid stored record (contract format) is honoured without a banner', async ({ page, context }) => {
  const id = '0123456789abcdef0123456789abcdef';
  await seed(context, makeConsentCookie({ id, choices: { essential: true, analytics: true, marketing: false } }));
  await page.goto(h.url + '/');
  await waitReady(page);
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  await settle(page, 300);
  assert.equal((await gated(page)).marketing, 0);
  assert.ok(gone((await bannerState(page)).layer));
  assert.equal(await page.evaluate(() => window.consent.consentId()), id);
});

const corrupt = {
  garbage: () => 'garbage',
  'truncated record': () => makeConsentCookie({ choices: ALL_ON }).slice(0, 20),
  'consent id not hex': () => makeConsentCookie({ id: 'zz'.repeat(16), choices: ALL_ON }),
  'unknown version': () => '9' + makeConsentCookie({ choices: ALL_ON }).slice(1),
  'old revision': () => makeConsentCookie({ revision: 0, choices: ALL_ON }),
  'future-dated': () => makeConsentCookie({ first: now() + 86400 * 365, last: now() + 86400 * 365, choices: ALL_ON }),
  expired: () => makeConsentCookie({ first: now() - 86400 * 400, last: now() - 86400 * 400, choices: ALL_ON }),
  'bad choice bits': () => makeConsentCookie({ choices: ALL_ON }).replace(/:1/g, ':7'),
};
for (const [name, value] of Object.entries(corrupt)) {
  h.test(`corrupt stored record (${name}): banner back, nothing runs`, async ({ page, context }) => {
    await seed(context, value());
    await expectFreshBanner(page, context, name);
    // And the next explicit choice overwrites it with a valid record.
    await layerButton(page, 'reject-all').click();
    await page.waitForFunction(() => /(^|;\s*)pc_consent=1\./.test(document.cookie));
    const rec = parseConsentCookie((await cookieMap(context)).pc_consent);
    assert.deepEqual(rec?.choices, { essential: true, analytics: false, marketing: false });
  });
}

h.test('localStorage getter throws: banner works, Accept all works, no page errors', async ({ page, context }) => {
  await page.goto(h.url + '/');
  assert.equal(
    await page.evaluate(() => { try { return typeof window.localStorage; } catch (e) { return e.name; } }),
    'SecurityError',
    'fault injected',
  );
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  await settle(page, 200);
  assert.equal((await gated(page)).analytics, 0);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.analytics === 1 && window.__gated?.marketing === 1);
  await waitBanner(page, 'layer', 'hidden');
  assert.match(await page.evaluate(() => window.consent.consentId()), /^[0-9a-f]{32}$/);
  // The cookie still works, so the choice persists.
  assert.ok(parseConsentCookie((await cookieMap(context)).pc_consent), 'choice stored in the cookie');
}, {
  init: [() => {
    Object.defineProperty(window, 'localStorage', {
      configurable: true,
      get() { throw new DOMException('denied', 'SecurityError'); },
    });
  }],
});

h.test('document.cookie and localStorage both throw: choice held in memory, no page errors', async ({ page }) => {
  // A page whose gated scripts write no cookies, so every error would be the banner's.
  await page.goto(h.url + '/t/plain.html');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  await waitBanner(page, 'layer', 'hidden');
  assert.equal(await page.evaluate(() => window.consent.accepted('analytics')), true);
}, {
  init: [() => {
    const deny = { configurable: true, get() { throw new DOMException('denied', 'SecurityError'); } };
    Object.defineProperty(window, 'localStorage', deny);
    Object.defineProperty(window, 'sessionStorage', deny);
    Object.defineProperty(Document.prototype, 'cookie', {
      configurable: true,
      get() { throw new DOMException('denied', 'SecurityError'); },
      set() { throw new DOMException('denied', 'SecurityError'); },
    });
  }],
});

async function hostileCheck(page, path) {
  await page.goto(h.url + path);
  await waitReady(page);
  const host = await page.evaluate(() => {
    const el = document.querySelector('#pc-host');
    const r = el.getBoundingClientRect();
    return { display: getComputedStyle(el).display, w: r.width, h: r.height };
  });
  assert.notEqual(host.display, 'none', '#pc-host is displayed despite `div {display:none !important}`');

  const btn = await page.evaluate(() => {
    const root = document.querySelector('#pc-host').shadowRoot;
    const b = root.querySelector('section.layer [data-action=accept-all]');
    const r = b.getBoundingClientRect();
    const cs = getComputedStyle(b);
    const x = r.left + r.width / 2;
    const y = r.top + r.height / 2;
    return {
      w: r.width, h: r.height, x, y,
      inViewport: x >= 0 && y >= 0 && x <= innerWidth && y <= innerHeight,
      fontSize: parseFloat(cs.fontSize),
      opacity: Number(cs.opacity),
      color: cs.color,
      background: cs.backgroundColor,
      visibility: cs.visibility,
      hit: root.elementFromPoint(x, y) === b || b.contains(root.elementFromPoint(x, y)),
    };
  });
  assert.ok(btn.w > 0 && btn.h > 0, `Accept button has a box: ${btn.w}x${btn.h}`);
  assert.ok(btn.inViewport, 'Accept button centre is in the viewport');
  assert.ok(btn.fontSize >= 12, `Accept font size ${btn.fontSize}px >= 12px`);
  assert.ok(btn.hit, 'the Accept button is the topmost element at its centre');
  assert.notEqual(btn.color, btn.background, 'the label is not the colour of its button');
  await page.mouse.click(btn.x, btn.y);
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  await waitBanner(page, 'layer', 'hidden');
  return btn;
}

h.test('hostile host CSS (generic selectors, tiny rem): banner visible, readable, clickable', async ({ page }) => {
  await hostileCheck(page, '/t/hostile.html');
});

h.test('hostile host CSS with inherited attacks (colour, visibility, !important opacity): still usable', async ({ page }) => {
  const btn = await hostileCheck(page, '/t/hostile-inherit.html');
  assert.equal(btn.visibility, 'visible');
  assert.ok(btn.opacity > 0.5, `opacity ${btn.opacity}`);
  assert.doesNotMatch(btn.color, /rgba\(\d+, \d+, \d+, 0\)|transparent/, `text colour ${btn.color}`);
});

h.test('transformed <body> and a widget at the largest z-index: the banner is still in view and on top', async ({ page }) => {
  await hostileCheck(page, '/t/transformed.html');
});

h.test('the banner host is an open manual popover, in the top layer', async ({ page }) => {
  await hostileCheck(page, '/t/hostile.html');
  assert.equal(await page.evaluate(() => document.getElementById('pc-host').matches(':popover-open')), true, 'host is an open popover');
});

h.test('a ::backdrop rule of the page does not dim the page through the banner host', async ({ page }) => {
  await page.goto(h.url + '/t/backdrop.html');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  const display = () => page.evaluate(() => getComputedStyle(document.getElementById('pc-host'), '::backdrop').display);
  assert.equal(await display(), 'none');
  await layerButton(page, 'reject-all').click();
  await waitBanner(page, 'layer', 'hidden');
  assert.equal(await display(), 'none');
});

h.test('a modal dialog already open (an age gate): the banner stays under it, then works once it closes', async ({ page }) => {
  await page.goto(h.url + '/t/agegate.html');
  await waitReady(page);
  assert.equal(await page.evaluate(() => document.getElementById('pc-host').hasAttribute('popover')), false, 'not lifted over the modal');
  await page.evaluate(() => document.getElementById('gate').close());
  await waitBanner(page, 'layer', 'shown');
  await layerButton(page, 'reject-all').click();
  await waitBanner(page, 'layer', 'hidden');
  assert.deepEqual(await page.evaluate(() => window.consent.acceptedCategories()), ['essential']);
});

h.test('a browser without popovers: the host stays an ordinary element and the banner works', async ({ page }) => {
  await hostileCheck(page, '/t/hostile.html');
  assert.equal(await page.evaluate(() => document.getElementById('pc-host').hasAttribute('popover')), false);
}, {
  init: [() => {
    delete HTMLElement.prototype.showPopover;
  }],
});

h.test('bootstrap tag included three times: one #pc-host, gated scripts run once', async ({ page }) => {
  await page.goto(h.url + '/t/double.html');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  await settle(page, 300);
  const st = await bannerState(page);
  assert.equal(st.hosts, 1, 'exactly one #pc-host');
  assert.equal((await page.evaluate(() => window.__ev.ready.length)), 1, 'consent:ready once');
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.analytics >= 1);
  await settle(page, 300);
  assert.equal((await gated(page)).analytics, 1, 'gated script ran once');
  assert.equal(await page.evaluate(() => window.__ev.change.length), 1, 'one consent:change per click');
});

h.test('imported as an ES module without the bootstrap, default() loads the wasm beside the glue', async ({ page }) => {
  await page.goto(h.url + '/t/module.html');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  assert.equal((await gated(page)).analytics, 0, 'nothing gated ran before a choice');
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.analytics >= 1);
  assert.equal((await gated(page)).analytics, 1, 'the gated script ran once after Accept all');
});

h.test('the banner loads while the page is still parsing, and starts once the DOM is there', async ({ page }) => {
  await page.goto(h.url + '/t/early.html');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  const t = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const start = (name) => performance.getEntriesByType('resource').find((e) => e.name.endsWith(name))?.startTime;
    return {
      dcl: nav.domContentLoadedEventStart,
      glue: start('/pkg/consent_banner.js'),
      wasm: start('/pkg/consent_banner_bg.wasm'),
      // start() renders at the start of <body>, and scans gated scripts, only once the parser is done.
      afterParsed: !!document.getElementById('after') && window.__blockRan === 1,
    };
  });
  assert.ok(t.glue !== undefined && t.wasm !== undefined, 'glue and wasm were fetched');
  assert.ok(t.wasm < t.dcl && t.glue < t.dcl, `glue (${t.glue} ms) and wasm (${t.wasm} ms) requested before DOMContentLoaded (${t.dcl} ms)`);
  assert.ok(t.afterParsed, 'the page was fully parsed when the banner started');
  assert.equal(await page.evaluate(() => window.__lateReady), 1, 'a consent:ready listener added in a DOMContentLoaded handler heard it');
  assert.equal(await page.evaluate(() => document.getElementById('pc-host')?.parentNode === document.body), true);
});
