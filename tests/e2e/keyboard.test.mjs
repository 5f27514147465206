// Keyboard-only use: Tab reaches Reject all, Enter refuses; Escape closes the preferences and
// focus returns to whatever opened them.
import { harness, assert, waitReady, settle, waitBanner, gated, cookieMap, parseConsentCookie } from './helpers.mjs';

const h = harness();

/** What has focus: inside the banner's shadow root (its data-action) or in the page. */
async function focused(page) {
  return page.evaluate(() => {
    const host = document.querySelector('#pc-host');
    const inner = host && host.shadowRoot ? host.shadowRoot.activeElement : null;
    if (document.activeElement === host && inner) {
      return {
        where: 'banner',
        action: inner.getAttribute('data-action'),
        inPrefs: !!inner.closest('div.prefs'),
        inLayer: !!inner.closest('section.layer'),
        tag: inner.tagName.toLowerCase(),
      };
    }
    const a = document.activeElement;
    return { where: 'page', tag: a ? a.tagName.toLowerCase() : null, open: a ? a.hasAttribute('data-consent-open') : false, inFooter: !!a?.closest('footer') };
  });
}

/** Press Tab until the banner's button with `action` in the first layer has focus. */
async function tabTo(page, action, max = 80) {
  for (let i = 0; i < max; i++) {
    const f = await focused(page);
    if (f.where === 'banner' && f.action === action && f.inLayer) return i;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached [data-action=${action}] in ${max} presses (last: ${JSON.stringify(await focused(page))})`);
}

h.test('keyboard only: Tab to Reject all, Enter → nothing runs, banner hidden', async ({ page, context }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  await tabTo(page, 'reject-all');
  await page.keyboard.press('Enter');
  await waitBanner(page, 'layer', 'hidden');
  await settle(page, 300);
  const g = await gated(page);
  assert.equal(g.analytics + g.marketing, 0, 'nothing ran');
  const rec = parseConsentCookie((await cookieMap(context)).pc_consent);
  assert.deepEqual(rec?.choices, { essential: true, analytics: false, marketing: false }, 'refusal stored');
});

h.test('keyboard only: Tab reaches Accept all too, Space accepts, focus moves to the re-open control', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await tabTo(page, 'accept-all');
  await page.keyboard.press('Space');
  await page.waitForFunction(() => window.__gated?.analytics === 1 && window.__gated?.marketing === 1);
  await waitBanner(page, 'layer', 'hidden');
  const f = await focused(page);
  assert.equal(f.action, 'reopen', `focus after deciding: ${JSON.stringify(f)}`);
});

h.test('forced colors: the switches still show on and off', async ({ page }) => {
  await page.emulateMedia({ forcedColors: 'active' });
  await page.goto(h.url + '/');
  await waitReady(page);
  await page.evaluate(() => window.consent.showPreferences());
  await waitBanner(page, 'prefs', 'shown');
  const bg = await page.evaluate(() => {
    const root = document.querySelector('#pc-host').shadowRoot;
    const look = (id) => getComputedStyle(root.querySelector(`input[data-category=${id}]`)).backgroundColor;
    return { on: look('essential'), off: look('analytics') };
  });
  assert.notEqual(bg.on, bg.off, `on and off look different: ${JSON.stringify(bg)}`);
});

h.test('WCAG 2.4.11: page elements reached by Tab are not hidden behind the first layer (320 px wide)', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  await page.keyboard.press('Tab');
  let checked = 0;
  for (let i = 0; i < 60 && checked < 15; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f.where !== 'page' || !f.tag || f.tag === 'body') continue;
    // The demo scrolls smoothly: wait until the focused element stops moving.
    const r = await page.evaluate(async () => {
      const box = () => JSON.stringify(document.activeElement.getBoundingClientRect());
      for (let last = box(), n = 0; n < 30; n++) {
        await new Promise((res) => setTimeout(res, 60));
        const now = box();
        if (now === last) break;
        last = now;
      }
      const el = document.activeElement.getBoundingClientRect();
      const layer = document.querySelector('#pc-host').shadowRoot.querySelector('section.layer').getBoundingClientRect();
      return { top: el.top, bottom: el.bottom, layerTop: layer.top, vh: innerHeight, text: document.activeElement.textContent.trim().slice(0, 40) };
    });
    assert.ok(r.bottom <= r.layerTop + 0.5 || r.top >= r.vh, `"${r.text}" is under the banner: ${JSON.stringify(r)}`);
    checked++;
  }
  assert.ok(checked >= 5, `page stops checked: ${checked}`);
}, { context: { viewport: { width: 320, height: 568 } } });

h.test('keyboard: open preferences from Customize, Escape closes them, focus returns to Customize', async ({ page, context }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await tabTo(page, 'customize');
  await page.keyboard.press('Enter');
  await waitBanner(page, 'prefs', 'shown');
  await page.waitForFunction(() => {
    const r = document.querySelector('#pc-host').shadowRoot;
    return !!r.activeElement && !!r.activeElement.closest('div.prefs');
  });
  const inDialog = await focused(page);
  assert.ok(inDialog.inPrefs, `focus moved into the dialog: ${JSON.stringify(inDialog)}`);

  // Tab stays inside the modal dialog; the close button, first on screen, comes first.
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (i === 0) assert.equal(f.action, 'close', `first Tab in the dialog: ${JSON.stringify(f)}`);
    assert.ok(f.where === 'banner' && f.inPrefs, `Tab ${i + 1} left the modal dialog: ${JSON.stringify(f)}`);
  }

  await page.keyboard.press('Escape');
  await waitBanner(page, 'prefs', 'hidden');
  const back = await focused(page);
  assert.equal(back.where, 'banner');
  assert.equal(back.action, 'customize', `focus back on the opener: ${JSON.stringify(back)}`);
  await settle(page, 200);
  assert.equal((await gated(page)).analytics, 0, 'Escape is not consent');
  assert.ok(!('pc_consent' in (await cookieMap(context))), 'Escape stores nothing');
  await waitBanner(page, 'layer', 'shown');
});

h.test('keyboard: footer "Privacy choices" link opens preferences, Escape returns focus to the link', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await page.locator('#pc-host section.layer [data-action=reject-all]').click();
  await waitBanner(page, 'layer', 'hidden');
  await page.locator('footer [data-consent-open]').focus();
  await page.keyboard.press('Enter');
  await waitBanner(page, 'prefs', 'shown');
  await page.keyboard.press('Escape');
  await waitBanner(page, 'prefs', 'hidden');
  const f = await focused(page);
  assert.ok(f.where === 'page' && f.open && f.inFooter, `focus back on the footer link: ${JSON.stringify(f)}`);
  assert.ok(!page.url().endsWith('#'), `the link's default navigation is prevented: ${page.url()}`);
});

