// SearchIndex over a small static index written here by a minimal format-2 writer
// (docs/search.md §6): decoding, lazy loading, BM25, filters, facets, typos. The real
// exporter is checked against the CLI by parity.test.mjs; this test needs no Rust.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { analyze, surfaceWords, compareBytes, SearchIndex } from '../../static/search-core.js';

const FIELDS = [['title', 3], ['symptoms', 2], ['summary', 2], ['chain', 1.5], ['body', 1], ['concepts', 2]];
const DOCS = [
  { title: 'Pods OOMKilled after a deploy', body: 'The kubelet killed pods; memory memory memory.',
    concepts: ['oomkilled'], pattern: ['memory-limits'], year: '2020' },
  { title: 'Nodes NotReady', summary: 'kube-proxy crashed on every node', body: 'Ünïcode naïve café résumé.',
    concepts: ['node-notready'], pattern: ['kube-proxy', 'memory-limits'], year: '2019' },
  { title: 'DNS timeouts', chain: 'conntrack races in kube-proxy', body: 'Lookups took 5 seconds; 😀 emoji.',
    concepts: [], pattern: ['dns-ndots'], year: '2019' },
  { title: 'Certificate expired', body: 'x509: certificate has expired. The kubelet restarted.',
    concepts: [], pattern: [], year: '2018' },
];
const CONCEPTS = [
  { id: 'oomkilled', title: 'Out-of-memory kills', phrases: [['oom'], ['out', 'of', 'memori']] },
  { id: 'node-notready', title: 'Nodes NotReady', phrases: [['not', 'readi'], ['not', 'readi', 'notreadi']] },
];

// Postings of at most this many documents carry their norms (one of 4 documents here).
const INLINE_DF = 1;

function varint(out, v) {
  while (v >= 0x80) { out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80); }
  out.push(v);
}

/** Writes DOCS as a format-2 index into a Map of path -> bytes or text. */
function writeIndex(chunkBytes) {
  const files = new Map();
  const postings = new Map(); // term -> field -> [[doc, tf]]
  const norms = FIELDS.map(() => []);
  const totals = FIELDS.map(() => 0);
  DOCS.forEach((d, doc) => {
    FIELDS.forEach(([name], f) => {
      const terms = name === 'concepts' ? d.concepts : analyze(d[name] ?? '').map((t) => t.term);
      norms[f][doc] = terms.length; // lengths below 41 are their own fieldnorm id
      totals[f] += terms.length;
      const tf = new Map();
      for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
      for (const [t, n] of tf) {
        if (!postings.has(t)) postings.set(t, []);
        (postings.get(t)[f] ??= []).push([doc, n]);
      }
    });
  });
  const chunks = [];
  let buf = [], first = null;
  const flush = () => {
    if (first === null) return;
    const file = `t/x/${chunks.length}.bin`;
    chunks.push(first);
    files.set(file, Uint8Array.from(buf));
    buf = []; first = null;
  };
  for (const term of [...postings.keys()].sort(compareBytes)) {
    first ??= term;
    const bytes = new TextEncoder().encode(term);
    varint(buf, bytes.length);
    buf.push(...bytes);
    const byField = postings.get(term);
    buf.push(byField.reduce((m, p, f) => (p ? m | (1 << f) : m), 0));
    byField.forEach((list, f) => {
      if (!list) return;
      varint(buf, list.length);
      let last = 0;
      for (const [doc, tf] of list) {
        varint(buf, (doc - last) * 2 + (tf > 1 ? 1 : 0));
        if (tf > 1) varint(buf, tf);
        last = doc;
      }
      if (list.length <= INLINE_DF) for (const [doc] of list) buf.push(norms[f][doc]);
    });
    if (buf.length >= chunkBytes) flush();
  }
  flush();
  const facets = ['pattern', 'year'].map((name) => {
    const values = new Map();
    DOCS.forEach((d, doc) => [].concat(d[name]).forEach((v) => values.set(v, [...(values.get(v) ?? []), doc])));
    const sorted = [...values].sort((a, b) => b[1].length - a[1].length || compareBytes(a[0], b[0]));
    const bytes = [];
    for (const [, docs] of sorted) {
      varint(bytes, docs.length);
      docs.forEach((doc, i) => varint(bytes, i ? doc - docs[i - 1] : doc));
    }
    files.set(`f/${name}.bin`, Uint8Array.from(bytes));
    return { name, label: name, file: `f/${name}.bin`,
      values: sorted.map(([value, docs]) => ({ value, label: value.toUpperCase(), count: docs.length })) };
  });
  const vocab = new Map();
  for (const d of DOCS) {
    const words = new Set(FIELDS.slice(0, 5).flatMap(([n]) => surfaceWords(d[n] ?? ''))
      .filter((w) => /^\p{Alphabetic}{3,32}$/u.test(w)));
    for (const w of words) vocab.set(w, (vocab.get(w) ?? 0) + 1);
  }
  const typo = {};
  for (const w of [...vocab.keys()].sort(compareBytes)) {
    const first = String.fromCodePoint(w.codePointAt(0));
    typo[first] = `v/${first.codePointAt(0).toString(16)}.txt`;
    files.set(typo[first], (files.get(typo[first]) ?? '') + `${w}\t${vocab.get(w)}\n`);
  }
  FIELDS.forEach(([name], f) => files.set(`n/${name}.bin`, Uint8Array.from(norms[f])));
  DOCS.forEach((d, doc) => files.set(`d/x/${doc}.json`, JSON.stringify({ id: `doc-${doc}`, title: d.title, text: d.body })));
  const meta = {
    format: 2, analyzer: 'kb_en-1', n_docs: DOCS.length, k1: 1.2, b: 0.75, inline_norms_df: INLINE_DF,
    fields: FIELDS.map(([name, boost], f) => ({ name, boost, total_tokens: totals[f], norms: `n/${name}.bin` })),
    fieldnorm_table: Array.from({ length: 256 }, (_, i) => i),
    chunks: { dir: 't/x/', first: chunks }, concepts: CONCEPTS, facets, typo, fragments: 'd/x/',
  };
  files.set('meta.json', JSON.stringify(meta));
  return { files, postings, totals, norms };
}

