// Every page of the built site, in headless Chromium: no console error, no page error, no
// failed or 4xx/5xx request, on the site served at `/` and on one built with a `base_url`
// sub-path and served under that sub-path only (so a link that forgets the sub-path is a
// 404). Pages come from sitemap.xml and from every link the pages themselves hold; links
// to other files (feeds, data, schema, favicon) are fetched and must answer 200. On the
// sub-path site a search runs too, since its index fetches are built from the base path.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { launch, servedSite, SYMPTOM_QUERY, typeSlowly, watch } from './harness.mjs';

let browser;
const sites = [];
before(async () => { browser = await launch(); });
after(async () => {
  await browser?.close();
  for (const s of sites) await s.close();
});

/** Pages and other files of a served site, walked from its sitemap and its links. */
async function crawl(site) {
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const w = watch(page);
  const scope = site.url; // only what is under the site's base URL
  const sitemap = await (await context.request.get(`${scope}sitemap.xml`)).text();
  const queue = [...sitemap.matchAll(/<loc>([^<]+)<\/loc>/g)].map((m) => m[1]);
  assert.ok(queue.length > 50, `the sitemap lists the pages (${queue.length})`);
  assert.ok(queue.every((u) => u.startsWith(scope)), 'every sitemap URL is under the base URL');
  const seen = new Set(queue);
  // The published data no page links to (docs/data.md) is fetched too.
  const files = new Set(['incidents.json', 'incidents.ndjson', 'schema/incident.json', 'robots.txt']
    .map((f) => scope + f));
  const problems = [];
  let pages = 0;
  while (queue.length) {
    const url = queue.shift();
    w.reset();
    const response = await page.goto(url, { waitUntil: 'load' });
    pages += 1;
    if (response.status() !== 200) problems.push(`HTTP ${response.status()}: ${url}`);
    const refs = await page.evaluate(() => [
      ...[...document.querySelectorAll('a[href], link[href]')].map((e) => e.href),
      ...[...document.querySelectorAll('img[src], script[src]')].map((e) => e.src),
    ]);
    for (const ref of refs) {
      const u = new URL(ref);
      u.hash = '';
      if (u.origin !== site.origin) continue; // external sources are not the site's
      const href = u.href;
      if (!href.startsWith(scope)) { problems.push(`${url} links outside the base URL: ${href}`); continue; }
      const isPage = href.endsWith('/') || href.endsWith('.html');
      if (isPage && !u.search && !seen.has(href)) { seen.add(href); queue.push(href); }
      else if (!isPage) files.add(href);
    }
    problems.push(...w.problems());
  }
  for (const f of files) {
    const r = await context.request.get(f);
    if (r.status() !== 200) problems.push(`HTTP ${r.status()}: ${f}`);
  }
  return { context, page, w, pages, files, problems };
}

for (const [name, prefix] of [['served at /', '/'], ['served under a base_url sub-path', '/kb/']]) {
  test(`every page, link and asset of the site ${name}`, async (t) => {
    // The sub-path site is paginated (5 stories a page), so page 2 links are crawled too.
    const site = await servedSite({ prefix, siteYaml: prefix === '/' ? undefined : 'paginate_by: 5' });
    sites.push(site);
    const { context, page, w, pages, files, problems } = await crawl(site);
    try {
      t.diagnostic(`crawled ${pages} pages and ${files.size} other files under ${site.url}`);
      assert.ok(pages >= 100, `crawled ${pages} pages`);
      for (const f of ['feed.xml', 'favicon.svg']) {
        assert.ok([...files].some((x) => x.endsWith(`/${f}`)), `a page links ${f}`);
      }
      if (prefix !== '/') {
        assert.ok([...files].some((x) => x.includes('/patterns/') && x.endsWith('/feed.xml')), 'pattern feeds are linked');
        // A search under the sub-path: its index and fragments load from there.
        w.reset();
        await page.goto(site.url);
        await page.keyboard.press('/');
        await typeSlowly(page, SYMPTOM_QUERY.q);
        const first = page.locator('#bl_site-search-listbox [role=option]').first();
        await first.waitFor();
        assert.ok((await first.getAttribute('href')).startsWith('/kb/incidents/'));
        await page.goto(`${site.url}search/?q=${encodeURIComponent(SYMPTOM_QUERY.q)}`);
        await page.locator('#bl_search-results .search-result').first().waitFor();
        const links = await page.locator('#bl_search-results a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
        assert.ok(links.length && links.every((h) => h.startsWith('/kb/')), `result links under /kb/: ${links.join(' ')}`);
        problems.push(...w.problems());
        assert.ok(site.server.log.some((r) => r.path.startsWith('/kb/search/') && r.status === 200),
          'the search index was fetched under /kb/search/');
      }
      const notFound = site.server.log.filter((r) => r.status !== 200);
      assert.deepEqual(notFound, [], 'the server answered every request with 200');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
}
