// Walks the staff desk in headless Chromium as people do: each actor has a
// browser context of their own (their own cookies), and the steps run in
// order. Driven by systemtest/browser (Walk); it prints JSON on stdout:
//   {"ok": true} or {"ok": false, "step": n, "error": "...", "text": "<page text>"}
//
// Input (JSON in the FLOW environment variable): {"screenshots": "/dir", "steps": [
//   {"actor": "agent", "goto": "http://..."},
//   {"actor": "agent", "fill": "#username", "value": "dev.agent"},
//   {"actor": "agent", "select": "#x", "value": "voucher"},
//   {"actor": "agent", "click": "button[type=submit]"},
//   {"actor": "agent", "press": "#password", "key": "Enter"},
//   {"actor": "agent", "expect": "css selector", "text": "optional substring"},
//   {"actor": "agent", "expectURL": "substring of the address"},
//   {"actor": "agent", "expectTitle": "substring"}
// ]}
import { chromium } from 'playwright-core';

const input = JSON.parse(process.env.FLOW);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const pages = {};
async function pageOf(actor) {
  if (!pages[actor]) {
    // A phone-sized window: the desk must read on a phone.
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: input.locale || 'en-GB' });
    pages[actor] = await ctx.newPage();
    pages[actor].on('console', (m) => { if (m.type() === 'error') process.stderr.write(`[${actor} console] ${m.text()} (${m.location().url})\n`); });
  }
  return pages[actor];
}

const timeout = 20000;
let result = { ok: true };
let i = 0;
try {
  for (; i < input.steps.length; i++) {
    const s = input.steps[i];
    const page = await pageOf(s.actor);
    if (s.goto) await page.goto(s.goto, { waitUntil: 'domcontentloaded' });
    else if (s.fill) await page.locator(s.fill).first().fill(s.value, { timeout });
    else if (s.select) await page.locator(s.select).first().selectOption(s.value, { timeout });
    else if (s.click) {
      await Promise.all([
        page.waitForLoadState('domcontentloaded'),
        page.locator(s.click).first().click({ timeout }),
      ]);
    } else if (s.press) await page.locator(s.press).first().press(s.key, { timeout });
    else if (s.expect) {
      const loc = s.text ? page.locator(s.expect, { hasText: s.text }) : page.locator(s.expect);
      await loc.first().waitFor({ state: 'attached', timeout });
    } else if (s.expectURL) {
      await page.waitForURL((u) => u.toString().includes(s.expectURL), { timeout });
    }
  }
} catch (e) {
  const s = input.steps[i] || {};
  const page = pages[s.actor];
  let text = '';
  if (page) {
    text = `at ${page.url()}\n` + await page.evaluate(() => document.body ? document.body.innerText : '').catch(() => '');
    if (input.screenshots) await page.screenshot({ path: `${input.screenshots}/step-${i}.png`, fullPage: true }).catch(() => {});
  }
  result = { ok: false, step: i, error: String(e.message || e).split('\n')[0], text: text.slice(0, 4000) };
}
await browser.close();
process.stdout.write(JSON.stringify(result));