h.test('after a click on the backdrop moves focus out of the dialog, Tab goes back in and Escape still closes it', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await page.evaluate(() => window.consent.showPreferences());
  await waitBanner(page, 'prefs', 'shown');
  // The backdrop's top-left corner, outside the dialog box.
  await page.mouse.click(3, 3);
  assert.equal((await focused(page)).where, 'page', 'focus left the banner');
  await page.keyboard.press('Tab');
  assert.equal((await focused(page)).inPrefs, true, 'Tab brings focus back into the dialog');
  await page.mouse.click(3, 3);
  await page.keyboard.press('Escape');
  await waitBanner(page, 'prefs', 'hidden');
});

h.test('preferences opened by a page button through showPreferences() give focus back to it on close', async ({ page }) => {
  await page.goto(h.url + '/');
  await waitReady(page);
  await page.evaluate(() => {
    const b = document.createElement('button');
    b.id = 'my-privacy';
    b.textContent = 'Privacy settings';
    b.onclick = () => window.consent.showPreferences();
    document.body.append(b);
  });
  await page.focus('#my-privacy');
  await page.keyboard.press('Enter');
  await waitBanner(page, 'prefs', 'shown');
  assert.equal((await focused(page)).inPrefs, true, 'focus moved into the dialog');
  await page.keyboard.press('Escape');
  await waitBanner(page, 'prefs', 'hidden');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'my-privacy', 'focus is back on the button');
});
