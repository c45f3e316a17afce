// Screenshots for a reviewer, and the weight of each page type.
//
// The home page, a story, a pattern page and the search page with results, at desktop
// (1280×800) and mobile (390×844) sizes, in light and dark: 16 full-page PNGs in
// artifacts/screenshots/ (gitignored; CI keeps the folder). Each is checked to be a real
// picture of the page (a PNG of the viewport's width, loaded without errors).
//
// Page weight: what a first visit downloads for each page type (HTML, CSS, JS; and for
// the search page the index files its query fetched), raw and gzip, printed as test
// diagnostics and written to artifacts/page-weight.json. Figures only, no assertion on
// them; bench/browser.sh records them in BENCHMARKS.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { DESKTOP, ensureScreenshotDir, MOBILE, pageWeight, siteAndBrowser, SYMPTOM_QUERY, watch } from './harness.mjs';

let site;
let browser;
siteAndBrowser({}, (s, b) => { site = s; browser = b; });

const PAGES = {
  home: '',
  story: 'incidents/2019-ravelin-ingress-502-on-deploy/',
  pattern: 'patterns/load-balancer-traffic-policy/',
  search: `search/?q=${encodeURIComponent(SYMPTOM_QUERY.q)}`,
};

/** Width and height of a PNG, from its IHDR chunk. */
function pngSize(file) {
  const b = readFileSync(file);
  assert.equal(b.subarray(1, 4).toString(), 'PNG', `${file} is a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

test('screenshots: home, story, pattern and search; desktop and mobile; light and dark', async (t) => {
  const dir = ensureScreenshotDir();
  for (const f of Object.keys(PAGES)) {
    for (const s of ['desktop-light', 'desktop-dark', 'mobile-light', 'mobile-dark']) rmSync(path.join(dir, `${f}-${s}.png`), { force: true });
  }
  let written = 0;
  for (const [size, viewport] of [['desktop', DESKTOP], ['mobile', MOBILE]]) {
    for (const colorScheme of ['light', 'dark']) {
      const context = await browser.newContext({
        viewport, colorScheme, deviceScaleFactor: 1, isMobile: size === 'mobile', hasTouch: size === 'mobile',
      });
      context.setDefaultTimeout(10_000);
      const page = await context.newPage();
      const w = watch(page);
      try {
        for (const [name, rel] of Object.entries(PAGES)) {
          await page.goto(site.url + rel);
          if (name === 'search') await page.locator('#bl_search-results .search-result').first().waitFor();
          const file = path.join(dir, `${name}-${size}-${colorScheme}.png`);
          await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
          const png = pngSize(file);
          assert.equal(png.width, viewport.width, `${file}: width`);
          assert.ok(png.height >= viewport.height, `${file}: height ${png.height}`);
          written += 1;
        }
        assert.deepEqual(w.problems(), []);
      } finally {
        await context.close();
      }
    }
  }
  assert.equal(written, 16);
  t.diagnostic(`16 screenshots in ${path.relative(process.cwd(), dir) || dir}`);
});

test('page weight of each page type (figures, printed)', async (t) => {
  const weights = {};
  for (const [name, rel] of Object.entries({ ...PAGES, 'symptom list': 'symptoms/', about: 'about/' })) {
    weights[name] = await pageWeight(browser, site.url + rel, {
      settle: name === 'search' ? (page) => page.locator('#bl_search-results .search-result').first().waitFor() : null,
    });
    const x = weights[name];
    assert.ok(x.html.gzip > 0 && x.css.gzip > 0 && x.js.gzip > 0, `${name}: HTML, CSS and JS were counted`);
    t.diagnostic(`${name}: HTML ${x.html.gzip} B, CSS ${x.css.gzip} B, JS ${x.js.gzip} B, total ${x.total.gzip} B gzip`
      + `${x.data.files ? ` (+ search index ${x.data.gzip} B in ${x.data.files} files)` : ''}`);
  }
  assert.ok(weights.search.data.files > 0, 'the search page fetched index files');
  assert.ok(weights.search.js.files > weights.home.js.files, 'the search engine loads only when searching');
  writeFileSync(path.join(path.dirname(ensureScreenshotDir()), 'page-weight.json'), `${JSON.stringify(weights, null, 2)}\n`);
});
