// Browser figures for BENCHMARKS.md ("Browser"), in headless Chromium (playwright-core,
// /usr/bin/chromium), on a built site served by the e2e tests' static server on 127.0.0.1.
//
//   node bench/browser.mjs weight --site OUTPUT_DIR
//       page weight of each page type: HTML, CSS and JS a first visit downloads (fresh
//       context, empty cache), raw and gzip (zlib level 6), and for the search page the
//       index files its query fetched;
//   node bench/browser.mjs first-result --site OUTPUT_DIR [--runs 5]
//       time to first search result: (a) on a story page, from the input event of a query
//       typed into the header box to the first result in its panel (includes search.js's
//       100 ms debounce), cold (new context: the engine and index not loaded yet) and warm
//       (the next query on the same page); (b) the search page opened with ?q=, from
//       navigation start to the first result on the page, cold.
// Prints a Markdown table; figures only. bench/browser.sh runs both.
import { parseArgs } from 'node:util';

import { launch, pageWeight, serve } from '../tests/e2e/harness.mjs';

const { positionals, values: args } = parseArgs({
  allowPositionals: true,
  options: { site: { type: 'string' }, runs: { type: 'string', default: '5' } },
});
const mode = positionals[0];
if (!args.site || !['weight', 'first-result'].includes(mode)) {
  console.error('usage: node bench/browser.mjs weight|first-result --site DIR [--runs N]');
  process.exit(2);
}

const server = await serve('/', args.site);
const browser = await launch();
const url = server.url;
const kb = (b) => (b / 1024).toFixed(1);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

/** A story, a pattern and a symptom of the served site, from its published data. */
async function samples() {
  const data = await (await fetch(`${url}incidents.json`)).json();
  const story = data.incidents[0];
  return {
    story: `incidents/${story.id}/`, pattern: `patterns/${story.patterns[0]}/`,
    symptom: `symptoms/${story.symptoms[0]}/`,
  };
}

const QUERIES = ['502 during deploys', 'pods OOMKilled', 'nodes NotReady after upgrade',
  'dns timeouts', 'crashloopbackoff', 'certificate expired', 'etcd slow'];

try {
  const s = await samples();
  if (mode === 'weight') {
    const types = {
      home: '', story: s.story, pattern: s.pattern, 'symptom page': s.symptom, 'symptom list': 'symptoms/',
      'search (with results)': `search/?q=${encodeURIComponent(QUERIES[0])}`,
    };
    console.log('| page type | HTML gz | CSS gz | JS gz | HTML+CSS+JS gz (raw) | + search index fetched |');
    console.log('|---|---:|---:|---:|---:|---:|');
    for (const [name, rel] of Object.entries(types)) {
      const w = await pageWeight(browser, url + rel, {
        settle: rel.startsWith('search/') ? (p) => p.locator('#bl_search-results .search-result').first().waitFor() : null,
      });
      console.log(`| ${name} | ${kb(w.html.gzip)} KB | ${kb(w.css.gzip)} KB | ${kb(w.js.gzip)} KB `
        + `| **${kb(w.total.gzip)} KB** (${kb(w.total.raw)} KB) | ${w.data.files ? `${kb(w.data.gzip)} KB in ${w.data.files} files` : '–'} |`);
    }
  } else {
    const runs = Math.min(Number(args.runs), QUERIES.length - 1);
    const typed = async (page, q) => page.evaluate((query) => new Promise((resolve) => {
      const input = document.querySelector('#bl_site-search-q');
      const list = document.querySelector('#bl_site-search-listbox');
      const obs = new MutationObserver(() => {
        if (list.querySelector('[role=option]:not(.search-option-all)')) { obs.disconnect(); resolve(performance.now() - t0); }
      });
      obs.observe(list, { childList: true, subtree: true });
      list.replaceChildren();
      input.focus();
      input.value = query;
      const t0 = performance.now();
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }), q);
    const cold = [];
    const warm = [];
    const page = [];
    for (let i = 0; i < runs; i += 1) {
      const context = await browser.newContext();
      const p = await context.newPage();
      await p.goto(url + s.story);
      cold.push(await typed(p, QUERIES[i]));
      warm.push(await typed(p, QUERIES[i + 1]));
      await context.close();

      const c2 = await browser.newContext();
      const p2 = await c2.newPage();
      await p2.addInitScript(() => {
        new MutationObserver((_, obs) => {
          if (document.querySelector('#bl_search-results .search-result')) {
            window.__firstResult = performance.now();
            obs.disconnect();
          }
        }).observe(document, { childList: true, subtree: true });
      });
      await p2.goto(`${url}search/?q=${encodeURIComponent(QUERIES[i])}`);
      await p2.locator('#bl_search-results .search-result').first().waitFor({ timeout: 30_000 });
      page.push(await p2.evaluate(() => window.__firstResult));
      await c2.close();
    }
    const fmt = (xs) => `${median(xs).toFixed(0)} ms (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
    console.log(`| time to first result (median of ${runs}, min–max) | |`);
    console.log('|---|---:|');
    console.log(`| header box, cold: input event → first result in the panel (incl. 100 ms debounce) | ${fmt(cold)} |`);
    console.log(`| header box, warm: the next query on the same page | ${fmt(warm)} |`);
    console.log(`| search page opened with ?q=, cold: navigation start → first result | ${fmt(page)} |`);
  }
} finally {
  await browser.close();
  await server.close();
}
