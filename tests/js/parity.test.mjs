// Parity of the browser engine (static/search-core.js over the exported `search/`) with
// `blameless search` (tantivy), as docs/search.md promises: the same analyzer output for
// every line and word of a site, and for ~300 queries the same terms, concepts, typo
// corrections, totals and top 10, with scores within 1e-5 relative.
//
// Needs the Rust binary: BLAMELESS_BIN=target/release/blameless node --test tests/js/
// Runs on the repo's own site and on a generated site of 300 stories (bench/gen_site.py).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { analyze, surfaceWords, SearchIndex } from '../../static/search-core.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const BIN = process.env.BLAMELESS_BIN;
const TOLERANCE = 1e-5;

function binary() {
  assert.ok(BIN, 'BLAMELESS_BIN is not set: build the CLI (cargo build --release) and run '
    + 'BLAMELESS_BIN=target/release/blameless node --test tests/js/');
  assert.ok(existsSync(BIN), `BLAMELESS_BIN \`${BIN}\` does not exist`);
  return BIN;
}

function blameless(args, input) {
  return execFileSync(binary(), args, { input, encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** A site root and its built output, built once. */
const sites = new Map();
function site(name) {
  if (!sites.has(name)) {
    const tmp = mkdtempSync(join(tmpdir(), `blameless-parity-${name}-`));
    let root = REPO;
    if (name === 'generated') {
      root = join(tmp, 'site');
      execFileSync('python3', [join(REPO, 'bench/gen_site.py'), '--incidents', '300', '--seed', '7',
        '--out', root], { stdio: 'pipe' });
    }
    const out = join(tmp, 'public');
    blameless(['--root', root, 'build', '-o', out]);
    sites.set(name, { root, out, tmp });
  }
  return sites.get(name);
}
after(() => {
  for (const { tmp } of sites.values()) rmSync(tmp, { recursive: true, force: true });
});

function files(dir, ext) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return files(path, ext);
    return ext.some((x) => e.name.endsWith(x)) ? [path] : [];
  });
}

/** Every distinct line of a site's content files. */
function contentLines(root) {
  const lines = new Set();
  for (const file of files(join(root, 'content'), ['.md', '.yaml', '.yml'])) {
    for (const line of readFileSync(file, 'utf8').replaceAll('\r', '').split('\n')) {
      if (line.trim()) lines.add(line);
    }
  }
  return [...lines];
}

// Unicode and tokenizer edge cases (docs/search.md §1).
const EDGE_CASES = [
  'OOMKilled pods', 'NotReady', 'notReady', 'CrashLoopBackOff', 'IPv4 iOS eBPF iPhone',
  'getHTTPResponse HTTPServer HTTP2Server x509Certificate ABCdef aB', 'kube-proxy', '10.0.0.1',
  'exit code 137, HTTP 502/503', 'snake_case/path.go', 'a'.repeat(39), 'a'.repeat(40), 'a'.repeat(41),
  `x ${'b'.repeat(40)} y`, 'é'.repeat(19) + 'a', 'é'.repeat(20), 'İ'.repeat(19) + '1', 'İ'.repeat(20),
  `${'b'.repeat(25)}Ccccccccccccccccc z`, '日本語'.repeat(4) + 'の', '日本語'.repeat(4) + 'のテ',
  'ΟΔΟΣ Σίσυφος ΣΊΣΥΦΟΣ', 'İstanbul ISTANBUL ıi İi', 'ß ẞ STRASSE', 'ﬁle ﬀ ﬃ', 'ǅemal Ǆ ǆ',
  'Ⅻ ⅻ ½ ¾ ² ③', '٣٤٥ ४२ ๓', '日本語のテキスト 한국어 ภาษาไทย', '😀 emoji👍ok', 'e\u0301te cafe\u0301 café',
  'zero\u200dwidth soft\u00adhyphen nb\u00a0sp', '𝐀𝐁𝐂 𝟏𝟐 𝐀𝐛𝐂𝐝', 'K Å ſ ſt', 'Ꭰ ꭰ ᏸ Ᏸ', 'Ა ა', '𐐀𐐨 𐐀',
  'ÉtéÉtat ΑΒΓδεζ ÀÉÎõü', 'Łódź Ørsted ÆØÅ', 'x'.repeat(13) + '𝐀'.repeat(7), 'naïve coöperate',
];

