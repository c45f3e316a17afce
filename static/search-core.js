// The browser search engine: the analyzer, query language, BM25 ranking and typo correction
// of docs/search.md, over the static index that `blameless build` writes to `search/`.
// It must rank exactly like `blameless search` (tests/js/parity.test.mjs checks it), so every
// rule below is a rule of that contract; change the contract first. No DOM here: the UI
// (static/search.js) imports this module, and node runs it in the tests.
import { stem } from './vendor/porter2.js';

const RUN = /[\p{Alphabetic}\p{Nd}\p{Nl}\p{No}]+/gu;
const UPPER = /^\p{Uppercase}$/u;
const LOWER = /^\p{Lowercase}$/u;
const ALPHABETIC = /^\p{Alphabetic}+$/u;
// Rust's `char::is_whitespace` (Unicode White_Space), not JS `\s`, which adds U+FEFF and
// lacks U+0085.
const SPACE = /[\t-\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const FILTERS = ['pattern', 'symptom', 'platform', 'component', 'organization', 'year', 'impact'];
const MAX_BYTES = 256;
const MAX_WORDS = 16;
const TEXT_FIELDS = 5; // fields 0-4 hold analyzed text, field 5 the concept ids
const SNIPPET_BYTES = 150;
const f32 = Math.fround;
const utf8 = new TextDecoder();

/** UTF-8 length of a string. */
export function utf8Length(s) {
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0);
    n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  }
  return n;
}

/** The UTF-8 byte offset of every UTF-16 offset of a string (0..length). */
function byteOffsets(s) {
  const at = new Uint32Array(s.length + 1);
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i);
    if (c > 0xffff) { at[i + 1] = at[i] + 2; at[i + 2] = at[i] + 4; i++; continue; }
    at[i + 1] = at[i] + (c < 0x80 ? 1 : c < 0x800 ? 2 : 3);
  }
  return at;
}

