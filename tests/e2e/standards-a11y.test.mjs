// Accessibility, verified (compliance.md C-A1, C-A2, R-9): axe-core finds no violation in the
// banner's first layer or its open preferences dialog, in light and dark schemes; both Accept all
// and Reject all labels have a WCAG contrast of at least 4.5:1 and equal weight; and every flow
// (accept, reject, customize, reopen, withdraw) works with the keyboard alone.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { assert, waitReady, waitBanner, settle, gated, cookieMap, bannerState } from './helpers.mjs';
import { stdHarness, parseCookie } from './standards-support.mjs';

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const AXE_VERSION = JSON.parse(fs.readFileSync(require.resolve('axe-core/package.json'), 'utf8')).version;

const h = stdHarness();
const PAGES = ['rufio-marketing.html', 'rufio-marketing-ar.html', 'trapioka.html'];
const SCHEMES = ['light', 'dark'];

/** Wait until the banner's entry animations are over (they fade from opacity 0). */
async function still(page) {
  await page.waitForFunction(() => document.querySelector('#pc-host').shadowRoot.getAnimations().every((a) => a.playState !== 'running'));
}

/** Run axe on the banner only (the host and its open shadow tree). */
async function axe(page) {
  await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    const r = await window.axe.run({ include: [['#pc-host']] }, { resultTypes: ['violations', 'passes'] });
    return {
      violations: r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
      })),
      // How many checked nodes sit inside the shadow root (target = [host, inner selector]).
      shadowNodes: r.passes.reduce((k, p) => k + p.nodes.filter((n) => Array.isArray(n.target[0]) || n.target.length > 1).length, 0),
    };
  });
}

function assertClean(res, what) {
  const text = res.violations
    .map((v) => `  - ${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `      ${JSON.stringify(n.target)}: ${n.summary}`).join('\n')}`)
    .join('\n');
  if (res.violations.length) console.log(`# axe-core ${AXE_VERSION} violations in ${what}:\n${text}`);
  assert.ok(res.shadowNodes > 0, `${what}: axe checked nodes inside the shadow root`);
  assert.deepEqual(res.violations.map((v) => v.id), [], `${what}: axe violations\n${text}`);
}

for (const file of PAGES) {
  for (const scheme of SCHEMES) {
    h.test(`axe-core: no violations in the first layer — ${file}, ${scheme}`, async ({ page }) => {
      await page.goto(`${h.url}/examples/${file}`);
      await waitReady(page);
      await waitBanner(page, 'layer', 'shown');
      await still(page);
      assertClean(await axe(page), `${file} first layer (${scheme})`);
    }, { context: { colorScheme: scheme } });

    h.test(`axe-core: no violations in the open preferences dialog — ${file}, ${scheme}`, async ({ page }) => {
      await page.goto(`${h.url}/examples/${file}`);
      await waitReady(page);
      await page.locator('#pc-host section.layer [data-action=customize]').click();
      await waitBanner(page, 'prefs', 'shown');
      await still(page);
      assertClean(await axe(page), `${file} preferences (${scheme})`);
    }, { context: { colorScheme: scheme } });
  }
}

// ---------------------------------------------------------------------------------------------
// Contrast and equal weight of Accept all / Reject all.

/** Label colour, effective background (first opaque ancestor) and box of a shadow-root button. */
function measure(sel) {
  const parse = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const root = document.querySelector('#pc-host').shadowRoot;
  const el = root.querySelector(sel);
  let bg = null;
  for (let n = el; n && n.nodeType === 1; n = n.parentNode?.host ?? n.parentElement ?? n.parentNode) {
    const c = parse(getComputedStyle(n).backgroundColor);
    if (c && c.a >= 1) {
      bg = c;
      break;
    }
    if (c && c.a > 0) return { error: `semi-transparent background on ${n.tagName}: ${getComputedStyle(n).backgroundColor}` };
  }
  const cs = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  return {
    fg: parse(cs.color),
    rawFg: cs.color,
    bg: bg ?? { r: 255, g: 255, b: 255, a: 1 },
    opacity: cs.opacity,
    tag: el.tagName,
    area: r.width * r.height,
    fontSize: cs.fontSize,
    fontWeight: cs.fontWeight,
  };
}

const lum = ({ r, g, b }) => {
  const f = (v) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
};
const ratio = (a, b) => {
  const [l1, l2] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (l1 + 0.05) / (l2 + 0.05);
};

