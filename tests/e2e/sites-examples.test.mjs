// The seed sites in examples/: each config is complete and valid, its inline copy in the example
// page is identical, the texts come from the site's privacy policy in English, German and French
// (and Arabic, right-to-left, for the Rufio marketing site), the language is picked from
// <html lang>, then navigator.languages, then the config default, and the main flows (first visit,
// Accept all, Reject all, Customize) work on every example page.
import fs from 'node:fs';
import path from 'node:path';
import { assert, waitReady, waitBanner, gated, settle, layerButton, prefs, switches, cookieMap, bannerState } from './helpers.mjs';
import { stdHarness, EXAMPLES_DIR, parseCookie } from './standards-support.mjs';

const h = stdHarness();

const CONFIG_RE = /<script type="application\/json" id="consent-config">([\s\S]*?)<\/script>/;
const read = (f) => fs.readFileSync(path.join(EXAMPLES_DIR, f), 'utf8');

const PAGES = [
  { page: 'rufio-marketing.html', json: 'rufio-marketing.json', lang: 'en', optional: ['analytics', 'marketing'] },
  { page: 'rufio-marketing-ar.html', json: 'rufio-marketing.json', lang: 'ar', optional: ['analytics', 'marketing'] },
  { page: 'rufio-app.html', json: 'rufio-app.json', lang: 'en', optional: ['analytics'] },
  { page: 'trapioka.html', json: 'trapioka.json', lang: 'en', optional: ['analytics'] },
];
const CONFIGS = ['rufio-marketing.json', 'rufio-app.json', 'trapioka.json'];
const TEXT_KEYS = [
  'title', 'description', 'acceptAll', 'rejectAll', 'customize', 'save', 'close', 'preferencesTitle',
  'reopen', 'policyLink', 'gpcNotice', 'consentIdLabel',
];