/** Compares strings in UTF-8 byte order (= code point order, unlike `<` on UTF-16). */
export function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after U+E000..U+FFFF in UTF-8.
    if (x >= 0xd800 && y >= 0xd800) {
      x += x < 0xe000 ? 0x2000 : -0x800;
      y += y < 0xe000 ? 0x2000 : -0x800;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** Lowercases code point by code point (§1.5): no final sigma or other context rules. */
function lower(s) {
  let out = '';
  for (const ch of s) out += ch.toLowerCase();
  return out;
}

/** The identifier split of a run (§1.2): UTF-16 offsets of its parts' bounds, or null. */
function splitRun(run) {
  const cps = [...run];
  const bounds = [0];
  let offset = 0, last = 0;
  for (let i = 0; i < cps.length; offset += cps[i++].length) {
    if (i > 0 && ((LOWER.test(cps[i - 1]) && UPPER.test(cps[i])) ||
        (UPPER.test(cps[i - 1]) && UPPER.test(cps[i]) && LOWER.test(cps[i + 1] ?? '')))) {
      if (i - last < 2) return null; // every part has at least two characters
      bounds.push(offset);
      last = i;
    }
  }
  if (bounds.length < 2 || cps.length - last < 2) return null;
  bounds.push(offset);
  return bounds;
}

/**
 * Analyzes text with `kb_en` (§1): `[{term, position, start, end}]`, where start/end are
 * UTF-16 offsets into `text`.
 */
export function analyze(text) {
  const tokens = [];
  let position = 0;
  const emit = (start, end, pos) => {
    const s = text.slice(start, end);
    if (utf8Length(s) < 40) tokens.push({ term: stem(lower(s)), position: pos, start, end });
  };
  for (const m of text.matchAll(RUN)) {
    const start = m.index, end = start + m[0].length;
    const cuts = splitRun(m[0]);
    if (cuts) {
      for (let i = 0; i + 1 < cuts.length; i++) emit(start + cuts[i], start + cuts[i + 1], position + i);
      position += cuts.length - 2;
    }
    emit(start, end, position++);
  }
  return tokens;
}

/** The surface words of a text (§1): its runs, lowercased, in order. */
export function surfaceWords(text) {
  return Array.from(text.matchAll(RUN), (m) => lower(m[0]));
}

/**
 * Parses a query (§3). Never throws: a query over the limits has an `error`. `items` lists
 * every part in query order (`{kind: 'word'|'phrase'|'exclude'|'filter', text, field}`).
 */
export function parseQuery(q) {
  const out = { words: [], phrases: [], excluded: [], filters: {}, error: null, items: [] };
  const bytes = utf8Length(q);
  if (bytes > MAX_BYTES) {
    out.error = `query too long (${bytes} bytes; at most ${MAX_BYTES})`;
    return out;
  }
  let count = 0;
  for (let i = 0, j; i < q.length; i = j) {
    if (SPACE.test(q[i])) { j = i + 1; continue; }
    if (q[i] === '"') {
      j = q.indexOf('"', i + 1);
      if (j < 0) j = q.length;
      const text = q.slice(i + 1, j++);
      count += text.split(SPACE).filter(Boolean).length;
      out.phrases.push(text);
      out.items.push({ kind: 'phrase', text });
      continue;
    }
    for (j = i; j < q.length && !SPACE.test(q[j]);) j++;
    const text = q.slice(i, j);
    const colon = text.indexOf(':');
    const field = text.slice(0, colon), value = lower(text.slice(colon + 1));
    if (text.length > 1 && text[0] === '-') {
      count++;
      out.excluded.push(text.slice(1));
      out.items.push({ kind: 'exclude', text: text.slice(1) });
    } else if (colon > 0 && value && FILTERS.includes(field)) {
      const values = (out.filters[field] ??= []);
      if (!values.includes(value)) values.push(value);
      out.items.push({ kind: 'filter', text: value, field });
    } else {
      count++;
      out.words.push(text);
      out.items.push({ kind: 'word', text });
    }
  }
  if (count > MAX_WORDS) out.error = `query has too many words (${count}; at most ${MAX_WORDS})`;
  return out;
}

/** The scoring terms of a parsed query (§3): terms of its words and phrases, first occurrence kept. */
export function scoringTerms(parsed) {
  return [...new Set(termSequence(parsed))];
}

/** The terms of plain words and phrases in query order, not de-duplicated (§2, §3). */
export function termSequence(parsed) {
  const scoring = parsed.items.filter((i) => i.kind === 'word' || i.kind === 'phrase');
  return scoring.flatMap((i) => analyze(i.text).map((t) => t.term));
}

/**
 * The required terms of a phrase or excluded word (§3): its terms without the whole of a
 * split identifier (a token at the previous token's position), de-duplicated.
 */
function requiredTerms(text) {
  const kept = [];
  for (const t of analyze(text)) if (kept.at(-1)?.position !== t.position) kept.push(t);
  return [...new Set(kept.map((t) => t.term))];
}

/** A parsed query written back, with `fix(lowercased run)` applied to the runs of plain words. */
function rewrite(parsed, fix) {
  return parsed.items.map(({ kind, text, field }) => {
    if (kind === 'phrase') return `"${text}"`;
    if (kind === 'exclude') return `-${text}`;
    if (kind === 'filter') return `${field}:${text}`;
    return text.replace(RUN, (run) => fix(lower(run)) ?? run);
  }).join(' ');
}

/** Damerau (optimal string alignment) distance of two code point arrays, capped at max + 1. */
function osa(a, b, max) {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev2 = null;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, prev2[j - 2] + 1);
      }
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > max) return max + 1;
    prev2 = prev;
    prev = row;
  }
  return prev[b.length];
}

function varints(bytes) {
  let p = 0;
  const next = () => {
    let v = 0, scale = 1, b;
    do {
      b = bytes[p++];
      v += (b & 0x7f) * scale;
      scale *= 128;
    } while (b & 0x80);
    return v;
  };
  return { next, byte: () => bytes[p++], get pos() { return p; }, skip(n) { p += n; } };
}

/** Decodes `df` delta-coded doc numbers (facet files). */
function readDocs(r, n) {
  const docs = new Int32Array(n);
  for (let k = 0, doc = 0; k < n; k++) docs[k] = doc += r.next();
  return docs;
}

/**
 * Decodes a term chunk (§6) into a Map from term to `[postings of field i or undefined]`;
 * postings are `{docs, tfs, norms}`, `norms` the fieldnorm ids when inline (df <= inlineDf).
 */