for (const scheme of SCHEMES) {
  h.test(`Accept all and Reject all: label contrast ≥ 4.5:1 and equal weight — ${scheme}`, async ({ page }) => {
    await page.goto(`${h.url}/examples/rufio-marketing.html`);
    await waitReady(page);
    await waitBanner(page, 'layer', 'shown');
    await still(page);
    const out = {};
    for (const action of ['accept-all', 'reject-all']) {
      const m = await page.evaluate(measure, `section.layer [data-action=${action}]`);
      assert.ok(!m.error, m.error);
      assert.ok(m.fg && m.fg.a === 1, `${action}: opaque label colour (${m.rawFg})`);
      assert.equal(m.opacity, '1');
      const cr = ratio(m.fg, m.bg);
      out[action] = { ...m, cr };
      assert.ok(cr >= 4.5, `${action} (${scheme}): contrast ${cr.toFixed(2)}:1 < 4.5:1 (fg ${m.rawFg} on ${JSON.stringify(m.bg)})`);
    }
    const a = out['accept-all'];
    const r = out['reject-all'];
    assert.equal(a.tag, 'BUTTON');
    assert.equal(r.tag, 'BUTTON', 'Reject all is a button, not a link');
    assert.ok(Math.abs(a.area - r.area) / a.area <= 0.1, `equal size ±10%: ${a.area} vs ${r.area}`);
    assert.equal(a.fontSize, r.fontSize);
    assert.equal(a.fontWeight, r.fontWeight);
    assert.ok(Math.abs(a.cr - r.cr) / Math.max(a.cr, r.cr) <= 0.1, `contrast within 10%: ${a.cr.toFixed(2)} vs ${r.cr.toFixed(2)}`);
  }, { context: { colorScheme: scheme } });
}

// ---------------------------------------------------------------------------------------------
// Keyboard only. (keyboard.test.mjs covers Tab → Reject all / Accept all on the demo page and
// Escape in the dialog; these add customize, reopen and withdraw, on an example page.)

async function focused(page) {
  return page.evaluate(() => {
    const host = document.querySelector('#pc-host');
    const inner = host?.shadowRoot?.activeElement;
    if (document.activeElement === host && inner) {
      return {
        where: 'banner',
        action: inner.getAttribute('data-action'),
        category: inner.getAttribute('data-category'),
        inPrefs: !!inner.closest('div.prefs'),
        inLayer: !!inner.closest('section.layer'),
      };
    }
    return { where: 'page', tag: document.activeElement?.tagName.toLowerCase() };
  });
}

/** Press Tab until `match(focused)` holds. */
async function tabUntil(page, match, what, max = 60) {
  for (let i = 0; i < max; i++) {
    if (match(await focused(page))) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`Tab never reached ${what} in ${max} presses (last: ${JSON.stringify(await focused(page))})`);
}
const layerBtn = (action) => (f) => f.where === 'banner' && f.inLayer && f.action === action;
const prefsBtn = (action) => (f) => f.where === 'banner' && f.inPrefs && f.action === action;
const prefsSwitch = (cat) => (f) => f.where === 'banner' && f.inPrefs && f.category === cat;

const URL_ = () => `${h.url}/examples/rufio-marketing.html`;

h.test('keyboard only: Customize → Space on the analytics switch → Save stores analytics only', async ({ page, context }) => {
  await page.goto(URL_());
  await waitReady(page);
  await tabUntil(page, layerBtn('customize'), 'Customize');
  await page.keyboard.press('Enter');
  await waitBanner(page, 'prefs', 'shown');
  await tabUntil(page, prefsSwitch('analytics'), 'the analytics switch');
  await page.keyboard.press('Space');
  await tabUntil(page, prefsBtn('save'), 'Save');
  await page.keyboard.press('Enter');
  await waitBanner(page, 'prefs', 'hidden');
  await page.waitForFunction(() => window.__gated?.analytics === 1);
  await settle(page, 300);
  assert.equal((await gated(page)).marketing, 0);
  assert.deepEqual(parseCookie((await cookieMap(context)).pc_consent)?.choices, { essential: true, analytics: true, marketing: false });
});

h.test('keyboard only: Accept all inside the preferences dialog', async ({ page }) => {
  await page.goto(URL_());
  await waitReady(page);
  await tabUntil(page, layerBtn('customize'), 'Customize');
  await page.keyboard.press('Enter');
  await waitBanner(page, 'prefs', 'shown');
  await tabUntil(page, prefsBtn('accept-all'), 'Accept all in the dialog');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.__gated?.analytics === 1 && window.__gated?.marketing === 1);
  await waitBanner(page, 'prefs', 'hidden');
});