async function open(chunkBytes = 40) {
  const written = writeIndex(chunkBytes);
  const get = (url) => {
    const data = written.files.get(url.slice('base/'.length));
    if (data === undefined) throw new Error(`no such file ${url}`);
    return data;
  };
  const io = { fetchBytes: async (url) => get(url), fetchText: async (url) => get(url) };
  return { index: await SearchIndex.load('base/', io), written };
}

/** BM25 in f64, straight from the formula (§4), for comparison. */
function bm25(written, terms, concepts) {
  const n = DOCS.length;
  const scores = new Map();
  const add = (t, f) => {
    const list = written.postings.get(t)?.[f];
    if (!list) return;
    const idf = Math.log(1 + (n - list.length + 0.5) / (list.length + 0.5));
    const avg = written.totals[f] / n;
    for (const [doc, tf] of list) {
      const norm = 1.2 * (0.25 + 0.75 * written.norms[f][doc] / avg);
      scores.set(doc, (scores.get(doc) ?? 0) + idf * 2.2 * FIELDS[f][1] * (tf / (tf + norm)));
    }
  };
  for (const t of terms) for (let f = 0; f < 5; f++) add(t, f);
  for (const c of concepts) add(c, 5);
  return [...scores].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
}

test('only meta.json is loaded up front; a query fetches its chunks and norms, once', async () => {
  const { index } = await open();
  assert.deepEqual(index.fetched, ['base/meta.json']);
  await index.search('kubelet', { facets: false });
  const fetched = index.fetched.slice(1);
  assert.ok(fetched.some((u) => u.startsWith('base/t/')));
  assert.ok(fetched.includes('base/n/body.bin'));
  assert.ok(!fetched.some((u) => /\/(f|v|d)\/|title|concepts/.test(u)), fetched.join(' '));
  const before = index.bytesFetched;
  await index.search('kubelet', { facets: false });
  assert.equal(index.bytesFetched, before);
  await index.search('kubelet');
  assert.ok(index.fetched.includes('base/f/pattern.bin'));
});

test('postings that carry their norms need no norm file', async () => {
  const { index } = await open();
  // "café" is in one body (df 1 <= INLINE_DF), "kubelet" in two.
  const one = await index.search('café', { facets: false });
  assert.deepEqual(one.hits.map((h) => h.doc), [1]);
  assert.ok(!index.fetched.some((u) => u.includes('/n/')), index.fetched.join(' '));
  await index.search('café kubelet', { facets: false });
  assert.ok(index.fetched.includes('base/n/body.bin'));
});

test('scores are BM25 over the fields, with concepts, in f32', async () => {
  for (const chunkBytes of [1, 40, 1 << 20]) {
    const { index, written } = await open(chunkBytes);
    for (const q of ['kubelet', 'pods OOMKilled', 'kube-proxy node', 'memory', 'nodes not ready',
      'café', 'emoji 😀', 'expired certificates x509', 'ünïcode']) {
      const r = await index.search(q, { limit: 100 });
      const want = bm25(written, r.terms, r.concepts);
      assert.equal(r.total, want.length, q);
      assert.deepEqual(r.hits.map((h) => h.doc), want.map(([doc]) => doc), q);
      for (const [i, h] of r.hits.entries()) {
        assert.ok(Math.abs(h.score - want[i][1]) / want[i][1] < 1e-6, `${q}: ${h.score} vs ${want[i][1]}`);
        assert.equal(h.score, Math.fround(h.score));
      }
    }
  }
});

