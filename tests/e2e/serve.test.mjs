// `blameless serve` in headless Chromium: the real server (`serve --port 0`, 127.0.0.1)
// on a copy of this repository's content, edited on disk while pages are open:
// - the search page asks `/api/search` and shows exactly what the static engine shows
//   on a built copy of the same content (results, snippets, counts, facets, notices,
//   Show more); with the API unreachable it falls back to the static index; an error
//   the API answers is shown as text;
// - an edited story reloads by itself with its new title, at the same scroll position;
// - a change to another page does not reload this one (live.js filters by URL);
// - a broken story puts the diagnostics overlay on the page, escaped (a payload in the
//   diagnostic creates no element and opens no dialog), dismissable with Escape and free
//   of serious axe violations; fixing the file clears it.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { binary, launch, REPO, servedSite, SYMPTOM_QUERY, TYPO_QUERY, typeSlowly, watch } from './harness.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** How long the server may take to rebuild and the page to reload (debug binary). */
const DEADLINE_MS = 20_000;

// A story and another one whose edit does not change the first's page (checked below).
const STORY = '2019-ravelin-ingress-502-on-deploy';
const OTHER = '2023-datadog-systemd-update-deletes-cilium-routes';
const storyFile = (id) => `content/incidents/${id}.md`;

let live; // { url, root, log(), stop() }
let built; // the same content built and served statically
let browser;

/** Polls `check` (truthy = done) until `ms` pass; fails with `what` and the last value. */
async function until(what, check, ms = DEADLINE_MS) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e; // a page in the middle of its reload
    }
    if (Date.now() > end) assert.fail(`timed out after ${ms} ms waiting for ${what} (last: ${last})`);
    await new Promise((ok) => setTimeout(ok, 50));
  }
}

/**
 * `blameless serve --port 0` on a copy of the repository's content, changed first by
 * `prepare(root)` if given; waits for the search API unless `ready` is false.
 */