function readChunk(bytes, inlineDf) {
  const r = varints(bytes);
  const terms = new Map();
  while (r.pos < bytes.length) {
    const len = r.next();
    const term = utf8.decode(bytes.subarray(r.pos, r.pos + len));
    r.skip(len);
    const mask = r.byte();
    const fields = [];
    for (let f = 0; f < 8; f++) {
      if (!(mask & (1 << f))) continue;
      const df = r.next();
      const docs = new Int32Array(df), tfs = new Int32Array(df);
      for (let k = 0, doc = 0; k < df; k++) {
        const v = r.next();
        doc = k ? doc + Math.floor(v / 2) : Math.floor(v / 2);
        docs[k] = doc;
        tfs[k] = v % 2 ? r.next() : 1;
      }
      let norms = null;
      if (df <= inlineDf) {
        norms = bytes.subarray(r.pos, r.pos + df);
        r.skip(df);
      }
      fields[f] = { docs, tfs, norms };
    }
    terms.set(term, fields);
  }
  return terms;
}

export class SearchIndex {
  constructor(baseUrl, meta, io = {}) {
    this.baseUrl = baseUrl;
    this.meta = meta;
    this.fetchBytes = io.fetchBytes ?? (async (url) => {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`cannot fetch \`${url}\`: HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    });
    this.fetchText = io.fetchText ?? (async (url) => utf8.decode(await this.fetchBytes(url)));
    this.fetched = []; // every URL fetched, for benchmarks
    this.bytesFetched = 0;
    this.cache = new Map(); // key -> Promise of a file or of decoded data
  }

  /**
   * Loads `meta.json` from `baseUrl` (ending in `search/`); everything else is fetched when
   * a query needs it. `io.fetchBytes(url)` / `io.fetchText(url)` replace `fetch` (tests).
   */
  static async load(baseUrl, io = {}) {
    const index = new SearchIndex(baseUrl, null, io);
    const meta = JSON.parse(await index.file('meta.json', true));
    if (meta.format !== 2 || meta.analyzer !== 'kb_en-1') {
      throw new Error(`unsupported search index \`${meta.format}\`/\`${meta.analyzer}\`; expected 2/kb_en-1`);
    }
    index.meta = meta;
    return index;
  }

  /** A file under `search/`, fetched once (again after a failure). */
  file(path, text = false) {
    const url = this.baseUrl + path;
    return this.cached(`file:${path}`, () => (text ? this.fetchText : this.fetchBytes)(url).then((data) => {
      this.fetched.push(url);
      this.bytesFetched += text ? utf8Length(data) : data.length;
      return data;
    }));
  }

  /** The promise of `make()`, made once per key; forgotten if it fails, to retry. */
  cached(key, make) {
    if (!this.cache.has(key)) {
      this.cache.set(key, make().catch((e) => { this.cache.delete(key); throw e; }));
    }
    return this.cache.get(key);
  }

  /** The postings of a term: `[field i] -> {docs, tfs}`, or undefined when absent. */
  async postings(term) {
    const { dir, first } = this.meta.chunks;
    let lo = 0, hi = first.length; // finds the last chunk whose `first` <= term, in bytes
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareBytes(first[mid], term) <= 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return undefined;
    const chunk = `${dir}${lo - 1}.bin`;
    const inlineDf = this.meta.inline_norms_df ?? -1;
    return (await this.cached(chunk, async () => readChunk(await this.file(chunk), inlineDf))).get(term);
  }

  /** Per fieldnorm id, the BM25 length normalisation of field `f`: `K1 * (1 - B + B * len / avg)`. */
  normTable(f) {
    return this.cachedNow(`norm-table:${f}`, () => {
      const { k1, b, n_docs: n, fieldnorm_table: table } = this.meta;
      const avg = f32(f32(this.meta.fields[f].total_tokens) / f32(n));
      const byId = new Float32Array(256);
      for (let i = 0; i < 256; i++) {
        byId[i] = f32(f32(k1) * f32(f32(1 - f32(b)) + f32(f32(f32(b) * f32(table[i])) / avg)));
      }
      return byId;
    });
  }

  /** Per document, the fieldnorm id of field `f` (its norm file). */
  norms(f) {
    const path = this.meta.fields[f].norms;
    return this.file(path);
  }

  /** `make()`, computed once per key (synchronous). */
  cachedNow(key, make) {
    if (!this.cache.has(key)) this.cache.set(key, make());
    return this.cache.get(key);
  }