function analyzerLines(root) {
  const lines = contentLines(root);
  const words = new Set(lines.flatMap((l) => l.split(/\s+/).filter(Boolean)));
  return [...new Set([...lines, ...words, ...EDGE_CASES])];
}

for (const name of ['repo', 'generated']) {
  test(`analyzer parity: ${name} site`, () => {
    const { root } = site(name);
    const lines = analyzerLines(root);
    const out = blameless(['search', '--analyze'], `${lines.join('\n')}\n`).split('\n').filter(Boolean);
    assert.equal(out.length, lines.length, 'one output line per input line');
    const differ = [];
    lines.forEach((line, i) => {
      const rust = JSON.parse(out[i]).map(({ term, position }) => ({ term, position }));
      const js = analyze(line).map(({ term, position }) => ({ term, position }));
      if (JSON.stringify(rust) !== JSON.stringify(js)) differ.push({ line, rust, js });
    });
    console.log(`analyzer parity (${name}): ${lines.length} lines, ${differ.length} differ`);
    assert.deepEqual(differ.slice(0, 10), [], `${differ.length} of ${lines.length} lines analyze differently`);
  });

  test(`ranking parity: ${name} site`, async () => {
    const { root, out } = site(name);
    const base = join(out, 'search') + '/';
    const io = {
      fetchBytes: async (path) => new Uint8Array(await readFile(path)),
      fetchText: async (path) => readFile(path, 'utf8'),
    };
    const index = await SearchIndex.load(base, io);
    const queries = querySet(root, index.meta);
    const batch = join(out, '..', 'queries.txt');
    writeFileSync(batch, `${queries.join('\n')}\n`);
    const rust = blameless(['--root', root, 'search', '--batch', batch, '--limit', '10'])
      .split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(rust.length, queries.length, 'one result line per query');

    const problems = [];
    const stats = { compared: 0, identical: 0, swaps: 0, maxDiff: 0, phrases: 0, errors: 0, cliOnly: 0, snippets: 0, facets: 0 };
    for (const [i, q] of queries.entries()) {
      const r = rust[i];
      const js = await index.search(q, { limit: 20 });
      const problem = (what, rustSide, jsSide) => problems.push({ query: q, what, rust: rustSide, js: jsSide });
      // component:, organization: and impact: filter in the CLI only (§3): the browser
      // must say so rather than answer without the filter.
      if (/(^|\s)(component|organization|impact):\S/.test(q) && !r.error) {
        if (js.error?.startsWith('cannot filter by')) stats.cliOnly++;
        else problem('CLI-only filter', 'results', js.error ?? 'results');
        continue;
      }
      if (r.error || js.error) {
        if (r.error !== js.error) problem('error', r.error, js.error);
        else stats.errors++;
        continue;
      }
      const before = problems.length;
      for (const key of ['terms', 'concepts', 'corrected']) {
        if (JSON.stringify(r[key]) !== JSON.stringify(js[key])) problem(key, r[key], js[key]);
      }
      // Different analyses rank differently: that difference is reported once, above.
      if (problems.length > before) continue;
      // The CLI matches quoted phrases exactly (positions); the browser requires their
      // words anywhere (§3). Their results differ by design: only the analysis is compared.
      if (q.includes('"')) { stats.phrases++; continue; }
      stats.compared++;
      if (r.total !== js.total) problem('total', r.total, js.total);
      // Facet counts (§8): the same values, labels, counts and order.
      const values = (list) => JSON.stringify(list?.map((v) => [v.value, v.label, v.count]));
      for (const { name } of index.meta.facets) {
        stats.facets++;
        if (values(r.facets[name]) !== values(js.facets[name])) problem(`facet ${name}`, r.facets[name], js.facets[name]);
      }
      const ids = await Promise.all(js.hits.map(async (h) => (await index.fragment(h.doc)).id));
      const jsHits = js.hits.map((h, k) => ({ id: ids[k], score: h.score }));
      const rustHits = r.results.map(({ id, score }) => ({ id, score }));
      const top = jsHits.slice(0, rustHits.length);
      if (top.every((h, k) => h.id === rustHits[k].id)) {
        stats.identical++;
      } else {
        const scale = (rustHits[0]?.score || 1) * TOLERANCE;
        // Near-ties (scores within 1e-5 of the top score) may come in either order.
        const canon = (hits) => hits.map((h) => ({ key: Math.round(h.score / scale), id: h.id }))
          .sort((a, b) => b.key - a.key || (a.id < b.id ? -1 : 1)).map((h) => h.id);
        if (JSON.stringify(canon(rustHits)) === JSON.stringify(canon(top))) stats.swaps++;
        else problem('top 10', rustHits, top);
      }
      // Snippets (§7): the same window and marks from the same fragment text.
      for (const [k, h] of r.results.entries()) {
        const at = ids.indexOf(h.id);
        if (at < 0) continue;
        const f = await index.fragment(js.hits[at].doc);
        const html = index.snippet(f.text, js.terms, js.concepts)
          .map((p) => (p.mark ? `<mark>${escapeHtml(p.text)}</mark>` : escapeHtml(p.text))).join('');
        stats.snippets++;
        if (html !== h.snippet) problem(`snippet of ${h.id} (result ${k + 1})`, h.snippet, html);
        // The title as the page marks it: whole, or not at all.
        const parts = index.snippet(f.title, js.terms, js.concepts);
        const title = parts.map((p) => p.text).join('') === f.title
          ? parts.map((p) => (p.mark ? `<mark>${escapeHtml(p.text)}</mark>` : escapeHtml(p.text))).join('')
          : escapeHtml(f.title);
        if (title !== h.title_html) problem(`title of ${h.id} (result ${k + 1})`, h.title_html, title);
      }
      for (const h of rustHits) {
        const other = jsHits.find((x) => x.id === h.id);
        if (!other) continue;
        const diff = Math.abs(other.score - h.score) / Math.max(Math.abs(h.score), 1e-30);
        stats.maxDiff = Math.max(stats.maxDiff, diff);
        if (diff >= TOLERANCE) problem(`score of ${h.id}`, h.score, other.score);
      }
    }
    console.log(`ranking parity (${name}): ${queries.length} queries, ${stats.compared} ranked and compared `
      + `(${stats.phrases} more with phrases: analysis only; ${stats.errors} refused alike by both; `
      + `${stats.cliOnly} with CLI-only filters, refused by the browser), `
      + `${stats.identical} identical top 10, ${stats.swaps} near-tie swaps, `
      + `max relative score difference ${stats.maxDiff.toExponential(2)}, ${stats.snippets} snippets and titles `
      + `and ${stats.facets} facet lists compared, `
      + `${problems.length} differences`);
    for (const p of problems) console.log(`  differs: ${JSON.stringify(p.query)}: ${p.what}`);
    assert.deepEqual(problems.slice(0, 15), [], `${problems.length} differences between the CLI and the browser`);
  });
}