// An example page with <html lang> replaced (?lang=xx, or ?lang= for none): for the language order.
h.routes['/x/lang'] = (req, res) => {
  const q = new URL(req.url, 'http://x').searchParams;
  const page = q.get('page');
  assert.ok(PAGES.some((p) => p.page === page));
  const lang = q.get('lang');
  const body = Buffer.from(read(page).replace(/<html lang="[^"]*"/, lang ? `<html lang="${lang}"` : '<html'), 'utf8');
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
  res.end(body);
};

// ---------------------------------------------------------------------------------------------
// Static checks of the files.

h.test('each example page inlines exactly its .json config (byte-identical text and equal JSON)', async () => {
  for (const p of PAGES) {
    const m = CONFIG_RE.exec(read(p.page));
    assert.ok(m, `${p.page}: has a #consent-config script`);
    const inline = m[1].trim();
    const file = read(p.json).trim();
    assert.deepEqual(JSON.parse(inline), JSON.parse(file), `${p.page} vs ${p.json}: same config`);
    assert.equal(inline, file, `${p.page} vs ${p.json}: same text`);
  }
});

h.test('every example config has English, German and French texts for every category; the marketing site also Arabic', async () => {
  for (const f of CONFIGS) {
    const c = JSON.parse(read(f));
    const langs = Object.keys(c.texts);
    for (const l of ['en', 'de', 'fr']) assert.ok(langs.includes(l), `${f}: has ${l}`);
    assert.equal(c.defaultLanguage, 'en');
    for (const [l, t] of Object.entries(c.texts)) {
      for (const k of TEXT_KEYS) assert.ok(typeof t[k] === 'string' && t[k].trim(), `${f} ${l}.${k}`);
      assert.deepEqual(Object.keys(t.categories).sort(), c.categories.map((x) => x.id).sort(), `${f} ${l}: every category`);
      for (const [id, ct] of Object.entries(t.categories)) assert.ok(ct.title.trim() && ct.description.trim(), `${f} ${l}.categories.${id}`);
    }
    // The same button labels are not accidentally left in English.
    assert.notEqual(c.texts.de.acceptAll, c.texts.en.acceptAll, `${f}: German is translated`);
    assert.notEqual(c.texts.fr.rejectAll, c.texts.en.rejectAll, `${f}: French is translated`);
    assert.ok(c.privacyPolicyUrl, `${f}: links the privacy policy`);
    assert.ok(c.categories[0].id === 'essential' && c.categories[0].required === true, `${f}: essential is locked`);
  }
  assert.ok(Object.keys(JSON.parse(read('rufio-marketing.json')).texts).includes('ar'), 'the marketing site ships Arabic');
});

h.test('the example texts follow the policies: categories, contacts, operator', async () => {
  const m = JSON.parse(read('rufio-marketing.json'));
  const a = JSON.parse(read('rufio-app.json'));
  const t = JSON.parse(read('trapioka.json'));
  assert.deepEqual(m.categories.map((c) => c.id), ['essential', 'analytics', 'marketing']);
  // Rufio's cookie table: Marketing / Attribution is "only set if you visit our public marketing site".
  assert.deepEqual(a.categories.map((c) => c.id), ['essential', 'analytics'], 'the Rufio app has no marketing category');
  assert.deepEqual(t.categories.map((c) => c.id), ['essential', 'analytics'], 'trAPIoka: limited analytics only');
  for (const [f, c, contact] of [
    ['rufio-marketing', m, 'privacy@strata19.com'],
    ['rufio-app', a, 'privacy@strata19.com'],
    ['trapioka', t, 'contact@rallyum.com'],
  ]) {
    for (const [l, tx] of Object.entries(c.texts)) assert.ok(tx.description.includes(contact), `${f} ${l}: names ${contact}`);
  }
  for (const tx of Object.values(t.texts)) assert.match(tx.description, /Rallyum/, 'trAPIoka: names its operator');
  assert.match(m.texts.en.categories.marketing.description, /marketing site/i);
  assert.match(m.texts.en.categories.analytics.description, /no cross-site tracking/i);
  assert.match(a.texts.en.description, /never set in the app/i);
  assert.deepEqual(m.gpc, { categories: ['marketing'] });
});

// ---------------------------------------------------------------------------------------------
// The main flows on each example page.

const host = (page) => page.evaluate(() => document.querySelector('#pc-host')?.shadowRoot?.querySelector('section.layer h2')?.textContent);

for (const p of PAGES) {
  const url = () => `${h.url}/examples/${p.page}`;
  const cfg = JSON.parse(read(p.json));
  const all = Object.fromEntries(cfg.categories.map((c) => [c.id, true]));
  const none = Object.fromEntries(cfg.categories.map((c) => [c.id, !!c.required]));

  h.test(`${p.page}: first visit shows the banner in ${p.lang}, nothing optional runs`, async ({ page, context }) => {
    await page.goto(url());
    await waitReady(page);
    await waitBanner(page, 'layer', 'shown');
    assert.equal(await host(page), cfg.texts[p.lang].title);
    assert.equal(await layerButton(page, 'accept-all').textContent(), cfg.texts[p.lang].acceptAll);
    assert.equal(await layerButton(page, 'reject-all').textContent(), cfg.texts[p.lang].rejectAll);
    // The first layer links the privacy policy (C-A9).
    const link = page.locator('#pc-host section.layer a');
    assert.equal(await link.getAttribute('href'), cfg.privacyPolicyUrl);
    assert.equal(await link.textContent(), cfg.texts[p.lang].policyLink);
    assert.ok(await link.isVisible());
    await settle(page, 300);
    const g = await gated(page);
    assert.equal(g.analytics + g.marketing, 0);
    assert.ok(!('pc_consent' in (await cookieMap(context))), 'nothing stored before a choice');
  });

  h.test(`${p.page}: Accept all runs every optional category and is stored and reported`, async ({ page, context }) => {
    await page.goto(url());
    await waitReady(page);
    await layerButton(page, 'accept-all').click();
    await page.waitForFunction((cats) => cats.every((c) => window.__gated?.[c] === 1), p.optional);
    await waitBanner(page, 'layer', 'hidden');
    assert.deepEqual(parseCookie((await cookieMap(context)).pc_consent)?.choices, all);
    const ev = await h.waitEvent((j) => j.action === 'accept_all');
    assert.equal(ev.site_id, cfg.siteId);
    assert.equal(ev.language, p.lang);
    await page.reload();
    await waitReady(page);
    await page.waitForFunction((cats) => cats.every((c) => window.__gated?.[c] === 1), p.optional);
    assert.equal((await bannerState(page)).reopen, 'shown');
  });

  h.test(`${p.page}: Reject all runs nothing and is remembered`, async ({ page, context }) => {
    await page.goto(url());
    await waitReady(page);
    await layerButton(page, 'reject-all').click();
    await waitBanner(page, 'layer', 'hidden');
    assert.deepEqual(parseCookie((await cookieMap(context)).pc_consent)?.choices, none);
    await h.waitEvent((j) => j.action === 'reject_all' && j.site_id === cfg.siteId);
    await page.reload();
    await waitReady(page);
    await settle(page, 300);
    const g = await gated(page);
    assert.equal(g.analytics + g.marketing, 0);
    assert.notEqual((await bannerState(page)).layer, 'shown');
  });

  h.test(`${p.page}: Customize shows one switch per category (essential locked, none pre-ticked); saving analytics only`, async ({ page, context }) => {
    await page.goto(url());
    await waitReady(page);
    await layerButton(page, 'customize').click();
    await waitBanner(page, 'prefs', 'shown');
    const sw = await switches(page);
    assert.deepEqual(Object.keys(sw), cfg.categories.map((c) => c.id));
    assert.deepEqual(sw.essential, { checked: true, disabled: true, role: 'switch' });
    for (const c of p.optional) assert.equal(sw[c].checked, false, `${c} not pre-ticked`);
    const titles = await page.evaluate(() =>
      [...document.querySelector('#pc-host').shadowRoot.querySelectorAll('div.prefs .cat label span')].map((s) => s.textContent),
    );
    assert.deepEqual(titles, cfg.categories.map((c) => cfg.texts[p.lang].categories[c.id].title));
    await prefs(page, 'input[data-category=analytics]').check();
    await prefs(page, '[data-action=save]').click();
    await waitBanner(page, 'prefs', 'hidden');
    await page.waitForFunction(() => window.__gated?.analytics === 1);
    await settle(page, 300);
    assert.equal((await gated(page)).marketing, 0);
    const want = { ...none, analytics: true };
    assert.deepEqual(parseCookie((await cookieMap(context)).pc_consent)?.choices, want);
    const ev = await h.waitEvent((j) => j.action === 'custom');
    assert.equal(ev.surface, 'preferences');
    assert.deepEqual(ev.choices, want);
  });
}

// ---------------------------------------------------------------------------------------------
// Language choice and direction.

const langUrl = (page, lang) => `${h.url}/x/lang?page=${page}&lang=${lang ?? ''}`;
const M = JSON.parse(read('rufio-marketing.json'));

h.test('language: <html lang="de"> wins over navigator.languages (fr-FR)', async ({ page }) => {
  await page.goto(langUrl('rufio-marketing.html', 'de'));
  await waitReady(page);
  assert.equal(await host(page), M.texts.de.title);
  assert.equal(await page.evaluate(() => document.querySelector('#pc-host').shadowRoot.querySelector('section.layer').getAttribute('lang')), 'de');
}, { context: { locale: 'fr-FR' } });

h.test('language: without <html lang>, navigator.languages (fr-FR) picks French', async ({ page }) => {
  await page.goto(langUrl('rufio-marketing.html', null));
  await waitReady(page);
  assert.deepEqual(await page.evaluate(() => navigator.languages[0]), 'fr-FR');
  assert.equal(await host(page), M.texts.fr.title);
}, { context: { locale: 'fr-FR' } });

h.test('language: an unconfigured <html lang="pt"> falls through to navigator.languages (de-DE)', async ({ page }) => {
  await page.goto(langUrl('trapioka.html', 'pt'));
  await waitReady(page);
  assert.equal(await host(page), JSON.parse(read('trapioka.json')).texts.de.title);
}, { context: { locale: 'de-DE' } });

h.test('language: a region subtag matches its language (<html lang="fr-CA"> → French)', async ({ page }) => {
  await page.goto(langUrl('rufio-marketing.html', 'fr-CA'));
  await waitReady(page);
  assert.equal(await host(page), M.texts.fr.title);
}, { context: { locale: 'en-US' } });

h.test('language: neither configured → the config default (en)', async ({ page }) => {
  await page.goto(langUrl('rufio-app.html', null));
  await waitReady(page);
  assert.equal(await page.evaluate(() => navigator.languages[0]), 'ja-JP');
  assert.equal(await host(page), JSON.parse(read('rufio-app.json')).texts.en.title);
}, { context: { locale: 'ja-JP' } });

h.test('Arabic example renders right-to-left: first layer, preferences and re-open button', async ({ page }) => {
  await page.goto(`${h.url}/examples/rufio-marketing-ar.html`);
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  const dirOf = (sel) =>
    page.evaluate((sel) => {
      const el = document.querySelector('#pc-host').shadowRoot.querySelector(sel);
      return { attr: el.getAttribute('dir'), lang: el.getAttribute('lang'), direction: getComputedStyle(el).direction };
    }, sel);
  assert.deepEqual(await dirOf('section.layer'), { attr: 'rtl', lang: 'ar', direction: 'rtl' });
  // The text inside inherits it.
  assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('#pc-host').shadowRoot.querySelector('section.layer p')).direction), 'rtl');
  await layerButton(page, 'customize').click();
  await waitBanner(page, 'prefs', 'shown');
  assert.deepEqual(await dirOf('div.prefs'), { attr: 'rtl', lang: 'ar', direction: 'rtl' });
  assert.equal(await page.locator('#pc-host div.prefs h2').textContent(), M.texts.ar.preferencesTitle);
  await prefs(page, '[data-action=reject-all]').click();
  await waitBanner(page, 'reopen', 'shown');
  assert.deepEqual(await dirOf('button[data-action=reopen]'), { attr: 'rtl', lang: 'ar', direction: 'rtl' });
  assert.equal(await page.locator('#pc-host button[data-action=reopen]').textContent(), M.texts.ar.reopen);
  // English pages stay left-to-right.
  await page.goto(`${h.url}/examples/rufio-marketing.html`);
  await waitReady(page);
  assert.equal((await dirOf('section.layer')).direction, 'ltr');
});
