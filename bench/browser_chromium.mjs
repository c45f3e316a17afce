// Bytes and time to results per query in headless Chromium, for blameless's static search
// and for Pagefind on the same built site, cold cache (a fresh browser context per query).
//
//   node bench/browser_chromium.mjs --site OUTPUT_DIR --queries QUERIES.tsv
//        --engine blameless|pagefind --modules NODE_MODULES_DIR [--out FILE.json]
//        [--chromium /usr/bin/chromium] [--limit 10]
//
// The built site is served by a small static server in this process on 127.0.0.1 (a free
// port), which logs every request; a blank page of the same origin loads the engine and
// runs one query:
// - blameless: import /search-core.js, SearchIndex.load('/search/'), search(q, {limit,
//   facets: false}), then the fragments of the shown results;
// - pagefind: import /pagefind/pagefind.js, init(), search(q), then data() of the first
//   `limit` results (what its UI shows). Pagefind has no filters, phrases or exclusions
//   here (the generated pages carry no data-pagefind-filter attributes), so `field:value`
//   filters, `-word` exclusions and quotes are removed from its query; a query left empty
//   is skipped.
// Every response the engine fetched between the start and the end of the query is counted
// by the size a static host would send with gzip: files that are already gzip
// (Pagefind's .pf_* and wasm files) as they are, others compressed with zlib level 6.
// Then the next query of the set runs on the same page (engine loaded, its files cached):
// that is the warm time. Times are measured in the page (performance.now()).
import http from 'node:http';
import { createReadStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    site: { type: 'string' },
    queries: { type: 'string' },
    engine: { type: 'string' },
    modules: { type: 'string' },
    out: { type: 'string' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
    limit: { type: 'string', default: '10' },
  },
});
if (!args.site || !args.queries || !['blameless', 'pagefind'].includes(args.engine) || !args.modules) {
  console.error('usage: node bench/browser_chromium.mjs --site DIR --queries FILE --engine blameless|pagefind --modules NODE_MODULES [--out FILE]');
  process.exit(2);
}
const site = path.resolve(args.site);
const limit = Number(args.limit);
const { chromium } = await import(pathToFileURL(path.join(path.resolve(args.modules), 'playwright-core/index.mjs')).href);

