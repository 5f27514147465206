// Consent lifetime and re-consent (compliance.md C-B1, C-B3, C-B4): a revision bump or a record
// older than lifetimeDays asks again and activates nothing until the new choice; a refusal is
// remembered across pages.
import {
  assert,
  waitReady,
  waitBanner,
  gated,
  settle,
  layerButton,
  cookieMap,
  bannerState,
  parseConsentCookie,
  makeConsentCookie,
} from './helpers.mjs';
import { stdHarness, config, html, parseCookie, GPC_ON } from './standards-support.mjs';

const h = stdHarness();
h.state.revision = 1;
// The same URL serves the config with whatever revision the test set.
h.page('/g/rev.html', () => html({ cfg: config({ revision: h.state.revision }) }));
h.page('/g/life.html', () => html({ cfg: config() }));
h.page('/g/life30.html', () => html({ cfg: config({ lifetimeDays: 30 }) }));
for (const p of ['a', 'b', 'c']) h.page(`/g/page-${p}.html`, () => html({ cfg: config(), title: `Page ${p}` }));

const DAY = 86_400;
const now = () => Math.floor(Date.now() / 1000);

async function setCookie(context, value) {
  await context.addCookies([{ name: 'pc_consent', value, url: h.url + '/' }]);
}

async function nothingRan(page, why) {
  await settle(page, 400);
  const g = await gated(page);
  assert.equal(g.analytics + g.marketing, 0, `${why}: nothing activated (${JSON.stringify(g.raw)})`);
  assert.deepEqual(await page.evaluate(() => window.consent.acceptedCategories()), ['essential'], `${why}: only essential`);
}

h.test('revision bump: accepted at revision 1, revision 2 shows the banner again and the old record activates nothing', async ({ page, context }) => {
  h.state.revision = 1;
  await page.goto(h.url + '/g/rev.html');
  await waitReady(page);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.analytics === 1 && window.__gated?.marketing === 1);
  const before = parseConsentCookie((await cookieMap(context)).pc_consent);
  assert.equal(before?.revision, 1);

  h.state.revision = 2;
  try {
    await context.addCookies(['_std_a', '_std_m'].map((name) => ({ name, value: '1', url: h.url + '/' })));
    await page.reload();
    await waitReady(page);
    await waitBanner(page, 'layer', 'shown');
    await nothingRan(page, 'revision 2 before the new choice');
    const left = await cookieMap(context);
    assert.ok(!('_std_a' in left) && !('_std_m' in left), `the outdated consent's cookies are deleted: ${JSON.stringify(left)}`);
    // Consent Mode gets the truth too: the outdated grants are not replayed (no current decision:
    // the all-denied default stands, and no update grants anything).
    const consent = await page.evaluate(() =>
      (window.dataLayer || []).map((a) => Array.from(a)).filter((e) => e[0] === 'consent'),
    );
    assert.equal(consent[0]?.[1], 'default');
    for (const u of consent) assert.ok(!Object.values(u[2]).includes('granted'), `no grant replayed: ${JSON.stringify(u)}`);
    assert.equal((await page.evaluate(() => window.__ev.ready[0])).decided, false);

    await layerButton(page, 'reject-all').click();
    await waitBanner(page, 'layer', 'hidden');
    const after = parseConsentCookie((await cookieMap(context)).pc_consent);
    assert.equal(after?.revision, 2, 'the new choice is stored with the new revision');
    assert.deepEqual(after?.choices, { essential: true, analytics: false, marketing: false });
    assert.equal(after?.id, before.id, 'the consent id survives the re-prompt');
    await page.reload();
    await waitReady(page);
    assert.equal((await bannerState(page)).layer === 'shown', false, 'decided at revision 2: no banner');
    await nothingRan(page, 'after refusing at revision 2');
  } finally {
    h.state.revision = 1;
  }
});

h.test('a record whose last decision is 183 days old (lifetime 182) asks again and activates nothing', async ({ page, context }) => {
  const t = now();
  await setCookie(
    context,
    makeConsentCookie({ revision: 1, first: t - 200 * DAY, last: t - 183 * DAY, choices: { essential: true, analytics: true, marketing: true } }),
  );
  // Cookies the expired consent let its categories set: they go with it, before any click.
  await context.addCookies(['_std_a', '_std_m'].map((name) => ({ name, value: '1', url: h.url + '/' })));
  await page.goto(h.url + '/g/life.html');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  await nothingRan(page, 'expired record');
  const left = await cookieMap(context);
  assert.ok(!('_std_a' in left) && !('_std_m' in left), `the lapsed consent's cookies are deleted: ${JSON.stringify(left)}`);
  await layerButton(page, 'accept-all').click();
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  const rec = parseConsentCookie((await cookieMap(context)).pc_consent);
  assert.ok(rec.last >= t - 5, `last decision renewed: ${rec.last} vs now ${t}`);
  assert.equal(rec.id, 'ab'.repeat(16), 'the consent id is kept across the re-prompt');
});

