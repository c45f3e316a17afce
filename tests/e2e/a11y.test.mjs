// Accessibility of every page type, in headless Chromium:
// - axe-core (npm) finds no serious or critical violation, in light and in dark mode;
// - the failure chain is an ordered list whose items a screen reader reads in order
//   (trigger, each contributing failure, impact, resolutions);
// - keyboard focus is visible: a focused link has an outline that contrasts with the page;
// - search results are announced: a live region, present before the results, says how
//   many stories match once they arrive.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { contrast, siteAndBrowser, SYMPTOM_QUERY, typeSlowly, watch } from './harness.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// Paginated (5 stories a page), so list pages have a page 2.
let site;
let browser;
siteAndBrowser({ siteYaml: 'paginate_by: 5' }, (s, b) => { site = s; browser = b; });

/** One page of each type; `status` is the HTTP status the page answers with. */
const PAGE_TYPES = [
  { kind: 'home', rel: '' },
  { kind: 'home, page 2', rel: 'page/2/' },
  { kind: 'story', rel: 'incidents/2019-ravelin-ingress-502-on-deploy/' },
  { kind: 'pattern', rel: 'patterns/monitoring-blind-spot/' },
  { kind: 'pattern list', rel: 'patterns/' },
  { kind: 'symptom', rel: 'symptoms/5xx-errors/' },
  { kind: 'symptom list', rel: 'symptoms/' },
  { kind: 'component', rel: 'components/kubelet/' },
  { kind: 'organization list', rel: 'organizations/' },
  { kind: 'year', rel: 'years/2019/' },
  { kind: 'search with results', rel: `search/?q=${encodeURIComponent(SYMPTOM_QUERY.q)}`, results: true },
  { kind: 'search, empty', rel: 'search/' },
  { kind: 'about', rel: 'about/' },
  { kind: 'contributing', rel: 'contributing/' },
  { kind: '404', rel: 'no/such/page/', status: 404 },
];

async function axe(page) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  return page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] })
    .then((r) => r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${n.failureSummary.split('\n').slice(1, 2).join('')}`),
    }))));
}

for (const colorScheme of ['light', 'dark']) {
  test(`axe-core: no serious or critical violation on any page type (${colorScheme})`, async (t) => {
    const context = await browser.newContext({ colorScheme });
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    const w = watch(page);
    try {
      const found = [];
      for (const { kind, rel, status = 200, results } of PAGE_TYPES) {
        w.reset();
        if (status === 404) w.allow(site.url + rel);
        const response = await page.goto(site.url + rel);
        assert.equal(response.status(), status, `${kind}: ${rel}`);
        if (results) await page.locator('#bl_search-results .search-result').first().waitFor();
        const violations = await axe(page);
        const minor = violations.filter((v) => !['serious', 'critical'].includes(v.impact));
        if (minor.length) t.diagnostic(`${kind}: ${minor.map((v) => `${v.impact} ${v.id}`).join(', ')}`);
        for (const v of violations.filter((x) => ['serious', 'critical'].includes(x.impact))) {
          found.push(`${kind} (${rel}): ${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`);
        }
        found.push(...w.problems());
      }
      assert.deepEqual(found, []);
    } finally {
      await context.close();
    }
  });
}

test('the failure chain is an ordered list a screen reader follows step by step', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${site.url}incidents/2019-ravelin-ingress-502-on-deploy/`);
    const data = await (await context.request.get(`${site.url}incidents.json`)).json();
    const story = data.incidents.find((i) => i.id === '2019-ravelin-ingress-502-on-deploy');
    const chain = page.locator('section.chain-section ol.chain');
    assert.equal(await chain.count(), 1, 'one <ol class="chain">');
    assert.equal(await chain.evaluate((ol) => ol.tagName), 'OL');
    const steps = await chain.evaluate((ol) => [...ol.children].map((li) => li.tagName));
    const expected = 1 + story.contributing_failures.length + 1 + (story.resolutions.length ? 1 : 0);
    assert.deepEqual(steps, Array(expected).fill('LI'), 'every step is a list item of the chain');

    // What the accessibility tree exposes: a list, its items in story order.
    const tree = await chain.ariaSnapshot();
    const items = tree.split('\n').filter((l) => /^ {2}- listitem/.test(l)).map((l) => l.trim());
    assert.equal(items.length, expected, tree);
    assert.match(tree, /^- list/);
    const order = ['Trigger', ...story.contributing_failures.map((_, i) => `Contributing failure ${i + 1}`), 'Impact'];
    let from = 0;
    for (const label of order) {
      const at = tree.indexOf(label, from);
      assert.ok(at >= from, `\`${label}\` comes after the steps before it in:\n${tree}`);
      from = at;
    }
    // Each contributing failure says which pattern it is, as a link.
    for (const f of story.contributing_failures) {
      assert.equal(await chain.locator(`li a.chip-pattern[href$="/patterns/${f.pattern}/"]`).count() >= 1, true, f.pattern);
    }
    // The decorative step markers are hidden from the tree.
    assert.equal(await chain.locator('.chain-marker:not([aria-hidden="true"])').count(), 0);
  } finally {
    await context.close();
  }
});

