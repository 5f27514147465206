// Google Consent Mode v2 (compliance.md C-F1..C-F5): the bootstrap's synchronous `default` with
// wait_for_update, the wasm's `update` on every load and every change, region defaults, and a page
// that already has its own dataLayer/gtag.
import { assert, waitReady, waitBanner, bannerState, gated, settle, layerButton, prefs } from './helpers.mjs';
import { stdHarness, config, html } from './standards-support.mjs';

const h = stdHarness();

/**
 * Init script: time-stamps every dataLayer push (performance.now()) by wrapping `push` on whatever
 * array is assigned to window.dataLayer. Entries are `arguments` objects: stored as arrays.
 */
function dataLayerClock() {
  const log = [];
  Object.defineProperty(window, '__dl', { value: log, configurable: true });
  let dl;
  const wrap = (arr) => {
    if (!arr || typeof arr.push !== 'function' || arr.__wrapped) return;
    const orig = arr.push;
    Object.defineProperty(arr, '__wrapped', { value: true });
    arr.push = function (...items) {
      for (const x of items) {
        let e = x && typeof x === 'object' && typeof x.length === 'number' ? Array.from(x) : x;
        try {
          e = JSON.parse(JSON.stringify(e));
        } catch {
          /* keep */
        }
        log.push({ t: performance.now(), e });
      }
      return orig.apply(this, items);
    };
  };
  Object.defineProperty(window, 'dataLayer', {
    configurable: true,
    enumerable: true,
    get: () => dl,
    set: (v) => {
      dl = v;
      wrap(v);
    },
  });
}

/** The page's own tags, in a normal script after the bootstrap tag. */
const PAGE_TAGS = `<script>
  gtag('config', 'G-TEST');
  gtag('event', 'page_view');
</script>`;
const GATED_TAG = `<script type="text/plain" data-consent="analytics">
  window.__gatedAt = performance.now();
  gtag('event', 'gated_loaded');
</script>`;

h.page('/g/gcm.html', () => html({ cfg: config(), afterBootstrap: PAGE_TAGS + GATED_TAG }));
h.page('/g/gcm-regions.html', () =>
  html({
    cfg: config({
      consentMode: {
        waitForUpdate: 800,
        regions: [{ region: ['US-CA'], granted: ['analytics'] }],
        urlPassthrough: true,
        adsDataRedaction: true,
      },
    }),
    afterBootstrap: PAGE_TAGS,
  }),
);
h.page('/g/gcm-eu.html', () =>
  html({ cfg: config({ consentMode: { regions: [{ region: ['EU'], granted: ['analytics'] }] } }), afterBootstrap: PAGE_TAGS }),
);
h.page('/g/gcm-badmap.html', () =>
  html({ cfg: config({ consentMode: { map: { analytics: 'analytics_storage' } } }), afterBootstrap: PAGE_TAGS }),
);
h.page('/g/gcm-own.html', () =>
  html({
    cfg: config(),
    head: `<script>
  window.dataLayer = [{ pre: 'existing' }];
  window.dataLayer.mine = 'page-array';
  window.__ownCalls = 0;
  window.gtag = function () { window.__ownCalls++; window.dataLayer.push(arguments); };
  window.gtag.mine = 'page-gtag';
</script>`,
    afterBootstrap: PAGE_TAGS,
  }),
);

/** Every test here records the dataLayer with time stamps. */
const t = (name, fn, opts = {}) => h.test(name, fn, { ...opts, init: [dataLayerClock, ...(opts.init ?? [])] });

const dl = (page) => page.evaluate(() => window.__dl.map((x) => ({ t: x.t, e: x.e })));
const isConsent = (x, kind) => Array.isArray(x.e) && x.e[0] === 'consent' && (!kind || x.e[1] === kind);
const isTag = (x) => Array.isArray(x.e) && (x.e[0] === 'config' || x.e[0] === 'event');
const SIGNALS = ['ad_storage', 'ad_user_data', 'ad_personalization', 'analytics_storage'];
const signals = (obj) => Object.fromEntries(SIGNALS.map((k) => [k, obj?.[k]]));
const ALL = (v) => Object.fromEntries(SIGNALS.map((k) => [k, v]));

async function waitUpdates(page, n) {
  await page.waitForFunction((n) => window.__dl.filter((x) => Array.isArray(x.e) && x.e[0] === 'consent' && x.e[1] === 'update').length >= n, n);
}