test('concepts are scored through the concepts field', async () => {
  const { index } = await open();
  const r = await index.search('out of memory');
  assert.deepEqual(r.concepts, ['oomkilled']);
  assert.equal(r.hits[0].doc, 0);
});

test('exclusions drop documents holding all terms of the word', async () => {
  const { index } = await open();
  const all = await index.search('kubelet');
  assert.deepEqual(all.hits.map((h) => h.doc).sort(), [0, 3]);
  assert.deepEqual((await index.search('kubelet -x509')).hits.map((h) => h.doc), [0]);
  // -kube-proxy drops documents with both kube and proxy, not those with either.
  assert.deepEqual((await index.search('node -kube-proxy')).hits.map((h) => h.doc), []);
  assert.equal((await index.search('node -kube-nonexistent')).total, 1);
});

test('phrases require all their terms (browser semantics)', async () => {
  const { index } = await open();
  assert.deepEqual((await index.search('kubelet "memory pods"')).hits.map((h) => h.doc), [0]);
  assert.equal((await index.search('"memory certificate"')).total, 0);
});

test('filters, filter-only listings and disjunctive facet counts', async () => {
  const { index } = await open();
  const r = await index.search('year:2019');
  assert.deepEqual(r.hits.map((h) => [h.doc, h.score]), [[1, 0], [2, 0]]);
  const facet = (res, name) => Object.fromEntries(res.facets[name].map((v) => [v.value, v.count]));
  // The year facet ignores the year filter; the pattern facet applies it.
  assert.deepEqual(facet(r, 'year'), { 2019: 2, 2020: 1, 2018: 1 });
  assert.deepEqual(facet(r, 'pattern'), { 'kube-proxy': 1, 'memory-limits': 1, 'dns-ndots': 1 });
  const both = await index.search('year:2019 year:2020 pattern:memory-limits');
  assert.deepEqual(both.hits.map((h) => h.doc), [0, 1]);
  const opt = await index.search('kube', { filters: { pattern: ['DNS-ndots'] } });
  assert.deepEqual(opt.hits.map((h) => h.doc), [2]);
  assert.deepEqual(facet(opt, 'pattern'), { 'kube-proxy': 1, 'memory-limits': 1, 'dns-ndots': 1 });
  // An empty query lists nothing but counts every document.
  const empty = await index.search('');
  assert.equal(empty.total, 0);
  assert.deepEqual(facet(empty, 'year'), { 2019: 2, 2020: 1, 2018: 1 });
  assert.equal((await index.search('year:1999')).total, 0);
  assert.match((await index.search('component:etcd')).error, /component/);
});

test('typos are corrected from the vocabulary of their first letter', async () => {
  const { index } = await open();
  const r = await index.search('kubelte certifcate');
  assert.deepEqual(r.corrected, [{ from: 'certifcate', to: 'certificate' }, { from: 'kubelte', to: 'kubelet' }]);
  assert.equal(r.correctedQuery, 'kubelet certificate');
  assert.deepEqual(r.terms, ['kubelet', 'certif']);
  assert.ok(r.total > 0);
  // Words that occur, short words, numbers and far-off words stay.
  for (const q of ['kubelet', 'ku', 'kubeletx509', 'zzzzzz', 'kbltt']) {
    assert.deepEqual((await index.search(q)).corrected, [], q);
  }
});

test('results, fragments and limits', async () => {
  const { index } = await open();
  const r = await index.search('kubelet pods', { limit: 1, offset: 1 });
  assert.equal(r.total, 2);
  assert.equal(r.hits.length, 1);
  assert.equal((await index.fragment(r.hits[0].doc)).id, `doc-${r.hits[0].doc}`);
  assert.match((await index.search('a '.repeat(17))).error, /too many words/);
  assert.deepEqual(index.snippet('The kubelet killed pods.', r.terms).filter((p) => p.mark).map((p) => p.text),
    ['kubelet', 'pods']);
  // The phrases of the result's concepts are marked too (§7).
  const oom = await index.search('oom');
  assert.deepEqual(oom.concepts, ['oomkilled']);
  assert.deepEqual(index.snippet('Pods ran out of memory.', oom.terms, oom.concepts)
    .filter((p) => p.mark).map((p) => p.text), ['out of memory']);
});
