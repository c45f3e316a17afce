// What a reader does on the site, in headless Chromium, against this repository's own
// content built with the debug binary and served on 127.0.0.1:
// - following a story to its failure pattern, to another story with that pattern, and back;
// - searching by symptom from any page (`/`, then typing): live results, snippets with the
//   match highlighted, a facet filter and its count, the query in the URL, reload and back;
// - a typo that search corrects, and says so;
// - a phone-sized viewport (390×844): no horizontal scroll, navigation and search usable;
// - dark mode: body text and links readable against their background (WCAG AA, 4.5:1).
// Every test also fails on any console error, page error or failed request.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { contrast, MOBILE, siteAndBrowser, SYMPTOM_QUERY, TYPO_QUERY, typeSlowly, watch } from './harness.mjs';

// static/search.js shows results ten at a time (`PAGE_SIZE`), with a "Show more" button.
const PAGE_SIZE = 10;

let site;
let browser;
siteAndBrowser({}, (s, b) => { site = s; browser = b; });

/** A new page in a new context, watched for errors. */
async function open(options = {}) {
  const context = await browser.newContext(options);
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const w = watch(page);
  return { context, page, w };
}

/** Ids of the stories a list of links points to, in order. */
async function storyIds(locator) {
  const hrefs = await locator.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  return hrefs.map((h) => h.match(/\/incidents\/([^/]+)\//)?.[1]).filter(Boolean);
}

test('home → a story → its pattern → another story with that pattern → back', async () => {
  const { context, page, w } = await open();
  const story = '2019-ravelin-ingress-502-on-deploy';
  const pattern = 'load-balancer-traffic-policy';
  const other = '2019-devops-hof-lb-node-drain';
  try {
    await page.goto(site.url);
    const homeTitle = await page.title();
    await page.locator(`.incident-list .card-title a[href$="/incidents/${story}/"]`).click();
    await page.waitForURL(`**/incidents/${story}/`);
    const storyTitle = await page.locator('h1').textContent();
    assert.match(storyTitle, /502/);

    // The pattern, as a step of the failure chain.
    await page.locator(`.chain .chip-pattern[data-slug="${pattern}"]`).first().click();
    await page.waitForURL(`**/patterns/${pattern}/`);
    const patternTitle = await page.locator('h1').textContent();
    const listed = await storyIds(page.locator('.pattern-incidents .card-title a'));
    assert.ok(listed.includes(story) && listed.includes(other),
      `the pattern page lists both stories: ${listed.join(', ')}`);

    await page.locator(`.pattern-incidents .card-title a[href$="/incidents/${other}/"]`).click();
    await page.waitForURL(`**/incidents/${other}/`);
    assert.ok(await page.locator(`.chain .chip-pattern[data-slug="${pattern}"]`).count() > 0,
      'the other story has the pattern in its chain');

    await page.goBack();
    await page.waitForURL(`**/patterns/${pattern}/`);
    assert.equal(await page.locator('h1').textContent(), patternTitle);
    await page.goBack();
    await page.waitForURL(`**/incidents/${story}/`);
    assert.equal(await page.locator('h1').textContent(), storyTitle);
    await page.goBack();
    assert.equal(new URL(page.url()).pathname, new URL(site.url).pathname);
    assert.equal(await page.title(), homeTitle);
    assert.deepEqual(w.problems(), []);
  } finally {
    await context.close();
  }
});

test('search by symptom: `/`, live results, highlights, a facet, the URL, reload and back', async () => {
  const { context, page, w } = await open();
  const { q, expect } = SYMPTOM_QUERY;
  try {
    // Any page: a story that is not the answer.
    await page.goto(`${site.url}incidents/2019-moonlight-pods-on-one-node/`);
    const input = page.locator('#bl_site-search-q');
    const status = page.locator('#bl_site-search-status');
    assert.equal(await status.textContent(), '');
    await page.locator('h1').click(); // focus on the page, not in a field
    await page.keyboard.press('/');
    assert.ok(await input.evaluate((el) => el === document.activeElement), '`/` focuses the search box');
    await typeSlowly(page, q);

    // Live results under the box, without pressing Enter.
    const options = page.locator('#bl_site-search-listbox [role=option]:not(.search-option-all)');
    await options.first().waitFor();
    assert.equal(await input.getAttribute('aria-expanded'), 'true');
    const live = await storyIds(options);
    assert.ok(live.slice(0, 3).includes(expect), `\`${q}\`: ${expect} in the top 3 of ${live.join(', ')}`);
    assert.ok(await page.locator('#bl_site-search-listbox mark').count() > 0, 'the panel highlights the match');
    // Announced: the live region says how many stories match.
    assert.match(await status.textContent(), /\d+ (story matches|stories match)/);

    // Enter: the search page, with the query in the URL.
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/search\/\?q=/);
    assert.equal(new URL(page.url()).searchParams.get('q'), q);
    const results = page.locator('#bl_search-results .search-result');
    await results.first().waitFor();
    const ids = await storyIds(page.locator('#bl_search-results .card-title a'));
    assert.ok(ids.slice(0, 3).includes(expect), `search page: ${expect} in the top 3 of ${ids.join(', ')}`);
    const marked = await page.locator('#bl_search-results .search-snippet mark').allTextContents();
    assert.ok(marked.length > 0, 'snippets highlight the match');
    assert.ok(marked.some((m) => /502|deploy/i.test(m)), `highlighted words come from the query: ${marked.join(', ')}`);
    // The status says how many match; the page shows the first PAGE_SIZE of them.
    const total = parseInt(await page.locator('#bl_search-status').textContent(), 10);
    assert.ok(total > 0, 'the status counts the matches');
    assert.equal(await results.count(), Math.min(total, PAGE_SIZE));
    if (total > PAGE_SIZE) {
      // "Show more" appends the next page and moves focus to the first new result.
      await page.locator('#bl_search-more').click();
      await page.waitForFunction((n) => document.querySelectorAll('#bl_search-results .search-result').length === n,
        Math.min(total, 2 * PAGE_SIZE));
      assert.ok(await page.evaluate(() => document.activeElement?.closest('.search-result') != null),
        'focus moves to the first new result');
    }

    // Results as you type on the search page too: a new query, no Enter.
    await page.keyboard.press('/');
    await page.keyboard.press('Control+A');
    await typeSlowly(page, 'pods OOMKilled');
    await page.waitForURL((u) => u.searchParams.get('q') === 'pods OOMKilled');
    await page.waitForFunction(() => [...document.querySelectorAll('#bl_search-results .card-title a')].slice(0, 3)
      .some((a) => a.getAttribute('href').includes('2018-nu-nl-elastalert-node-oom')));
    await page.keyboard.press('/');
    await page.keyboard.press('Control+A');
    await typeSlowly(page, q);
    await page.waitForURL((u) => u.searchParams.get('q') === q);
    await page.waitForFunction(([n, shown]) => document.querySelectorAll('#bl_search-results .search-result').length === shown
      && document.querySelector('#bl_search-status').textContent.startsWith(`${n} `), [total, Math.min(total, PAGE_SIZE)]);

    // A facet narrows the list; its count is the number of results after the click.
    // The first facet value that keeps some results but not all.
    const counts = await page.locator('#bl_search-facets .facet-count').allTextContents();
    const at = counts.map((c) => parseInt(c, 10)).findIndex((c) => c > 0 && c < total);
    assert.ok(at >= 0, `some facet value narrows the ${total} results: ${counts.join(', ')}`);
    const facet = page.locator('#bl_search-facets .facet-value').nth(at);
    const facetName = await facet.locator('input').getAttribute('name');
    const facetValue = await facet.locator('input').getAttribute('value');
    const count = parseInt(await facet.locator('.facet-count').textContent(), 10);
    assert.ok(count > 0 && count < total, `facet ${facetName}=${facetValue} narrows ${total} to ${count}`);
    await facet.locator('input').check();
    await page.waitForURL((u) => u.searchParams.get(facetName) === facetValue);
    await page.waitForFunction((n) => document.querySelector('#bl_search-status').textContent.startsWith(`${n} `), count);
    assert.equal(await results.count(), Math.min(count, PAGE_SIZE));
    const filtered = await storyIds(page.locator('#bl_search-results .card-title a'));

    // Reload restores the query, the filter and the results.
    await page.reload();
    await page.waitForFunction((n) => document.querySelectorAll('#bl_search-results .search-result').length === n,
      Math.min(count, PAGE_SIZE));
    assert.equal(await page.locator('#bl_search-q').inputValue(), q);
    assert.ok(await page.locator(`#bl_search-facets input[name="${facetName}"][value="${facetValue}"]`).isChecked());
    assert.deepEqual(await storyIds(page.locator('#bl_search-results .card-title a')), filtered);

    // Back: the search before the filter.
    await page.goBack();
    await page.waitForURL((u) => u.searchParams.get('q') === q && !u.searchParams.has(facetName));
    await page.waitForFunction((n) => document.querySelectorAll('#bl_search-results .search-result').length === n,
      Math.min(total, PAGE_SIZE));
    assert.equal(await page.locator('#bl_search-q').inputValue(), q);
    assert.equal(await page.locator(`#bl_search-facets input[name="${facetName}"][value="${facetValue}"]`).isChecked(), false);
    assert.deepEqual(w.problems(), []);
  } finally {
    await context.close();
  }
});

test('a typo is corrected, and the page says so', async () => {
  const { context, page, w } = await open();
  const { q, expect, corrected } = TYPO_QUERY;
  try {
    // The header box.
    await page.goto(site.url);
    await page.keyboard.press('/');
    await typeSlowly(page, q);
    // Typing shows results for each prefix; the last one is the corrected word.
    const message = page.locator('#bl_site-search-panel .search-panel-message', { hasText: `Showing results for “${corrected}”` });
    await message.waitFor();
    const live = await storyIds(page.locator('#bl_site-search-listbox [role=option]'));
    assert.ok(live.slice(0, 3).includes(expect), `${expect} in the top 3 of ${live.join(', ')}`);

    // The search page.
    await page.goto(`${site.url}search/?q=${encodeURIComponent(q)}`);
    const notice = page.locator('#bl_search-notice');
    await notice.waitFor();
    assert.match(await notice.textContent(), new RegExp(`Showing results for ${corrected}\\. No story contains ${q}`));
    const ids = await storyIds(page.locator('#bl_search-results .card-title a'));
    assert.ok(ids.slice(0, 3).includes(expect), `${expect} in the top 3 of ${ids.join(', ')}`);
    assert.deepEqual(w.problems(), []);
  } finally {
    await context.close();
  }
});

/** One page of each type on this site. */
function pageTypes() {
  return {
    home: '',
    story: 'incidents/2019-ravelin-ingress-502-on-deploy/',
    pattern: 'patterns/load-balancer-traffic-policy/',
    patterns: 'patterns/',
    symptom: 'symptoms/5xx-errors/',
    symptoms: 'symptoms/',
    search: `search/?q=${encodeURIComponent(SYMPTOM_QUERY.q)}`,
    about: 'about/',
  };
}

test('mobile 390×844: no horizontal scroll; navigation and search work', async () => {
  const { context, page, w } = await open({ viewport: MOBILE, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  try {
    for (const [kind, rel] of Object.entries(pageTypes())) {
      const response = await page.goto(site.url + rel);
      assert.equal(response.status(), 200, `${kind}: ${rel}`);
      if (kind === 'search') await page.locator('#bl_search-results .search-result').first().waitFor();
      const { scroll, client } = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
      }));
      assert.ok(scroll <= client, `${kind} (${rel}) scrolls sideways: ${scroll} > ${client}`);
    }

    // Navigation: every link of the main nav is on screen and big enough to tap; one works.
    await page.goto(site.url);
    const nav = page.locator('.site-nav a');
    assert.ok(await nav.count() >= 3);
    for (const link of await nav.all()) {
      const box = await link.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= MOBILE.width, `nav link on screen: ${await link.textContent()}`);
      assert.ok(box.height >= 24, `nav link tall enough to tap: ${box.height}px`);
    }
    const patterns = page.locator('.site-nav a', { hasText: /pattern/i }).first();
    await patterns.tap();
    await page.waitForURL('**/patterns/');

    // Search: tap the box, type, see results inside the screen, open one.
    const input = page.locator('#bl_site-search-q');
    await input.tap();
    await typeSlowly(page, SYMPTOM_QUERY.q);
    const first = page.locator('#bl_site-search-listbox [role=option]').first();
    await first.waitFor();
    const panel = await page.locator('#bl_site-search-panel').boundingBox();
    assert.ok(panel.x >= 0 && panel.x + panel.width <= MOBILE.width, `results panel fits the screen: ${JSON.stringify(panel)}`);
    const href = await first.getAttribute('href');
    await first.tap();
    await page.waitForURL(`**${href}`);
    assert.deepEqual(w.problems(), []);
  } finally {
    await context.close();
  }
});