h.test('keyboard only: after a refusal, Tab reaches the re-open button; Enter opens the preferences, Escape returns focus to it', async ({ page }) => {
  await page.goto(URL_());
  await waitReady(page);
  await tabUntil(page, layerBtn('reject-all'), 'Reject all');
  await page.keyboard.press('Enter');
  await waitBanner(page, 'layer', 'hidden');
  await page.reload();
  await waitReady(page);
  await waitBanner(page, 'reopen', 'shown');
  await tabUntil(page, (f) => f.where === 'banner' && f.action === 'reopen', 'the re-open button');
  await page.keyboard.press('Enter');
  await waitBanner(page, 'prefs', 'shown');
  await page.waitForFunction(() => !!document.querySelector('#pc-host').shadowRoot.activeElement?.closest('div.prefs'));
  await page.keyboard.press('Escape');
  await waitBanner(page, 'prefs', 'hidden');
  const f = await focused(page);
  assert.equal(f.action, 'reopen', `focus back on the re-open button: ${JSON.stringify(f)}`);
});

h.test('keyboard only: withdraw — Accept all, reopen, switch analytics and marketing off, Save', async ({ page, context }) => {
  await page.goto(URL_());
  await waitReady(page);
  await tabUntil(page, layerBtn('accept-all'), 'Accept all');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => window.__gated?.marketing === 1);
  await waitBanner(page, 'reopen', 'shown');
  await tabUntil(page, (f) => f.where === 'banner' && f.action === 'reopen', 'the re-open button');
  await page.keyboard.press('Enter');
  await waitBanner(page, 'prefs', 'shown');
  for (const cat of ['analytics', 'marketing']) {
    await tabUntil(page, prefsSwitch(cat), `the ${cat} switch`);
    await page.keyboard.press('Space');
  }
  await tabUntil(page, prefsBtn('save'), 'Save');
  await page.keyboard.press('Enter');
  await waitBanner(page, 'prefs', 'hidden');
  await page.waitForFunction(() => !window.consent.accepted('analytics') && !window.consent.accepted('marketing'));
  const ev = await h.waitEvent((j) => j.action === 'withdraw');
  assert.deepEqual(ev.choices, { essential: true, analytics: false, marketing: false });
  assert.deepEqual(parseCookie((await cookieMap(context)).pc_consent)?.choices, { essential: true, analytics: false, marketing: false });
  // Focus is not lost: it lands on the re-open control (the opener).
  assert.equal((await focused(page)).action, 'reopen');
  assert.equal((await bannerState(page)).reopen, 'shown');
});

h.test('keyboard only: the footer "Privacy choices" link (data-consent-open) opens the preferences with Enter', async ({ page }) => {
  await page.goto(URL_());
  await waitReady(page);
  await tabUntil(page, layerBtn('reject-all'), 'Reject all');
  await page.keyboard.press('Enter');
  await waitBanner(page, 'layer', 'hidden');
  await page.locator('footer [data-consent-open]').focus();
  await page.keyboard.press('Enter');
  await waitBanner(page, 'prefs', 'shown');
  await page.keyboard.press('Escape');
  await waitBanner(page, 'prefs', 'hidden');
});

h.test('no cookie wall: with the first layer open and after Reject all the page stays scrollable and clickable', async ({ page }) => {
  await page.goto(URL_());
  await waitReady(page);
  await waitBanner(page, 'layer', 'shown');
  const open = async () =>
    page.evaluate(() => {
      const cs = (el) => getComputedStyle(el);
      const link = document.querySelector('footer a[href="/privacy"]');
      const r = link.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return {
        bodyOverflow: cs(document.body).overflow,
        htmlOverflow: cs(document.documentElement).overflow,
        linkReachable: hit === link || link.contains(hit),
      };
    });
  const during = await open();
  assert.ok(!/hidden/.test(during.bodyOverflow + during.htmlOverflow), `scroll not locked: ${JSON.stringify(during)}`);
  assert.ok(during.linkReachable, 'the first layer does not cover the page content with an overlay');
  await page.locator('#pc-host section.layer [data-action=reject-all]').click();
  await waitBanner(page, 'layer', 'hidden');
  const afterReject = await open();
  assert.ok(afterReject.linkReachable && !/hidden/.test(afterReject.bodyOverflow + afterReject.htmlOverflow), JSON.stringify(afterReject));
});