async function startServe({ prepare = null, ready = true } = {}) {
  const tmp = mkdtempSync(path.join(tmpdir(), 'blameless-serve-e2e-'));
  const root = path.join(tmp, 'site');
  mkdirSync(root);
  cpSync(path.join(REPO, 'content'), path.join(root, 'content'), { recursive: true });
  cpSync(path.join(REPO, 'site.yaml'), path.join(root, 'site.yaml'));
  prepare?.(root);
  const proc = spawn(binary(), ['--root', root, 'serve', '--port', '0', '--bind', '127.0.0.1'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((ok) => proc.on('exit', ok));
  const stop = async () => {
    proc.kill('SIGTERM');
    await exited;
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const url = await until('the server to say where it serves', () => log.match(/serving (http:\/\/127\.0\.0\.1:\d+\/)/)?.[1]);
    // The search index is built after the pages, on its own thread.
    if (ready) await until('the search API', async () => (await fetch(`${url}api/search?q=pod`)).status === 200);
    return { url, root, log: () => log, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

before(async () => {
  live = await startServe();
  built = await servedSite();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await built?.close();
  await live?.stop();
});

/** Replaces `from` (a regex or a string) in a file of the served copy; returns the old text. */
function edit(rel, from, to, root = live.root) {
  const file = path.join(root, rel);
  const text = readFileSync(file, 'utf8');
  const next = text.replace(from, to);
  assert.notEqual(next, text, `${rel}: nothing to replace`);
  writeFileSync(file, next);
  return () => writeFileSync(file, text);
}

/** A page on the live server, its main-frame navigations counted. */
async function open(viewport = { width: 1280, height: 600 }) {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const w = watch(page);
  const nav = { count: 0 };
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) nav.count += 1; });
  return { context, page, w, nav };
}

const h1 = (page) => page.locator('h1').first().textContent();

/** Served HTML of `rel` without what serve adds (the live script's generation changes). */
async function served(rel) {
  const html = await (await fetch(live.url + rel)).text();
  return html.replace(/live\.js\?g=\d+/, 'live.js');
}

// ---------------------------------------------------------------- search served live

/** What the search page shows once it has answered: every region a reader sees. */
async function searchView(page, url) {
  await page.goto(url);
  await page.locator('#bl_search-status').filter({ hasText: /match|Cannot search/ }).waitFor();
  return page.evaluate(() => {
    const html = (sel) => document.querySelector(sel)?.innerHTML ?? null;
    const shown = (sel) => !document.querySelector(sel)?.hidden;
    return {
      status: document.querySelector('#bl_search-status').textContent,
      notice: shown('#bl_search-notice') ? html('#bl_search-notice') : '',
      ids: [...document.querySelectorAll('#bl_search-results .card-title a')]
        .map((a) => a.getAttribute('href').match(/incidents\/([^/]+)\//)?.[1]),
      results: html('#bl_search-results'),
      facets: shown('#bl_search-filters') ? html('#bl_search-facets') : '',
      more: shown('.search-more-wrap') ? document.querySelector('#bl_search-more').textContent : '',
      active: html('.search-active'),
    };
  });
}

const SEARCHES = [
  `q=${encodeURIComponent(SYMPTOM_QUERY.q)}`,
  `q=${encodeURIComponent(TYPO_QUERY.q)}`, // corrected: the notice
  'q=oom',
  'q=pods', // more than one page of results: Show more
  'q=dns+pattern%3Adns-ndots-amplification', // a filter in the query
  'q=pods&year=2019&platform=aws', // facet filters from the URL
  'q=zebrafishxyzzy', // nothing
  `q=${'word+'.repeat(20)}`, // too many words: the query's error
];

test('the search page served live asks /api/search and shows what the static engine shows', async () => {
  const { context, page, w } = await open(); // also fails on any console error below
  const other = await browser.newContext({ viewport: { width: 1280, height: 600 } });
  const statics = await other.newPage();
  const api = [];
  const staticIndex = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.pathname === '/api/search') api.push(u.searchParams);
    if (u.pathname.startsWith('/search/') && u.pathname !== '/search/') staticIndex.push(u.pathname);
  });
  try {
    let paged = false;
    for (const params of SEARCHES) {
      api.length = 0;
      const got = await searchView(page, `${live.url}search/?${params}`);
      const want = await searchView(statics, `${built.url}search/?${params}`);
      assert.deepEqual(got, want, `search/?${params}`);
      const q = new URLSearchParams(params).get('q');
      if (got.status.startsWith('Cannot search')) {
        assert.equal(api.length, 0, 'a query the page refuses is not sent');
      } else {
        assert.ok(api.some((p) => p.get('q') === q), `no /api/search request for ${q}`);
        assert.ok(want.ids.length > 0 || /No story/.test(want.status), want.status);
      }
      if (got.more) {
        paged = true;
        await page.locator('#bl_search-more').click();
        await statics.locator('#bl_search-more').click();
        const count = (p) => p.locator('#bl_search-results .search-result').count();
        await until('the next page of results', async () => (await count(page)) > 10 && (await count(statics)) > 10);
        const ids = (p) => p.locator('#bl_search-results .card-title a').evaluateAll((as) => as.map((a) => a.href.replace(/^https?:\/\/[^/]+/, '')));
        assert.deepEqual(await ids(page), await ids(statics), `Show more: search/?${params}`);
      }
    }
    assert.ok(paged, 'one query pages with Show more');
    assert.deepEqual(staticIndex, [], 'served live, the page never loads the static index');

    // The header box of every other page asks the API too.
    api.length = 0;
    await page.goto(`${live.url}incidents/${STORY}/`);
    await statics.goto(`${built.url}incidents/${STORY}/`);
    const panel = async (p) => {
      await p.locator('.site-search input[name=q]').click();
      await typeSlowly(p, 'oom');
      await p.locator('.site-search [role=option]').first().waitFor();
      return p.locator('.site-search [role=listbox]').innerHTML();
    };
    assert.equal(await panel(page), await panel(statics), 'the header panel');
    assert.ok(api.some((p) => p.get('q') === 'oom'), 'the header box asked /api/search');
    assert.deepEqual(w.problems(), []);
  } finally {
    await context.close();
    await other.close();
  }
});

test('with /api/search unreachable the search page falls back to the static index', async () => {
  const { context, page } = await open();
  const other = await browser.newContext({ viewport: { width: 1280, height: 600 } });
  const statics = await other.newPage();
  let refused = 0;
  await page.route('**/api/search?**', (route) => { refused += 1; return route.abort(); });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error' && !/\/api\/search\?/.test(m.location().url)) errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    const params = `q=${encodeURIComponent(SYMPTOM_QUERY.q)}`;
    const got = await searchView(page, `${live.url}search/?${params}`);
    const want = await searchView(statics, `${built.url}search/?${params}`);
    assert.ok(refused > 0, 'the page tried the API first');
    assert.deepEqual(got, want);
    assert.ok(got.ids.includes(SYMPTOM_QUERY.expect), got.ids.join(', '));
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
    await other.close();
  }
});