test('keyboard focus is visible on links and the search box', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${site.url}incidents/2019-ravelin-ingress-502-on-deploy/`);
    const focused = () => page.evaluate(() => {
      const e = document.activeElement;
      const s = getComputedStyle(e);
      const r = e.getBoundingClientRect();
      let bg = 'rgb(255, 255, 255)';
      for (let p = e.parentElement; p; p = p.parentElement) {
        const c = getComputedStyle(p).backgroundColor;
        if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { bg = c; break; }
      }
      return {
        tag: e.tagName, text: (e.textContent || e.getAttribute('placeholder') || '').trim().slice(0, 40),
        visible: e.matches(':focus-visible'), style: s.outlineStyle, width: parseFloat(s.outlineWidth),
        color: s.outlineColor, bg, onScreen: r.bottom > 0 && r.top < innerHeight && r.width > 0,
      };
    });
    const seen = [];
    for (let i = 0; i < 8; i += 1) {
      await page.keyboard.press('Tab');
      const f = await focused();
      seen.push(f);
      assert.ok(f.visible, `${f.tag} “${f.text}” matches :focus-visible`);
      assert.notEqual(f.style, 'none', `${f.tag} “${f.text}” has an outline`);
      assert.ok(f.width >= 2, `${f.tag} “${f.text}” outline is ${f.width}px`);
      assert.ok(contrast(f.color, f.bg) >= 3, `${f.tag} “${f.text}” outline ${f.color} on ${f.bg}`);
      assert.ok(f.onScreen, `${f.tag} “${f.text}” is on screen when focused`);
    }
    assert.equal(seen[0].text, 'Skip to content', 'the first Tab reaches the skip link');
    assert.ok(seen.some((f) => f.tag === 'INPUT'), 'Tab reaches the search box');
    assert.ok(seen.filter((f) => f.tag === 'A').length >= 3);
  } finally {
    await context.close();
  }
});

test('search results are announced by a live region', async () => {
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  try {
    for (const [rel, box, live] of [
      ['search/', '#bl_search-q', '#bl_search-status'],
      ['about/', '#bl_site-search-q', '#bl_site-search-status'],
    ]) {
      await page.goto(site.url + rel);
      const region = page.locator(live);
      // In the page before any result, so assistive technology is already listening.
      assert.equal(await region.getAttribute('aria-live'), 'polite');
      assert.equal(await region.getAttribute('role'), 'status');
      assert.equal((await region.textContent()).trim(), '');
      await page.locator(box).focus();
      await typeSlowly(page, SYMPTOM_QUERY.q);
      await page.locator(live, { hasText: /\d+ (story matches|stories match)/ }).waitFor();
    }
  } finally {
    await context.close();
  }
});
