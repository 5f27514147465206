// Screenshots of the demo page with the banner and with the preferences open, at desktop and
// phone sizes. Not a test: `node shots.mjs [outdir]` (default /tmp/shots). Uses the same build as
// the tests (E2E_PKG_DIR or pkg/).
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../../scripts/serve.mjs';
import { CHROMIUM, CHROMIUM_ARGS, ROOT, PKG_DIR } from './helpers.mjs';

const out = process.argv[2] || '/tmp/shots';
fs.mkdirSync(out, { recursive: true });
const srv = await startServer({
  port: 0,
  mounts: [{ prefix: '/', dir: path.join(ROOT, 'www') }, { prefix: '/pkg/', dir: PKG_DIR }],
  routes: { '/v1/events': (req, res) => { req.resume(); req.on('end', () => { res.writeHead(204); res.end(); }); } },
});
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
const sizes = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'phone', viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
];
try {
  for (const { name, ...opts } of sizes) {
    const ctx = await browser.newContext(opts);
    const page = await ctx.newPage();
    page.on('pageerror', (e) => console.error(`[${name}] pageerror:`, e.message));
    page.on('console', (m) => m.type() === 'error' && console.error(`[${name}] console:`, m.text()));
    await page.goto(srv.url + '/');
    await page.waitForFunction(() => {
      const l = document.querySelector('#pc-host')?.shadowRoot?.querySelector('section.layer');
      return l && !l.hidden;
    }, null, { timeout: 15000 });
    await page.waitForTimeout(300); // let any entry transition finish
    await page.screenshot({ path: path.join(out, `${name}-banner.png`) });
    await page.locator('#pc-host section.layer [data-action=customize]').click();
    await page.waitForFunction(() => {
      const d = document.querySelector('#pc-host').shadowRoot.querySelector('div.prefs');
      return d && !d.hidden;
    });
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(out, `${name}-preferences.png`) });
    await page.locator('#pc-host div.prefs [data-action=accept-all]').click();
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(out, `${name}-after-accept.png`), fullPage: true });
    await page.locator('#privacy-state').screenshot({ path: path.join(out, `${name}-panel.png`) });
    await page.locator('#start').screenshot({ path: path.join(out, `${name}-partner.png`) });
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.waitForTimeout(200);
    await page.screenshot({ path: path.join(out, `${name}-footer.png`) });
    await ctx.close();
    console.log(`shots: ${name} done`);
  }
} finally {
  await browser.close();
  await srv.close();
}
console.log(`shots: written to ${out}`);