test('dark mode: the theme turns dark and text and links keep AA contrast', async () => {
  const { context, page, w } = await open({ colorScheme: 'dark' });
  try {
    for (const [kind, rel] of Object.entries(pageTypes())) {
      await page.goto(site.url + rel);
      if (kind === 'search') await page.locator('#bl_search-results .search-result').first().waitFor();
      // Each visible text and link colour against the first opaque background behind it.
      const pairs = await page.evaluate(() => {
        const bgOf = (el) => {
          for (let e = el; e; e = e.parentElement) {
            const bg = getComputedStyle(e).backgroundColor;
            const alpha = bg.match(/[\d.]+/g)?.[3];
            if (bg !== 'transparent' && (alpha === undefined || Number(alpha) === 1)) return bg;
          }
          return getComputedStyle(document.documentElement).backgroundColor;
        };
        const picked = [document.body, ...document.querySelectorAll('main p, main li, main a, .site-nav a, .site-footer a')]
          .filter((e) => e.getClientRects().length && e.textContent.trim() && !e.closest('.visually-hidden'));
        return picked.map((e) => ({
          what: `${e.tagName.toLowerCase()}.${e.className || ''} “${e.textContent.trim().slice(0, 30)}”`,
          fg: getComputedStyle(e).color, bg: bgOf(e),
        }));
      });
      const body = pairs[0];
      const [r, g, b] = body.bg.match(/\d+/g).map(Number);
      assert.ok(r + g + b < 3 * 60, `${kind}: the background is dark (${body.bg})`);
      for (const p of pairs) {
        const ratio = contrast(p.fg, p.bg);
        assert.ok(ratio >= 4.5, `${kind}: ${p.what} ${p.fg} on ${p.bg} has contrast ${ratio.toFixed(2)} < 4.5`);
      }
    }
    assert.deepEqual(w.problems(), []);
  } finally {
    await context.close();
  }
});