// --- the static server ------------------------------------------------------------------
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.json': 'application/json', '.css': 'text/css', '.wasm': 'application/wasm' };
let log = null; // requests of the query being measured
const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/__bench/') {
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
    res.end('<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>bench</title></head><body></body></html>');
    return;
  }
  let file = path.join(site, decodeURIComponent(url.pathname));
  if (!file.startsWith(site)) { res.writeHead(403); res.end(); return; }
  try {
    if ((await stat(file)).isDirectory()) file = path.join(file, 'index.html');
    const st = await stat(file);
    log?.push(url.pathname);
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': st.size, 'cache-control': 'max-age=3600',
    });
    createReadStream(file).pipe(res);
  } catch {
    log?.push(`404 ${url.pathname}`);
    res.writeHead(404);
    res.end();
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const origin = `http://127.0.0.1:${server.address().port}`;

const sizes = new Map();
async function gzipSize(p) {
  if (!sizes.has(p)) {
    const bytes = await readFile(path.join(site, decodeURIComponent(p)));
    const already = bytes[0] === 0x1f && bytes[1] === 0x8b;
    sizes.set(p, { raw: bytes.length, gzip: already ? bytes.length : gzipSync(bytes, { level: 6 }).length, already });
  }
  return sizes.get(p);
}
function classOf(p) {
  if (args.engine === 'pagefind') {
    if (p.endsWith('.pf_fragment')) return 'fragments';
    if (p.endsWith('.pf_index')) return 'index';
    if (p.endsWith('.pf_meta')) return 'meta';
    if (p.endsWith('.pf_filter')) return 'filters';
    if (/\/wasm\.[^/]+\.pagefind$/.test(p)) return 'wasm';
    if (p.endsWith('.js')) return 'js';
    if (p.endsWith('pagefind-entry.json')) return 'entry';
    return 'other';
  }
  if (p === '/search/meta.json') return 'meta';
  if (p.endsWith('.js')) return 'js';
  const m = p.match(/^\/search\/([a-z])\//);
  return (m && { t: 'chunks', n: 'norms', f: 'facets', v: 'vocab', d: 'fragments' }[m[1]]) ?? 'other';
}

// --- queries ------------------------------------------------------------------------------
const FILTERS = /^(pattern|symptom|platform|component|organization|year|impact):\S+$/;
function pagefindQuery(q) {
  return q.replace(/"/g, ' ').split(/\s+/).filter((w) => w && !FILTERS.test(w) && !(w.length > 1 && w[0] === '-')).join(' ');
}
const queries = (await readFile(args.queries, 'utf8')).split('\n').filter(Boolean).map((l) => {
  const i = l.indexOf('\t');
  const query = l.slice(i + 1);
  return { kind: l.slice(0, i), query, run: args.engine === 'pagefind' ? pagefindQuery(query) : query };
});

// Runs in the page: load the engine (if not loaded), run one query, load what is shown.
async function inPage({ engine, q, limit }) {
  const t0 = performance.now();
  let total = 0;
  if (engine === 'blameless') {
    if (!window.__bl) {
      const { SearchIndex } = await import('/search-core.js');
      window.__bl = await SearchIndex.load('/search/');
    }
    const res = await window.__bl.search(q, { limit, facets: false });
    await Promise.all(res.hits.map((h) => window.__bl.fragment(h.doc)));
    total = res.total;
    if (res.error) return { error: res.error, ms: performance.now() - t0 };
  } else {
    if (!window.__pf) {
      window.__pf = await import('/pagefind/pagefind.js');
      await window.__pf.options({ basePath: '/pagefind/' });
      await window.__pf.init();
    }
    const res = await window.__pf.search(q);
    await Promise.all(res.results.slice(0, limit).map((r) => r.data()));
    total = res.results.length;
  }
  return { total, ms: performance.now() - t0 };
}

const browser = await chromium.launch({
  executablePath: args.chromium,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run'],
});
const out = [];
try {
  const runnable = queries.filter((q) => q.run);
  // Warm-up (browser start, page cache), not measured.
  for (const q of runnable.slice(0, 3)) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${origin}/__bench/`);
    await page.evaluate(inPage, { engine: args.engine, q: q.run, limit });
    await ctx.close();
  }
  for (const [i, q] of queries.entries()) {
    if (!q.run) { out.push({ kind: q.kind, query: q.query, run: '', skipped: true }); continue; }
    const next = runnable[(runnable.indexOf(q) + 1) % runnable.length];
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${origin}/__bench/`);
    log = [];
    const cold = await page.evaluate(inPage, { engine: args.engine, q: q.run, limit });
    const requests = log;
    log = null;
    const warm = await page.evaluate(inPage, { engine: args.engine, q: next.run, limit });
    await ctx.close();
    const bytes = {};
    const fetched = [];
    for (const p of requests) {
      if (p.startsWith('404 ')) { fetched.push([p, 0]); continue; }
      const s = await gzipSize(p);
      const c = (bytes[classOf(p)] ??= { raw: 0, gzip: 0, files: 0 });
      c.raw += s.raw;
      c.gzip += s.gzip;
      c.files += 1;
      fetched.push([p, s.gzip]);
    }
    out.push({ kind: q.kind, query: q.query, run: q.run, total: cold.total, error: cold.error,
      ms: { cold: cold.ms, warm: warm.ms }, bytes, fetched });
    if ((i + 1) % 50 === 0) console.error(`browser_chromium.mjs: ${args.engine}: ${i + 1}/${queries.length}`);
  }
} finally {
  await browser.close();
  server.close();
}
const doc = { engine: args.engine, site, limit, chromium: browser.version?.() ?? '', queries: out };
if (args.out) await writeFile(args.out, JSON.stringify(doc));
else process.stdout.write(JSON.stringify(doc) + '\n');