  /** The documents of each value of a facet, in `meta.facets` order; null if no such facet. */
  async facet(name) {
    const facet = this.meta.facets.find((x) => x.name === name);
    if (!facet) return null;
    return this.cached(facet.file, async () => {
      const r = varints(await this.file(facet.file));
      return facet.values.map((v) => ({ ...v, docs: readDocs(r, r.next()) }));
    });
  }

  /** The fragment of document `doc` (§6): `{id, url, title, date, …, summary, text}`. */
  fragment(doc) {
    const path = `${this.meta.fragments}${doc}.json`;
    return this.cached(path, async () => JSON.parse(await this.file(path, true)));
  }

  /** The typo vocabulary of a first character (§5): `[[word, df]]`, empty if none. */
  async vocabulary(first) {
    const path = this.meta.typo[first];
    if (!path) return [];
    return this.cached(path, async () => (await this.file(path, true)).split('\n')
      .filter(Boolean).map((line) => { const [w, df] = line.split('\t'); return [w, Number(df)]; }));
  }

  /** Concept ids of a term sequence (§2): longest phrase first, then the first concept. */
  concepts(terms) {
    const ids = [];
    for (let i = 0; i < terms.length;) {
      let best = null, len = 0;
      for (const c of this.meta.concepts) {
        for (const p of c.phrases) {
          if (p.length > len && p.every((t, k) => terms[i + k] === t)) { best = c.id; len = p.length; }
        }
      }
      if (best === null) { i++; continue; }
      if (!ids.includes(best)) ids.push(best);
      i += len;
    }
    return ids;
  }

  /** Analyzes a parsed query and fetches the postings of all its terms. */
  async prepare(parsed) {
    const items = parsed.items.map((item) => ({
      ...item, terms: item.kind === 'filter' ? [] : [...new Set(analyze(item.text).map((t) => t.term))],
      required: requiredTerms(item.text),
    }));
    const terms = scoringTerms(parsed);
    const concepts = this.concepts(termSequence(parsed));
    const postings = new Map();
    const all = [...new Set([...items.flatMap((i) => i.terms), ...concepts])];
    await Promise.all(all.map(async (t) => postings.set(t, await this.postings(t))));
    return { items, terms, concepts, postings };
  }

  /**
   * Typo corrections (§5) of a prepared query: lowercased run → correction, for each
   * alphabetic run of 3+ characters of a plain word none of whose terms is in a text field.
   */
  async corrections(q) {
    const fixes = new Map();
    const inText = (t) => (q.postings.get(t) ?? []).slice(0, TEXT_FIELDS).some(Boolean);
    for (const item of q.items) {
      if (item.kind !== 'word') continue;
      for (const [run] of item.text.matchAll(RUN)) {
        const word = lower(run);
        if ([...run].length < 3 || !ALPHABETIC.test(run) || fixes.has(word) ||
            analyze(run).some((t) => inText(t.term))) continue;
        const chars = [...word];
        const max = chars.length <= 5 ? 1 : 2;
        let best = null;
        for (const [w, df] of await this.vocabulary(chars[0])) {
          const d = osa(chars, [...w], max);
          if (d <= max && (!best || d < best.d || (d === best.d && (df > best.df ||
              (df === best.df && compareBytes(w, best.w) < 0))))) best = { w, d, df };
        }
        if (best && best.w !== word) fixes.set(word, best.w);
      }
    }
    return fixes;
  }

  /** Documents that contain every term in some text field (phrases, exclusions). */
  containingAll(q, terms, n) {
    const count = new Uint16Array(n);
    for (const t of terms) {
      const seen = new Uint8Array(n);
      for (const p of (q.postings.get(t) ?? []).slice(0, TEXT_FIELDS)) {
        if (p) for (const d of p.docs) seen[d] = 1;
      }
      for (let d = 0; d < n; d++) count[d] += seen[d];
    }
    return (d) => count[d] === terms.length;
  }

