// Renders a benchmark HTML report in headless Chromium (playwright-core) and checks what a reader
// sees: the summary first, axis values on every chart, nothing fetched, no console error. Saves a
// full-page screenshot.
//   node render_report.mjs REPORT.html SCREENSHOT.png
// Env: CHROMIUM (default /usr/bin/chromium), PLAYWRIGHT_FROM (a package.json whose node_modules
// holds playwright-core; default tests/interop's).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(
  process.env.PLAYWRIGHT_FROM || path.join(here, '..', 'interop', 'package.json'));
const { chromium } = require('playwright-core');

const [report, screenshot] = process.argv.slice(2);
assert.ok(report && screenshot, 'usage: node render_report.mjs REPORT.html SCREENSHOT.png');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
assert.ok(fs.existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}`);

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ifmesh-report-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
    '--disable-component-update', '--disable-sync'],
  env: { ...process.env, HOME: userDataDir },
  viewport: { width: 1240, height: 900 },
});
const problems = [];
try {
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // The report is self-contained: any request beyond the file itself is refused and a failure.
  const reportUrl = pathToFileURL(path.resolve(report)).href;
  await page.route('**/*', (route) => {
    if (route.request().url() === reportUrl) return route.continue();
    problems.push(`request: ${route.request().url()}`);
    return route.abort();
  });
  await page.goto(reportUrl, { waitUntil: 'load' });

  const seen = await page.evaluate(() => {
    const headings = [...document.querySelectorAll('h2')].map((h) => h.textContent);
    const summaryRows = [...document.querySelectorAll('table.summary tr')].slice(1);
    const results = summaryRows.map((tr) => tr.lastElementChild.textContent);
    const charts = [...document.querySelectorAll('svg')].map((svg) => ({
      title: svg.getAttribute('aria-label'),
      texts: [...svg.querySelectorAll('text')].map((t) => t.textContent),
      width: svg.getBoundingClientRect().width,
    }));
    const figures = charts.map((c) => c.title);
    return { headings, results, charts, figures, text: document.body.innerText };
  });
  assert.equal(seen.headings[0], 'Summary', `the report opens with the summary: ${seen.headings}`);
  assert.ok(seen.results.length > 0, 'the summary lists targets');
  for (const r of seen.results) assert.ok(r === 'pass' || r === 'fail', `result in words: ${r}`);
  for (const key of ['date', 'command', 'commit', 'CPU', 'cores', 'kernel'])
    assert.match(seen.text, new RegExp(`^${key}\\b`, 'm'), `the run table names its ${key}`);
  assert.ok(seen.charts.length > 0, 'the report has charts');
  for (const c of seen.charts) {
    assert.ok(c.width > 100, `${c.title} is drawn`);
    const numbers = c.texts.filter((t) => /^-?[\d.,]+%?$/.test(t));
    assert.ok(numbers.length >= 4, `${c.title} has axis values: ${c.texts.join(' | ')}`);
    assert.ok(c.texts.some((t) => /\((?:[^)]*)(?:µs|ms|s|MiB|%|round trips\/s)/.test(t) ||
      /round trips\/s/.test(t)), `${c.title} has axis units: ${c.texts.join(' | ')}`);
  }
  assert.equal(new Set(seen.figures).size, seen.figures.length,
    `no figure twice: ${seen.figures.join(' | ')}`);
  assert.doesNotMatch(seen.text, /normalised|\(max \d/, 'no normalised axes or clipped "max"');
  assert.doesNotMatch(seen.text, /[\u2705\u274c\ufffd]/u, 'no glyph the fonts lack');
  assert.doesNotMatch(seen.text, /\d{12,}/, 'no wrapped unsigned figure');
  await page.screenshot({ path: screenshot, fullPage: true });
} catch (e) {
  problems.push(String(e && e.stack ? e.stack : e));
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
if (problems.length) {
  console.error(`render_report: ${problems.length} problem(s):\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`render_report: ${report} rendered without errors; screenshot ${screenshot}`);