h.test('lifetime counts from the last decision: first decision 300 days ago, last 10 days ago → still valid', async ({ page, context }) => {
  const t = now();
  await setCookie(
    context,
    makeConsentCookie({ revision: 1, first: t - 300 * DAY, last: t - 10 * DAY, choices: { essential: true, analytics: true, marketing: false } }),
  );
  await page.goto(h.url + '/g/life.html');
  await waitReady(page);
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  assert.notEqual((await bannerState(page)).layer, 'shown');
});

h.test('a record dated in the future (last decision tomorrow) is not trusted: banner, nothing runs', async ({ page, context }) => {
  const t = now();
  await setCookie(
    context,
    makeConsentCookie({ revision: 1, first: t - DAY, last: t + DAY, choices: { essential: true, analytics: true, marketing: true } }),
  );
  await page.goto(h.url + '/g/life.html');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  await nothingRan(page, 'future-dated record');
});

h.test('control: a record 181 days old is still valid (no banner, grants apply)', async ({ page, context }) => {
  const t = now();
  await setCookie(
    context,
    makeConsentCookie({ revision: 1, first: t - 181 * DAY, last: t - 181 * DAY, choices: { essential: true, analytics: true, marketing: false } }),
  );
  await page.goto(h.url + '/g/life.html');
  await waitReady(page);
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  assert.equal((await bannerState(page)).layer === 'shown', false);
  assert.equal((await gated(page)).marketing, 0);
});

h.test('lifetimeDays is honoured: with 30 days, a 31-day-old record asks again', async ({ page, context }) => {
  const t = now();
  await setCookie(
    context,
    makeConsentCookie({ revision: 1, first: t - 31 * DAY, last: t - 31 * DAY, choices: { essential: true, analytics: true, marketing: true } }),
  );
  await page.goto(h.url + '/g/life30.html');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  await nothingRan(page, '31 days with lifetimeDays 30');
});

h.test('a refusal is remembered: Reject all, then three other pages and a reload → no banner, nothing runs', async ({ page, context }) => {
  await page.goto(h.url + '/g/page-a.html');
  await waitReady(page);
  await layerButton(page, 'reject-all').click();
  await waitBanner(page, 'layer', 'hidden');
  for (const p of ['b', 'c', 'a']) {
    await page.goto(h.url + `/g/page-${p}.html`);
    await waitReady(page);
    const s = await bannerState(page);
    assert.ok(s.layer !== 'shown' && s.prefs !== 'shown', `page ${p}: no banner (${JSON.stringify(s)})`);
    assert.equal(s.reopen, 'shown', `page ${p}: the re-open control is there`);
    await nothingRan(page, `page ${p}`);
  }
  await page.reload();
  await waitReady(page);
  assert.notEqual((await bannerState(page)).layer, 'shown');
  const rec = parseConsentCookie((await cookieMap(context)).pc_consent);
  assert.deepEqual(rec?.choices, { essential: true, analytics: false, marketing: false });
  // The cookie itself lives as long as the consent (about 182 days), not a session.
  const c = (await context.cookies()).find((x) => x.name === 'pc_consent');
  const days = (c.expires - now()) / DAY;
  assert.ok(days > 170 && days <= 183, `cookie lifetime ~182 days, got ${days.toFixed(1)}`);
});

h.test('inaction is not consent: three pages without a click → banner on each, nothing runs, nothing stored or reported', async ({ page, context }) => {
  for (const p of ['a', 'b', 'c']) {
    await page.goto(h.url + `/g/page-${p}.html`);
    await waitReady(page);
    await waitBanner(page, 'layer', 'shown');
    await page.mouse.wheel(0, 600);
    await nothingRan(page, `page ${p}`);
  }
  assert.ok(!('pc_consent' in (await cookieMap(context))), 'no record');
  assert.deepEqual(h.events, [], 'no event reported');
});

h.test('a record written under GPC follows the cookie format in docs/contract.md', async ({ page, context }) => {
  await page.goto(h.url + '/g/life.html');
  await waitReady(page);
  await page.waitForFunction(() => document.cookie.includes('pc_consent='));
  const raw = (await cookieMap(context)).pc_consent;
  assert.ok(parseCookie(raw), `readable at all: ${raw}`);
  assert.ok(
    parseConsentCookie(raw),
    `contract format 1.<id>.<rev>.<first>.<last>.<id>:<0|1>~…[.g] — got ${raw}`,
  );
  assert.equal(parseConsentCookie(raw).underGpc, true, 'the .g marker records that GPC was on');
  assert.equal(parseConsentCookie(raw).choices.marketing, false);
}, { init: [GPC_ON] });