  /** BM25 (§4) in f32, summed over terms × text fields and concepts, in that order. */
  async score(q) {
    const { n_docs: n, fields } = this.meta;
    const scores = new Float32Array(n);
    const matched = new Uint8Array(n);
    const clauses = [];
    for (const t of q.terms) {
      for (let f = 0; f < TEXT_FIELDS; f++) clauses.push([f, q.postings.get(t)?.[f]]);
    }
    for (const c of q.concepts) clauses.push([TEXT_FIELDS, q.postings.get(c)?.[TEXT_FIELDS]]);
    const live = clauses.filter(([, p]) => p);
    // A norm file only for fields where some postings do not carry their norms inline.
    const files = await Promise.all(fields.map((_, f) => live.some(([g, p]) => g === f && !p.norms) ? this.norms(f) : null));
    const k1 = f32(this.meta.k1);
    for (const [f, { docs, tfs, norms }] of live) {
      const df = docs.length;
      const idf = f32(Math.log(f32(1 + f32(f32(f32(n - df) + 0.5) / f32(f32(df) + 0.5)))));
      let weight = f32(idf * f32(1 + k1));
      if (fields[f].boost !== 1) weight = f32(weight * f32(fields[f].boost));
      const table = this.normTable(f);
      for (let k = 0; k < df; k++) {
        const d = docs[k], tf = tfs[k];
        const norm = table[norms ? norms[k] : files[f][d]];
        scores[d] += f32(weight * f32(tf / f32(tf + norm)));
        matched[d] = 1;
      }
    }
    return { scores, matched };
  }

  /**
   * Runs a query (§3-5, §8). `filters` ({field: [values]}) add to those in the query;
   * `facets: false` skips the facet counts (and their files when no filter needs them).
   * Returns `{query, correctedQuery, corrected: [{from, to}], terms, concepts, total,
   * hits: [{doc, score}], facets: {name: [{value, label, count}]}, error}`; a refused query
   * has an `error` string and no hits. Never throws for a bad query, only for a failed fetch.
   */
  async search(query, { limit = 10, offset = 0, filters = {}, facets = true } = {}) {
    const result = {
      query, correctedQuery: null, corrected: [], terms: [], concepts: [],
      total: 0, hits: [], facets: {}, error: null,
    };
    let parsed = parseQuery(query);
    if (parsed.error) return { ...result, error: parsed.error };
    let q = await this.prepare(parsed);
    const fixes = await this.corrections(q);
    if (fixes.size) {
      const text = rewrite(parsed, (run) => fixes.get(run));
      parsed = parseQuery(text);
      if (parsed.error) return { ...result, error: parsed.error };
      q = await this.prepare(parsed);
      result.correctedQuery = text;
      result.corrected = [...fixes].sort(([a], [b]) => compareBytes(a, b)).map(([from, to]) => ({ from, to }));
    }
    result.terms = q.terms;
    result.concepts = q.concepts;

    const n = this.meta.n_docs;
    const { scores, matched } = await this.score(q);

    const chosen = {};
    for (const [field, values] of [...Object.entries(parsed.filters), ...Object.entries(filters)]) {
      for (const v of [].concat(values)) (chosen[field] ??= new Set()).add(lower(String(v)));
    }
    // Without scoring terms or concepts every document matches, at score 0; listed only if a
    // filter narrows them, but counted in the facets either way (§3, §8).
    const listAll = !q.terms.length && !q.concepts.length;
    if (listAll) matched.fill(1);
    for (const item of q.items) {
      if (item.kind !== 'phrase' && item.kind !== 'exclude' || !item.required.length) continue;
      const has = this.containingAll(q, item.required, n);
      const keep = item.kind === 'phrase'; // phrases are required, exclusions dropped
      for (let d = 0; d < n; d++) if (matched[d] && has(d) !== keep) matched[d] = 0;
    }

    // Disjunctive facets (§8): per document, how many filter fields reject it, and which.
    const failures = new Uint8Array(n);
    const failedField = new Int8Array(n).fill(-1);
    const fieldNames = Object.keys(chosen);
    for (const [i, field] of fieldNames.entries()) {
      const values = await this.facet(field);
      if (!values) {
        const known = this.meta.facets.map((x) => x.name).join(', ');
        return { ...result, error: `cannot filter by \`${field}\` here; filters: ${known}` };
      }
      const allowed = new Uint8Array(n);
      for (const v of values) if (chosen[field].has(v.value)) for (const d of v.docs) allowed[d] = 1;
      for (let d = 0; d < n; d++) if (!allowed[d]) { failures[d]++; failedField[d] = i; }
    }
    if (facets) {
      for (const { name } of this.meta.facets) {
        const i = fieldNames.indexOf(name);
        const counted = (await this.facet(name)).map(({ value, label, docs }) => {
          let count = 0;
          for (const d of docs) count += matched[d] && (!failures[d] || (failures[d] === 1 && failedField[d] === i));
          return { value, label, count };
        });
        result.facets[name] = counted.filter((v) => v.count || chosen[name]?.has(v.value))
          .sort((a, b) => b.count - a.count || compareBytes(a.value, b.value));
      }
    }

    const hits = [];
    if (!listAll || fieldNames.length) {
      for (let d = 0; d < n; d++) if (matched[d] && !failures[d]) hits.push(d);
    }
    hits.sort((a, b) => scores[b] - scores[a] || a - b);
    result.total = hits.length;
    result.hits = hits.slice(offset, offset + limit).map((doc) => ({ doc, score: scores[doc] }));
    return result;
  }