test('an error the API answers is what the search page says', async () => {
  const { context, page } = await open();
  // A refusal only the server makes (the page checks what it can before asking).
  await page.route('**/api/search?**', (route) => route.fulfill({
    status: 400, contentType: 'application/json', body: JSON.stringify({ error: 'the index says <b>no</b>' }),
  }));
  try {
    await page.goto(`${live.url}search/?q=oom`);
    const status = page.locator('#bl_search-status');
    await status.filter({ hasText: /Cannot search/ }).waitFor();
    assert.equal(await status.textContent(), 'Cannot search for that: the index says <b>no</b>.');
    assert.equal(await page.locator('#bl_search-status b').count(), 0, 'the message is text');
    assert.equal(await page.locator('#bl_search-results .search-result').count(), 0);
  } finally {
    await context.close();
  }
});

test('the bad-query answers of /api/search are JSON errors the page would show', async () => {
  const res = await fetch(`${live.url}api/search?q=${'w%20'.repeat(20)}`);
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.match(body.error, /words/);
  const unknown = await fetch(`${live.url}api/search?q=pod&colour=red`);
  assert.equal(unknown.status, 400);
  assert.match((await unknown.json()).error, /unknown parameter `colour`/);
});

// ---------------------------------------------------------------- live reload

test('an edited story reloads by itself with its new title, at the same scroll position', async () => {
  const { context, page, w, nav } = await open();
  // Chromium restores the scroll position of a reload by itself; a page that opts out
  // (or a browser that does not) relies on live.js, which this checks.
  await page.addInitScript(() => { window.history.scrollRestoration = 'manual'; });
  let restore = null;
  try {
    await page.goto(`${live.url}incidents/${STORY}/`);
    await page.evaluate(() => window.scrollTo(0, 700));
    const y = await page.evaluate(() => window.scrollY);
    assert.ok(y > 300, `the story scrolls (scrollY ${y})`);
    const before = nav.count;
    const title = `Live edit ${process.pid}, 502s on every deploy`;
    restore = edit(storyFile(STORY), /^title: .*$/m, `title: ${title}`);
    await until('the new title on the open page', async () => (await h1(page)) === title);
    assert.ok(nav.count > before, 'the page reloaded (not patched in place)');
    await page.waitForLoadState('load');
    const after = await until('the scroll position to be restored',
      async () => { const v = await page.evaluate(() => window.scrollY); return Math.abs(v - y) <= 3 ? v : 0; }, 5_000);
    assert.ok(Math.abs(after - y) <= 3, `scrollY ${after}, was ${y}`);
    assert.deepEqual(w.problems(), []);
  } finally {
    restore?.();
    await context.close();
  }
  await until('the story to be restored', async () => !(await served(`incidents/${STORY}/`)).includes('Live edit'));
});

test('a change to another page does not reload this one', async () => {
  const { context, page, nav } = await open();
  const restores = [];
  // The stream as a second client sees it: proves the other page's event was sent.
  const events = [];
  const stream = new AbortController();
  const listening = fetch(`${live.url}__blameless/live`, { signal: stream.signal }).then(async (res) => {
    const decoder = new TextDecoder();
    for await (const chunk of res.body) events.push(decoder.decode(chunk));
  }).catch(() => {});
  try {
    await page.goto(`${live.url}incidents/${STORY}/`);
    await page.waitForLoadState('load');
    const loaded = nav.count;
    const mine = await served(`incidents/${STORY}/`);
    const title = `Another edit ${process.pid}`;
    restores.push(edit(storyFile(OTHER), /^title: .*$/m, `title: ${title}`));
    await until('the other story to be rebuilt', async () => (await served(`incidents/${OTHER}/`)).includes(title));
    assert.equal(await served(`incidents/${STORY}/`), mine, `editing ${OTHER} must leave ${STORY}'s page as it was (pick another pair)`);
    await until('the reload event naming the other page', () => events.join('').includes(`"/incidents/${OTHER}/"`));
    // Then an edit of this page: exactly one reload in all, for this one.
    const own = `Own edit ${process.pid}`;
    restores.push(edit(storyFile(STORY), /^title: .*$/m, `title: ${own}`));
    await until('this page to reload with its own edit', async () => (await h1(page)) === own);
    assert.equal(nav.count - loaded, 1, 'one reload: for this page, none for the other');
  } finally {
    stream.abort();
    await listening;
    for (const r of restores.reverse()) r();
    await context.close();
  }
  await until('both stories to be restored', async () => !(await served(`incidents/${STORY}/`)).includes('Own edit'));
});

