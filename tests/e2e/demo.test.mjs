// The demo site itself: clean served HTML (no inline handlers, only the allowed inline scripts),
// the embed as the contract says, the live consent panel, and the privacy page.
import fs from 'node:fs';
import path from 'node:path';
import {
  harness, assert, waitReady, settle, waitBanner, gated, layerButton, ROOT,
} from './helpers.mjs';

const h = harness();
const PAGES = ['/', '/privacy.html', '/vendor/ad-frame.html'];

/** Parse served HTML in the browser (DOMParser: nothing runs) and describe it. */
async function inspect(page, html) {
  return page.evaluate((html) => {
    const doc = new DOMParser().parseFromString(html, 'text/html');
    const handlers = [];
    const jsUrls = [];
    for (const el of doc.querySelectorAll('*')) {
      for (const a of el.attributes) {
        if (/^on/i.test(a.name)) handlers.push(`<${el.localName} ${a.name}>`);
        if (/^\s*javascript:/i.test(a.value)) jsUrls.push(`<${el.localName} ${a.name}="${a.value}">`);
      }
    }
    const scripts = [...doc.querySelectorAll('script')].map((s) => ({
      type: s.getAttribute('type'),
      src: s.getAttribute('src'),
      id: s.id,
      consent: s.getAttribute('data-consent'),
      dataSrc: s.getAttribute('data-src'),
      inline: !s.hasAttribute('src') && s.textContent.trim() !== '',
      inHead: s.parentNode === doc.head,
      text: s.textContent,
    }));
    return {
      handlers,
      jsUrls,
      scripts,
      styleAttrs: [...doc.querySelectorAll('[style]')].map((e) => e.localName),
      icon: doc.querySelector('link[rel=icon]')?.getAttribute('href') ?? null,
      lang: doc.documentElement.lang,
      viewport: !!doc.querySelector('meta[name=viewport]'),
      openers: [...doc.querySelectorAll('[data-consent-open]')].map((e) => ({
        tag: e.localName, href: e.getAttribute('href'), inFooter: !!e.closest('footer'),
      })),
      iframes: [...doc.querySelectorAll('iframe')].map((f) => ({
        src: f.getAttribute('src'), dataSrc: f.getAttribute('data-src'), consent: f.getAttribute('data-consent'), title: f.title,
      })),
    };
  }, html);
}

h.test('served HTML has no inline event handlers, javascript: URLs or style attributes', async ({ page }) => {
  await page.goto('about:blank');
  for (const p of PAGES) {
    const res = await fetch(h.url + p);
    assert.equal(res.status, 200, p);
    const info = await inspect(page, await res.text());
    assert.deepEqual(info.handlers, [], `${p}: inline event handlers`);
    assert.deepEqual(info.jsUrls, [], `${p}: javascript: URLs`);
    assert.deepEqual(info.styleAttrs, [], `${p}: style attributes`);
    assert.equal(info.icon, 'data:,', `${p}: favicon link`);
    assert.equal(info.lang, 'en', `${p}: lang`);
  }
});

h.test('index.html: the embed per the contract, and only gated or JSON inline scripts', async ({ page }) => {
  await page.goto('about:blank');
  const info = await inspect(page, await (await fetch(h.url + '/')).text());
  const { scripts } = info;
  const cfgIdx = scripts.findIndex((s) => s.id === 'consent-config');
  const bootIdx = scripts.findIndex((s) => s.src === '/pkg/consent.js');
  assert.ok(cfgIdx >= 0 && scripts[cfgIdx].type === 'application/json' && scripts[cfgIdx].inHead, 'JSON config in <head>');
  assert.ok(bootIdx === cfgIdx + 1 && scripts[bootIdx].inHead, 'bootstrap right after the config, in <head>');
  assert.ok(scripts.slice(0, bootIdx).every((s) => s.type === 'application/json'), 'nothing runs before the bootstrap');

  for (const s of scripts.filter((s) => s.inline)) {
    const ok = s.type === 'application/json' || (s.type === 'text/plain' && s.consent);
    assert.ok(ok, `inline script must be gated or JSON: ${s.type} ${s.text.slice(0, 60)}`);
  }
  const gatedScripts = scripts.filter((s) => s.consent);
  assert.deepEqual(
    gatedScripts.map((s) => [s.consent, s.type, s.dataSrc ?? 'inline']),
    [['analytics', 'text/plain', '/vendor/analytics.js'], ['marketing', 'text/plain', 'inline']],
  );
  assert.deepEqual(info.iframes, [{ src: null, dataSrc: '/vendor/ad-frame.html', consent: 'marketing', title: 'Partner offer' }]);
  assert.ok(info.openers.some((o) => o.tag === 'a' && o.href === '#' && o.inFooter), 'footer <a href="#" data-consent-open>');
  assert.ok(scripts.some((s) => s.src === '/demo.js'), 'demo.js is an external script');

  // The config is what the issue asked for, and www/consent-config.json (privacy page) is the same.
  const cfg = JSON.parse(scripts[cfgIdx].text);
  assert.equal(cfg.siteId, 'rufio-marketing');
  assert.equal(cfg.endpoint, '/v1/events');
  assert.equal(cfg.privacyPolicyUrl, '/privacy.html');
  assert.deepEqual(cfg.categories, [
    { id: 'essential', required: true },
    { id: 'analytics', cookies: ['_ga', '_ga_*'] },
    { id: 'marketing', cookies: ['_gcl_*', '_fbp'] },
  ]);
  assert.deepEqual(Object.keys(cfg.texts), ['en']);
  assert.deepEqual(Object.keys(cfg.texts.en.categories), ['essential', 'analytics', 'marketing']);
  const file = JSON.parse(fs.readFileSync(path.join(ROOT, 'www', 'consent-config.json'), 'utf8'));
  assert.deepEqual(file, cfg, 'www/consent-config.json equals the inline config');
});