t(
  'first visit: the first dataLayer entry is consent default (all four v2 signals denied, wait_for_update 500), before config/event',
  async ({ page }) => {
    await page.goto(h.url + '/g/gcm.html');
    await waitReady(page);
    const log = await dl(page);
    assert.ok(log.length >= 3, `dataLayer entries: ${JSON.stringify(log)}`);
    assert.deepEqual(log[0].e.slice(0, 2), ['consent', 'default'], `first entry: ${JSON.stringify(log[0].e)}`);
    assert.deepEqual(signals(log[0].e[2]), ALL('denied'));
    assert.equal(log[0].e[2].wait_for_update, 500);
    const firstTag = log.findIndex(isTag);
    const firstConsent = log.findIndex((x) => isConsent(x));
    assert.ok(firstTag > firstConsent, `default (#${firstConsent}) precedes the first config/event (#${firstTag})`);
    // No decision yet: no update, so the defaults (and any region default) stand.
    await settle(page, 300);
    assert.deepEqual((await dl(page)).filter((x) => isConsent(x, 'update')), [], 'no update before a choice');
    assert.equal((await gated(page)).analytics, 0);
  },
);

t('Accept all sends update granted; on reload the update arrives within wait_for_update and before the gated tag', async ({ page }) => {
  await page.goto(h.url + '/g/gcm.html');
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__dl.some((x) => x.e[0] === 'consent' && x.e[1] === 'update' && x.e[2].ad_storage === 'granted'));
  const after = (await dl(page)).filter((x) => isConsent(x, 'update')).at(-1);
  assert.deepEqual(signals(after.e[2]), ALL('granted'));

  await page.reload();
  await waitReady(page);
  await page.waitForFunction(() => window.__gatedAt !== undefined);
  const log = await dl(page);
  const def = log[0];
  assert.ok(isConsent(def, 'default'), `default is first again on reload: ${JSON.stringify(def.e)}`);
  assert.equal(def.e[2].wait_for_update, 500);
  const up = log.find((x) => isConsent(x, 'update'));
  assert.ok(up, 'an update on reload');
  assert.deepEqual(signals(up.e[2]), ALL('granted'), `the stored grants: ${JSON.stringify(up.e)}`);
  const delay = up.t - def.t;
  console.log(`# consent update on reload: ${delay.toFixed(0)} ms after default (wait_for_update 500)`);
  assert.ok(delay <= 500, `update came ${delay.toFixed(0)} ms after default (wait_for_update is 500 ms)`);
  const gatedIdx = log.findIndex((x) => Array.isArray(x.e) && x.e[0] === 'event' && x.e[1] === 'gated_loaded');
  const upIdx = log.indexOf(up);
  assert.ok(gatedIdx > upIdx, `the gated analytics tag (#${gatedIdx}) runs after the update (#${upIdx})`);
  // Only one default per load (no region config), and it comes before everything else.
  assert.equal(log.filter((x) => isConsent(x, 'default')).length, 1);
});

t('analytics-only grant: analytics_storage granted, the three ad_* signals stay denied (also after reload)', async ({ page }) => {
  await page.goto(h.url + '/g/gcm.html');
  await waitReady(page);
  await layerButton(page, 'customize').click();
  await waitBanner(page, 'prefs', 'shown');
  await prefs(page, 'input[data-category=analytics]').check();
  await prefs(page, '[data-action=save]').click();
  await page.waitForFunction(() => window.__dl.some((x) => x.e[0] === 'consent' && x.e[1] === 'update' && x.e[2].analytics_storage === 'granted'));
  const want = { ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied', analytics_storage: 'granted' };
  assert.deepEqual(signals((await dl(page)).filter((x) => isConsent(x, 'update')).at(-1).e[2]), want);
  await page.reload();
  await waitReady(page);
  await waitUpdates(page, 1);
  assert.deepEqual(signals((await dl(page)).find((x) => isConsent(x, 'update')).e[2]), want);
  await page.waitForFunction(() => window.__gatedAt !== undefined);
  assert.equal((await gated(page)).marketing, 0);
});

t('withdrawing marketing sends an update that denies the ad_* signals again', async ({ page }) => {
  await page.goto(h.url + '/g/gcm.html');
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__dl.some((x) => x.e[1] === 'update' && x.e[2].ad_storage === 'granted'));
  await page.evaluate(() => window.consent.accept(['analytics']));
  await page.waitForFunction(() => {
    const u = window.__dl.filter((x) => x.e[0] === 'consent' && x.e[1] === 'update').at(-1);
    return u && u.e[2].ad_storage === 'denied';
  });
  const last = (await dl(page)).filter((x) => isConsent(x, 'update')).at(-1);
  assert.deepEqual(signals(last.e[2]), { ad_storage: 'denied', ad_user_data: 'denied', ad_personalization: 'denied', analytics_storage: 'granted' });
});