  /**
   * The snippet of a fragment's text for a result (§7): its scoring `terms`, and the
   * phrases of its `concepts` (ids).
   */
  snippet(text, terms, concepts = []) {
    const phrases = this.meta.concepts.filter((c) => concepts.includes(c.id)).flatMap((c) => c.phrases);
    return snippet(text, terms, phrases);
  }
}

/**
 * What to highlight in `tokens` (§7), in text order: scanning left to right, the longest
 * concept phrase starting at a token is one mark from its first token to its last, and the
 * scan moves past it; otherwise a token whose term is a scoring term is a mark.
 * `[{start, end, key}]`, `key` being what the mark counts as when windows are compared.
 */
function marks(tokens, terms, phrases) {
  const out = [];
  for (let i = 0; i < tokens.length;) {
    let longest = null;
    for (const p of phrases) {
      if (p.length && (!longest || p.length > longest.length) && i + p.length <= tokens.length &&
          p.every((w, k) => tokens[i + k].term === w)) longest = p;
    }
    if (longest) {
      const within = tokens.slice(i, i + longest.length);
      out.push({ start: within[0].start, end: Math.max(...within.map((t) => t.end)), key: `${longest.join(' ')}\0` });
      i += longest.length;
      continue;
    }
    if (terms.includes(tokens[i].term)) out.push({ start: tokens[i].start, end: tokens[i].end, key: tokens[i].term });
    i++;
  }
  return out;
}

/**
 * Cuts a snippet of `text` around the scoring `terms` and concept `phrases` (term arrays)
 * (§7), like the CLI: `[{text, mark}]`. The caller renders them as text nodes, marked ones
 * inside `<mark>`.
 */
export function snippet(text, terms, phrases = []) {
  const at = byteOffsets(text); // UTF-16 offset -> UTF-8 offset: windows are in bytes
  const marked = marks(analyze(text), terms, phrases);
  let best = null, most = -1; // the window with the most distinct marked terms, the first
  for (const [i, first] of marked.entries()) {
    const distinct = new Set();
    for (const t of marked.slice(i)) {
      if (at[t.end] - at[first.start] > SNIPPET_BYTES) break;
      distinct.add(t.key);
    }
    if (distinct.size > most) { best = first; most = distinct.size; }
  }
  const boundary = (i) => (i > 0 && i < text.length && /[\udc00-\udfff]/.test(text[i]) ? i - 1 : i);
  let start = 0;
  if (best) { // a little context: back 30 bytes, then on to the next word
    start = best.start;
    while (start > 0 && at[start] > at[best.start] - 30) start--;
    start = boundary(start);
    if (start > 0) {
      const space = text.slice(start, best.start).search(SPACE);
      start = space < 0 ? best.start : start + space + 1;
    }
  }
  let end = start;
  while (end < text.length && at[end + 1] - at[start] <= SNIPPET_BYTES) end++;
  if (end < text.length) { // cut at the last space, if any
    end = boundary(end);
    let space = end - 1;
    while (space >= start && !SPACE.test(text[space])) space--;
    if (space >= start) end = space;
  }
  const pieces = [];
  const push = (piece, mark) => {
    if (!piece) return;
    if (!mark) piece = piece.replace(/[\n\r\t]/g, ' ');
    if (pieces.at(-1)?.mark === mark) pieces.at(-1).text += piece;
    else pieces.push({ text: piece, mark });
  };
  if (start > 0) push('…', false);
  let last = start;
  for (const t of marked) {
    if (t.start < last || t.end > end) continue;
    push(text.slice(last, t.start), false);
    push(text.slice(t.start, t.end), true);
    last = t.end;
  }
  push(text.slice(Math.min(last, end), end), false);
  if (end < text.length) push('…', false);
  return pieces;
}