h.test('the consent panel follows the state: undecided, Accept all, withdrawal', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  const panel = () => page.evaluate(() => ({
    decided: document.querySelector('#consent-panel').getAttribute('data-decided'),
    analytics: document.querySelector('[data-state-cat=analytics]').textContent,
    marketing: document.querySelector('[data-state-cat=marketing]').textContent,
    id: document.querySelector('[data-state=consent-id]').textContent,
    scripts: document.querySelector('[data-state=scripts]').textContent,
  }));
  await page.waitForFunction(() => document.querySelector('#consent-panel').getAttribute('data-decided') === 'false');
  assert.deepEqual(await panel(), { decided: 'false', analytics: 'Off', marketing: 'Off', id: '—', scripts: 'none' });

  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => document.querySelector('[data-state=scripts]').textContent.includes('marketing'));
  const id = await page.evaluate(() => window.consent.consentId());
  assert.deepEqual(await panel(), { decided: 'true', analytics: 'Allowed', marketing: 'Allowed', id, scripts: 'analytics ×1, marketing ×1' });

  // The in-page "Change privacy choices" button opens the preferences too.
  await page.locator('#privacy-state [data-consent-open]').click();
  await waitBanner(page, 'prefs', 'shown');
  await page.locator('#pc-host div.prefs input[data-category=marketing]').uncheck();
  await page.locator('#pc-host div.prefs [data-action=save]').click();
  await page.waitForFunction(() => document.querySelector('[data-state-cat=marketing]').textContent === 'Off');
  assert.equal((await panel()).analytics, 'Allowed');
});

h.test('privacy page: banner loads its config from data-config, choice shared with the home page', async ({ page }) => {
  await page.goto(h.url + '/privacy.html');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  const href = await page.evaluate(() =>
    document.querySelector('#pc-host').shadowRoot.querySelector('a[href]')?.getAttribute('href'));
  assert.equal(href, '/privacy.html', 'policy link from the config');
  await layerButton(page, 'customize').click();
  await page.locator('#pc-host div.prefs input[data-category=analytics]').check();
  await page.locator('#pc-host div.prefs [data-action=save]').click();
  await waitBanner(page, 'layer', 'hidden');

  await page.goto(h.url + '/');
  await waitReady(page);
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  await settle(page, 300);
  assert.equal((await gated(page)).marketing, 0, 'the privacy page choice applies on the home page');
  const st = await page.evaluate(() => document.querySelector('#pc-host').shadowRoot.querySelector('section.layer')?.hidden ?? true);
  assert.equal(st, true, 'no banner on the home page');
});

h.test('the page is usable at 360x740 and the banner fits the viewport', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  const m = await page.evaluate(() => {
    const l = document.querySelector('#pc-host').shadowRoot.querySelector('section.layer');
    const r = l.getBoundingClientRect();
    const buttons = [...l.querySelectorAll('button[data-action]')].map((b) => {
      const br = b.getBoundingClientRect();
      return { a: b.dataset.action, w: br.width, h: br.height, right: br.right, bottom: br.bottom };
    });
    return { docW: document.documentElement.scrollWidth, vw: innerWidth, vh: innerHeight, layer: { l: r.left, r: r.right, t: r.top, b: r.bottom }, buttons };
  });
  assert.ok(m.docW <= m.vw, `no horizontal scroll: ${m.docW} > ${m.vw}`);
  assert.ok(m.layer.l >= 0 && m.layer.r <= m.vw, 'banner fits horizontally');
  for (const b of m.buttons) {
    assert.ok(b.right <= m.vw && b.bottom <= m.vh, `${b.a} button on screen`);
    assert.ok(b.h >= 24 && b.w >= 24, `${b.a} button target size ${b.w}x${b.h}`);
  }
  const accept = m.buttons.find((b) => b.a === 'accept-all');
  const reject = m.buttons.find((b) => b.a === 'reject-all');
  const area = (b) => b.w * b.h;
  assert.ok(Math.abs(area(accept) - area(reject)) / area(accept) <= 0.25,
    `Accept and Reject have similar weight: ${accept.w}x${accept.h} vs ${reject.w}x${reject.h}`);
}, { context: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true } });

h.test('at 320x256 CSS px (400% zoom) the first layer scrolls within the viewport: its title stays reachable', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  await settle(page, 400); // past the slide-in animation
  const r = await page.evaluate(() => {
    const layer = document.querySelector('#pc-host').shadowRoot.querySelector('section.layer');
    const b = layer.getBoundingClientRect();
    return { top: b.top, bottom: b.bottom, vh: innerHeight, scrolls: layer.scrollHeight > layer.clientHeight };
  });
  assert.ok(r.top >= 0 && r.bottom <= r.vh, `the layer fits the viewport: ${JSON.stringify(r)}`);
  assert.ok(r.scrolls, 'its content scrolls instead of being cut off');
  await page.locator('#pc-host section.layer [data-action=reject-all]').click();
  await waitBanner(page, 'layer', 'hidden');
}, { context: { viewport: { width: 320, height: 256 } } });
