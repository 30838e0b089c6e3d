// Opens pages of the Temporal Web UI in headless Chromium and reports, as
// JSON on stdout, which of the expected texts each page shows. Driven by
// systemtest/ui_test.go; the Go test decides what passes.
//
// Input (JSON in the CHECKS environment variable):
//   {"pages": [{"name": "...", "url": "...", "expect": ["text", ...], "click": ["text", ...]}],
//    "screenshots": "/dir"}
// An expected text "js:<expression>" is found when the JavaScript expression,
// evaluated in the page, is true: that charts were drawn with their data, say.
import { chromium } from 'playwright-core';

// pageText is what a person reads on the page: every frame (the UI renders
// markdown summaries in sandboxed frames), and textContent, which reaches the
// SVG of the event timeline too.
async function pageText(page) {
  // Frames are read in parallel, each bounded: a page can hold many frames,
  // and one being replaced can leave its read pending.
  const reads = page.frames().map((frame) => {
    const read = frame.evaluate(() => document.body ? document.body.innerText + '\n' + document.body.textContent : '')
      .catch(() => ''); // a frame that navigated away meanwhile has nothing to read
    const timeout = new Promise((resolve) => setTimeout(() => resolve(''), 2000));
    return Promise.race([read, timeout]);
  });
  return (await Promise.all(reads)).join('\n');
}

// shows looks for the text in every frame with Playwright's locators, which
// reach the SVG of the event timeline and do not read a whole large page.
async function shows(page, text) {
  for (const frame of page.frames()) {
    try {
      if (await frame.getByText(text, { exact: false }).count() > 0) return true;
    } catch (e) {
      // a frame that navigated away meanwhile shows nothing
    }
  }
  return false;
}

// holds evaluates an expression in the page; one that throws is not true (yet).
async function holds(page, expression) {
  try {
    return Boolean(await page.evaluate(expression));
  } catch (e) {
    return false;
  }
}

const input = JSON.parse(process.env.CHECKS);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const results = [];
try {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1400 } });
  for (const check of input.pages) {
    const found = {};
    await page.goto(check.url, { waitUntil: 'domcontentloaded' });
    const deadline = Date.now() + (check.timeoutMs || 60000);
    for (const text of check.click || []) {
      try {
        await page.getByText(text, { exact: false }).first().click({ timeout: 10000 });
      } catch (e) {
        found[`click:${text}`] = false;
      }
    }
    for (const text of check.expect) {
      found[text] = false;
      for (;;) { // at least once, even when an earlier text used up the time
        if (text.startsWith('js:') ? await holds(page, text.slice(3)) : await shows(page, text)) {
          found[text] = true;
          break;
        }
        if (Date.now() >= deadline) break;
        await page.waitForTimeout(250);
      }
    }
    if (input.screenshots) {
      await page.screenshot({ path: `${input.screenshots}/${check.name}.png`, fullPage: true });
    }
    results.push({ name: check.name, found, text: await page.evaluate(() => document.body.innerText) });
  }
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(results));