const PAYLOAD = '<img src=x onerror=alert(1)>';
const breakStory = (root) => edit(storyFile(STORY), /^platforms: \[gcp, gke\]$/m, `platforms: [gcp, "${PAYLOAD}"]`, root);

test('a broken story shows the escaped overlay, dismissable, and fixing it clears the overlay', async () => {
  // The theme's CSP would stop an inline handler here anyway; the next test, on pages
  // without it, checks that no script runs.
  const { context, page, w } = await open();
  const payload = PAYLOAD;
  let restore = null;
  try {
    await page.goto(`${live.url}incidents/${STORY}/`);
    const title = await h1(page);
    restore = breakStory(live.root);
    const overlay = page.locator('#blameless-overlay');
    await until('the overlay on the open page', () => overlay.isVisible());
    assert.equal(await page.locator('img[src="x"], #blameless-overlay img').count(), 0, 'no element from the payload');
    const text = await overlay.textContent();
    assert.match(text, new RegExp(`${storyFile(STORY)}:\\d+:\\d+: error: unknown platform`));
    assert.ok(text.includes(payload), `the payload shown as text: ${text}`);
    assert.equal(await h1(page), title, 'the last good page stays under the overlay');
    // The terminal shows the same diagnostic.
    assert.ok(live.log().includes(`unknown platform \`${payload}\``), 'the terminal report');
    // Every page shows it.
    assert.match(await served(''), /id="blameless-overlay"/);

    // No serious or critical axe violation in the overlay.
    await page.evaluate(AXE);
    const violations = await page.evaluate(() => window.axe.run('#blameless-overlay', { resultTypes: ['violations'] })
      .then((r) => r.violations.filter((v) => ['serious', 'critical'].includes(v.impact)).map((v) => `${v.id}: ${v.help}`)));
    assert.deepEqual(violations, []);

    // It does not hold the keyboard: Tab reaches its Dismiss button and goes on to the
    // page; Escape hides it.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.className), 'blameless-overlay-close');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => !!document.activeElement?.closest('#blameless-overlay')), false);
    await page.keyboard.press('Escape');
    assert.equal(await overlay.isVisible(), false, 'Escape hides the overlay');

    restore();
    restore = null;
    // One look at a loaded document (a reload in progress shows an empty one).
    await until('the page to reload without the overlay', () => page.evaluate((t) => document.readyState === 'complete'
      && !document.getElementById('blameless-overlay') && document.querySelector('h1')?.textContent === t, title));
    assert.doesNotMatch(await served(''), /blameless-overlay"/);
    assert.deepEqual(w.problems(), []);
  } finally {
    restore?.();
    await context.close();
  }
});

test('a site broken from the start is the overlay on every page until it is fixed', async () => {
  // Before a first good build there is no page to show, so no theme CSP either: here an
  // unescaped payload would run.
  let fix = null;
  const broken = await startServe({ prepare: (root) => { fix = breakStory(root); }, ready: false });
  const context = await browser.newContext();
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  try {
    await until('the first build to fail', () => broken.log().includes('still serving the last good build'));
    const res = await page.goto(`${broken.url}incidents/${STORY}/`);
    assert.equal(res.status(), 503);
    const overlay = page.locator('#blameless-overlay');
    await overlay.waitFor();
    assert.deepEqual(dialogs, [], 'no script from the payload');
    assert.equal(await page.locator('img').count(), 0, 'no element from the payload');
    assert.ok((await overlay.textContent()).includes(PAYLOAD));
    fix();
    await until('the story once fixed', () => page.evaluate((id) => document.readyState === 'complete'
      && !document.getElementById('blameless-overlay')
      && document.querySelector(`link[rel=canonical][href$="/incidents/${id}/"]`) !== null, STORY));
  } finally {
    await context.close();
    await broken.stop();
  }
});