t('a page that already defined dataLayer and gtag keeps its own objects (not clobbered)', async ({ page }) => {
  await page.goto(h.url + '/g/gcm-own.html');
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await waitUpdates(page, 1);
  const r = await page.evaluate(() => ({
    arrayKept: window.dataLayer.mine === 'page-array',
    gtagKept: window.gtag.mine === 'page-gtag',
    first: window.dataLayer[0],
    second: Array.from(window.dataLayer[1] || []),
    ownCalls: window.__ownCalls,
  }));
  assert.ok(r.arrayKept, 'window.dataLayer is still the page array');
  assert.ok(r.gtagKept, 'window.gtag is still the page function');
  assert.deepEqual(r.first, { pre: 'existing' }, 'the entry the page pushed first is kept');
  assert.deepEqual(r.second.slice(0, 2), ['consent', 'default'], 'default went through the page gtag, right after');
  // default + config + event + the update after Accept all, all through the page's gtag.
  assert.ok(r.ownCalls >= 4, `the page's gtag received the consent commands (${r.ownCalls} calls)`);
});

t('region defaults: a second default carries `region` and grants only the configured category; url_passthrough / ads_data_redaction set', async ({ page }) => {
  await page.goto(h.url + '/g/gcm-regions.html');
  await waitReady(page);
  const log = await dl(page);
  const defaults = log.filter((x) => isConsent(x, 'default'));
  assert.equal(defaults.length, 2, `two defaults: ${JSON.stringify(defaults.map((d) => d.e))}`);
  assert.equal(defaults[0].e[2].region, undefined, 'the first default is the global one');
  assert.deepEqual(signals(defaults[0].e[2]), ALL('denied'));
  assert.equal(defaults[0].e[2].wait_for_update, 800);
  assert.deepEqual(defaults[1].e[2].region, ['US-CA']);
  assert.deepEqual(signals(defaults[1].e[2]), {
    ad_storage: 'denied',
    ad_user_data: 'denied',
    ad_personalization: 'denied',
    analytics_storage: 'granted',
  });
  assert.equal(defaults[1].e[2].wait_for_update, 800);
  const sets = log.filter((x) => x.e[0] === 'set').map((x) => x.e);
  assert.deepEqual(sets, [
    ['set', 'url_passthrough', true],
    ['set', 'ads_data_redaction', true],
  ]);
  const firstTag = log.findIndex(isTag);
  assert.ok(log.findLastIndex((x) => isConsent(x, 'default') || x.e[0] === 'set') < firstTag, 'defaults and sets precede the tags');
  // No update follows on a first visit: it would apply everywhere and cancel the region grant.
  await settle(page, 300);
  assert.deepEqual((await dl(page)).filter((x) => isConsent(x, 'update')), [], 'no update before a choice');
});

t(
  'a region code "EU" is rejected: console.error names consentMode.regions[0].region[0], no banner, nothing runs',
  async ({ page, messages }) => {
    await page.goto(h.url + '/g/gcm-eu.html');
    await settle(page, 1500);
    const errs = messages.filter((m) => m.type === 'error').map((m) => m.text);
    assert.ok(
      errs.some((t) => t.includes('consentMode.regions[0].region[0]')),
      `a console.error naming the field; got ${JSON.stringify(errs)}`,
    );
    const s = await bannerState(page);
    assert.ok(s.hosts === 0 || (s.layer !== 'shown' && s.prefs !== 'shown'), `no banner: ${JSON.stringify(s)}`);
    const g = await gated(page);
    assert.equal(g.analytics + g.marketing, 0, 'nothing activated');
    assert.equal(await page.evaluate(() => window.__ev.ready.length), 0, 'no consent:ready');
  },
  { allowConsole: [/consentMode\.regions\[0\]\.region\[0\]/] },
);


t(
  'a config of the wrong shape (map value not an array) still gets the all-denied default first, then the wasm names the field',
  async ({ page, messages }) => {
    await page.goto(h.url + '/g/gcm-badmap.html');
    await settle(page, 1500);
    const log = await dl(page);
    assert.deepEqual(log[0]?.e.slice(0, 2), ['consent', 'default'], `first entry: ${JSON.stringify(log[0]?.e)}`);
    assert.deepEqual(signals(log[0].e[2]), ALL('denied'));
    assert.ok(log.findIndex(isTag) > 0, 'the default precedes the page tags');
    for (const u of log.filter((x) => isConsent(x, 'update'))) assert.deepEqual(signals(u.e[2]), ALL('denied'));
    const errs = messages.filter((m) => m.type === 'error').map((m) => m.text);
    assert.ok(errs.some((t) => t.includes('consentMode.map.analytics')), `the field is named: ${JSON.stringify(errs)}`);
    const g = await gated(page);
    assert.equal(g.analytics + g.marketing, 0, 'nothing activated');
  },
  { allowConsole: [/consentMode\.map\.analytics/] },
);