/** HTML-escaped text, as the CLI escapes snippets (`markdown::escape_html`). */
function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' })[c]);
}

/** A seeded PRNG (mulberry32), so the query set is the same on every run. */
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** ~300 queries: the labelled set, spans of the site's text, common, rare and misspelt
 * words, filters, exclusions, codes, Unicode and the limits. */
function querySet(root, meta) {
  const rand = random(20240611);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const queries = [];
  const evalFile = join(REPO, 'eval/queries.yaml');
  if (existsSync(evalFile)) {
    // Every `q:` is a double-quoted YAML scalar, which JSON reads the same.
    for (const m of readFileSync(evalFile, 'utf8').matchAll(/^- q: (".*")\s*$/gm)) queries.push(JSON.parse(m[1]));
  }
  const lines = contentLines(root).filter((l) => !/^\s*[\w-]+:\s*$/.test(l));
  for (let n = 0; n < 100; n++) { // spans of 1-6 words, without quotes
    const words = pick(lines).replaceAll('"', '').split(/\s+/).filter(Boolean);
    if (!words.length) continue;
    const len = 1 + Math.floor(rand() * 6);
    const at = Math.floor(rand() * Math.max(1, words.length - len));
    queries.push(words.slice(at, at + len).join(' '));
  }
  const counts = new Map();
  for (const l of lines) for (const w of surfaceWords(l)) counts.set(w, (counts.get(w) ?? 0) + 1);
  const byCount = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  queries.push(...byCount.slice(0, 25).map(([w]) => w)); // common
  const rare = byCount.filter(([w, c]) => c === 1 && /^\p{L}{4,}$/u.test(w));
  for (let n = 0; n < 20 && rare.length; n++) queries.push(pick(rare)[0]);
  const long = byCount.filter(([w]) => /^[a-z]{5,}$/.test(w)).map(([w]) => w);
  for (let n = 0; n < 25 && long.length; n++) { // typos: one edit after the first letter
    const w = [...pick(long)];
    const i = 1 + Math.floor(rand() * (w.length - 2));
    const edit = n % 4;
    if (edit === 0) w.splice(i, 1);
    else if (edit === 1) [w[i], w[i + 1]] = [w[i + 1], w[i]];
    else if (edit === 2) w[i] = w[i] === 'x' ? 'q' : 'x';
    else w.splice(i, 0, 'e');
    queries.push(n % 5 === 0 ? `${w.join('')} ${pick(long)}` : w.join(''));
  }
  const values = (name) => meta.facets.find((f) => f.name === name)?.values.map((v) => v.value) ?? [];
  const [patterns, symptoms, platforms, years] = ['pattern', 'symptom', 'platform', 'year'].map(values);
  for (let n = 0; n < 5 && patterns.length; n++) queries.push(`pattern:${patterns[n % patterns.length]}`);
  queries.push(
    `timeout pattern:${pick(patterns)}`, `pattern:${pick(patterns)} pattern:${pick(patterns)}`,
    `symptom:${pick(symptoms)}`, `nodes symptom:${pick(symptoms)} year:${pick(years)}`,
    `platform:${pick(platforms)}`, `dns platform:${pick(platforms)}`, `year:${pick(years)}`,
    `year:${pick(years)} year:${pick(years)} -kube`, 'year:2019', 'memory year:2019', 'PATTERN:x',
    'pattern:no-such-pattern', 'pattern: memory', 'component:etcd', 'etcd component:etcd',
    'organization:zalando', 'impact:full-outage outage',
    'pods -kube', 'node -OOMKilled', 'dns -kube-proxy', '-kube', 'kube-proxy -iptables',
    '502', '137', '503', '504', '404', '429', 'x509', '10.0.0.1', 'exit code 137', 'HTTP 502',
    'ΟΔΟΣ', 'café', '日本語', 'İstanbul', 'naïve', 'Ⅻ', '½', '😀',
    'OOMKilled pods', 'CrashLoopBackOff', 'crash loop back off', 'NotReady nodes', 'not ready',
    'ready not ready', 'pods pods pods', 'sluggish', 'kube-prxy', 'kubelte', 'certifcate expird',
    'a'.repeat(45), 'other:thing', 'x:y z', '-', '""', '"OOMKilled pods"', '"not ready" nodes',
    '"unterminated phrase', 'a '.repeat(16).trim(), 'a '.repeat(17).trim(), '('.repeat(256), '('.repeat(257),
  );
  return queries.map((q) => q.replaceAll(/[\r\n]/g, ' '));
}
