// Bytes a browser fetches per query from blameless's static search index, and the time
// to results, measured in node through search-core.js's `io` hooks (no browser, no
// network): every file the engine asks for is read from the built site on disk and
// counted raw and as gzip (zlib level 6, what a static host typically serves).
//
//   node bench/browser_bytes.mjs --site OUTPUT_DIR --queries QUERIES.tsv [--out FILE.json]
//                                [--limit 10] [--facets]
//
// QUERIES.tsv: `kind<TAB>query` lines (bench/search_queries.py). For each query, cold
// cache: a new SearchIndex (meta.json fetched again), `search(q, {limit, facets})`, then
// the fragments of the shown results, which the UI fetches to draw them. Each fetched file
// is put in a class: meta (meta.json), chunks (t/), norms (n/), facets (f/), vocab (v/,
// the typo vocabulary), fragments (d/). The engine itself (search-core.js and
// vendor/porter2.js) is a fixed cost, reported once.
//
// Times (performance.now(), wall):
// - cold: load + search + fragments on a new index, files from the OS page cache;
// - warm: the same query on one index that ran every earlier query of the set (the
//   session of a person trying several queries: meta.json and the files of earlier
//   queries are cached, new terms are fetched);
// - cached: the same query again right after (everything in memory: pure compute).
//
// Prints a JSON document: per query {kind, query, total, files, bytes by class (raw and
// gzip), ms}, and the engine's fixed cost. Figures only; no assertion.
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    site: { type: 'string' },
    queries: { type: 'string' },
    out: { type: 'string' },
    limit: { type: 'string', default: '10' },
    facets: { type: 'boolean', default: false },
  },
});
if (!args.site || !args.queries) {
  console.error('usage: node bench/browser_bytes.mjs --site OUTPUT_DIR --queries QUERIES.tsv [--out FILE] [--limit N] [--facets]');
  process.exit(2);
}
const site = path.resolve(args.site);
const limit = Number(args.limit);
const { SearchIndex } = await import(pathToFileURL(path.join(site, 'search-core.js')).href);

const BASE = 'bench://site/search/';
const sizes = new Map(); // path under search/ -> {raw, gzip}
async function sizeOf(rel, bytes) {
  if (!sizes.has(rel)) sizes.set(rel, { raw: bytes.length, gzip: gzipSync(bytes, { level: 6 }).length });
  return sizes.get(rel);
}
function classOf(rel) {
  if (rel === 'meta.json') return 'meta';
  return { t: 'chunks', n: 'norms', f: 'facets', v: 'vocab', d: 'fragments' }[rel.split('/')[0]] ?? 'other';
}
const CLASSES = ['meta', 'chunks', 'norms', 'facets', 'vocab', 'fragments', 'other'];

/** io hooks that read files from disk and log each one with its class and sizes. */
function recorder() {
  const log = [];
  return {
    log,
    io: {
      async fetchBytes(url) {
        const rel = url.slice(BASE.length);
        const bytes = new Uint8Array(await readFile(path.join(site, 'search', rel)));
        log.push({ rel, cls: classOf(rel), ...(await sizeOf(rel, bytes)) });
        return bytes;
      },
    },
  };
}

async function run(index, q) {
  const res = await index.search(q, { limit, facets: args.facets });
  const frags = await Promise.all(res.hits.map((h) => index.fragment(h.doc)));
  return { res, frags };
}

const lines = (await readFile(args.queries, 'utf8')).split('\n').filter(Boolean);
const queries = lines.map((l) => { const i = l.indexOf('\t'); return { kind: l.slice(0, i), query: l.slice(i + 1) }; });

// Engine code: what a browser downloads before the first query.
const engine = {};
for (const f of ['search-core.js', 'vendor/porter2.js']) {
  const bytes = await readFile(path.join(site, f));
  engine[f] = { raw: bytes.length, gzip: gzipSync(bytes, { level: 6 }).length };
}

// Warm-up (JIT, page cache), not measured.
for (const { query } of queries.slice(0, 20)) {
  const { io } = recorder();
  await run(await SearchIndex.load(BASE, io), query);
}

const out = [];
const session = recorder();
const warmIndex = await SearchIndex.load(BASE, session.io);
for (const { kind, query } of queries) {
  const rec = recorder();
  const t0 = performance.now();
  const index = await SearchIndex.load(BASE, rec.io);
  const { res } = await run(index, query);
  const cold = performance.now() - t0;

  const t1 = performance.now();
  await run(warmIndex, query);
  const warm = performance.now() - t1;
  const t2 = performance.now();
  await run(warmIndex, query);
  const cached = performance.now() - t2;

  const bytes = Object.fromEntries(CLASSES.map((c) => [c, { raw: 0, gzip: 0, files: 0 }]));
  for (const f of rec.log) {
    bytes[f.cls].raw += f.raw;
    bytes[f.cls].gzip += f.gzip;
    bytes[f.cls].files += 1;
  }
  out.push({
    kind, query, error: res.error, total: res.total, hits: res.hits.length,
    corrected: res.correctedQuery, terms: res.terms.length, concepts: res.concepts.length,
    files: rec.log.length, bytes, ms: { cold, warm, cached },
    fetched: rec.log.map((f) => [f.rel, f.gzip]),
  });
}

const meta = sizes.get('meta.json');
const doc = {
  site, limit, facets: args.facets, n_queries: out.length, engine, meta,
  node: process.version, queries: out,
};
const text = JSON.stringify(doc);
if (args.out) {
  const { writeFile } = await import('node:fs/promises');
  await writeFile(args.out, text);
} else {
  process.stdout.write(text + '\n');
}
