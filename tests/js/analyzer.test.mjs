// The browser's analyzer and query parser against docs/search.md §1-3, and the vendored
// stemmer against the npm package it was copied from. Run: `npm ci && node --test tests/js/`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { stem as npmStem } from 'porter2';
import { stem } from '../../static/vendor/porter2.js';
import {
  analyze, surfaceWords, parseQuery, scoringTerms, snippet, compareBytes, SearchIndex,
} from '../../static/search-core.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function markdownFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return markdownFiles(path);
    return e.name.endsWith('.md') ? [path] : [];
  });
}

/** Words of the repo's content and docs, plus generated English-like derivations. */
function wordList() {
  const words = new Set();
  const sources = [...markdownFiles(join(root, 'content')), ...markdownFiles(join(root, 'docs')),
    join(root, 'content/symptoms.yaml')];
  for (const file of sources) {
    for (const w of surfaceWords(readFileSync(file, 'utf8'))) words.add(w);
  }
  // Porter2's steps are suffix rules: every root with every suffix exercises all of them.
  const roots = ['connect', 'relat', 'condit', 'ration', 'valen', 'hesit', 'digit', 'conform',
    'radic', 'formal', 'sensit', 'sensibl', 'effect', 'depend', 'adopt', 'commun', 'gener',
    'arsen', 'schedul', 'evict', 'throttl', 'restart', 'replic', 'configur', 'deploy', 'mount',
    'resolv', 'expir', 'certif', 'contain', 'memor', 'oper', 'termin', 'migrat', 'rout', 'hop',
    'fil', 'plan', 'tap', 'cry', 'fly', 'spy', 'luxur', 'happ', 'eas', 'bus', 'ski', 'dy', 'ly',
    'ty', 'emerg', 'intern', 'univers', 'organ', 'past', 'later', 'add', 'err', 'ebb', 'even',
    'proceed', 'exceed', 'succeed', 'inn', 'out', 'can', 'herr', 'earr', 'news', 'atlas',
    'cosmos', 'bias', 'andes', 'gentl', 'idl', 'sing', 'ear', 'on', 'ug', 'y', 'a', 'ab', 'abc'];
  const suffixes = ['', 's', 'es', 'ies', 'ied', "'s", "'", 'ed', 'edly', 'ing', 'ingly', 'eed',
    'eedly', 'ly', 'ness', 'ful', 'ational', 'tional', 'enci', 'anci', 'abli', 'entli', 'izer',
    'ization', 'ation', 'ator', 'alism', 'aliti', 'alli', 'fulness', 'ousli', 'ousness', 'iveness',
    'iviti', 'biliti', 'bli', 'ogi', 'fulli', 'lessli', 'li', 'alize', 'icate', 'iciti', 'ical',
    'ative', 'al', 'ance', 'ence', 'er', 'ic', 'able', 'ible', 'ant', 'ement', 'ment', 'ent',
    'ism', 'ate', 'iti', 'ous', 'ive', 'ize', 'ion', 'sion', 'tion', 'e', 'll', 'y', 'ying',
    'ologist', 'ologists', 'ogy', 'ers', 'ings', 'ations', 'ments', 'ences', 'ously'];
  for (const r of roots) for (const s of suffixes) words.add(r + s);
  return [...words];
}

test('the vendored porter2 stems like npm porter2@1.1.0', () => {
  const words = wordList();
  assert.ok(words.length > 5000, `only ${words.length} words`);
  console.log(`porter2: ${words.length} words compared`);
  const differ = words.filter((w) => stem(w) !== npmStem(w));
  assert.deepEqual(differ, []);
});

const pairs = (text) => analyze(text).map((t) => [t.term, t.position]);

test('identifiers split into parts, then the whole at the last position', () => {
  assert.deepEqual(pairs('OOMKilled pods'), [['oom', 0], ['kill', 1], ['oomkil', 1], ['pod', 2]]);
  assert.deepEqual(pairs('NotReady'), [['not', 0], ['readi', 1], ['notreadi', 1]]);
  assert.deepEqual(pairs('notReady'), [['not', 0], ['readi', 1], ['notreadi', 1]]);
  assert.deepEqual(pairs('CrashLoopBackOff now'), [['crash', 0], ['loop', 1], ['back', 2], ['off', 3],
    ['crashloopbackoff', 3], ['now', 4]]);
  assert.deepEqual(pairs('getHTTPResponse'), [['get', 0], ['http', 1], ['respons', 2], ['gethttprespons', 2]]);
  assert.deepEqual(pairs('ABCdef'), [['ab', 0], ['cdef', 1], ['abcdef', 1]]);
});

test('runs stay whole unless every part has two characters', () => {
  assert.deepEqual(pairs('IPv4 iOS eBPF'), [['ipv4', 0], ['io', 1], ['ebpf', 2]]);
  assert.deepEqual(pairs('iPhone aB'), [['iphon', 0], ['ab', 1]]);
  // Digits are neither upper nor lower case.
  assert.deepEqual(pairs('HTTP2Server x509Cert'), [['http2server', 0], ['x509cert', 1]]);
});

test('separators, digits and codes', () => {
  assert.deepEqual(pairs('kube-proxy'), [['kube', 0], ['proxi', 1]]);
  assert.deepEqual(pairs('10.0.0.1'), [['10', 0], ['0', 1], ['0', 2], ['1', 3]]);
  assert.deepEqual(pairs('exit code 137, HTTP 502!'), [['exit', 0], ['code', 1], ['137', 2],
    ['http', 3], ['502', 4]]);
  assert.deepEqual(pairs('snake_case/path.go'), [['snake', 0], ['case', 1], ['path', 2], ['go', 3]]);
  // Other digits are alphanumeric too: Arabic-Indic (Nd), Roman numerals (Nl), fractions (No).
  assert.deepEqual(pairs('٣٤ Ⅻ ½'), [['٣٤', 0], ['ⅻ', 1], ['½', 2]]);
});

test('tokens of 40 UTF-8 bytes or more are dropped but keep their position', () => {
  const a39 = 'a'.repeat(39), a40 = 'a'.repeat(40), a41 = 'a'.repeat(41);
  assert.deepEqual(pairs(`x ${a39} y`), [['x', 0], [a39, 1], ['y', 2]]);
  assert.deepEqual(pairs(`x ${a40} y`), [['x', 0], ['y', 2]]);
  assert.deepEqual(pairs(`x ${a41} y`), [['x', 0], ['y', 2]]);
  // Bytes, not characters, and before lowercasing: İ is 2 bytes, its lowercase 3.
  assert.equal(analyze('é'.repeat(19) + 'a').length, 1);
  assert.equal(analyze('é'.repeat(20)).length, 0);
  assert.equal(analyze('İ'.repeat(19) + '1').length, 1);
  assert.equal(analyze('İ'.repeat(20)).length, 0);
  assert.equal(analyze('日本語'.repeat(4) + 'の').length, 1); // 39 bytes
  assert.equal(analyze('日本語'.repeat(4) + 'のテ').length, 0); // 42 bytes
  // A split run whose whole is too long keeps its parts.
  const part = 'b'.repeat(25);
  assert.deepEqual(pairs(`${part}Ccccccccccccccccc z`), [[part, 0], ['c'.repeat(17), 1], ['z', 2]]);
});

test('lowercasing is per code point', () => {
  assert.deepEqual(pairs('ΟΔΟΣ'), [['οδοσ', 0]]); // no final sigma ς
  const [istanbul] = analyze('İSTANBUL');
  assert.equal(istanbul.term, stem('i\u0307stanbul'));
  assert.equal([...istanbul.term][1], '\u0307');
  assert.deepEqual(pairs('ǅemal'), [['ǆemal', 0]]); // a titlecase letter is neither upper nor lower
  assert.deepEqual(pairs('日本語のテキスト'), [['日本語のテキスト', 0]]);
});

test('offsets are UTF-16 offsets into the text', () => {
  const text = '𝐀𝐁 OOMKilled, é';
  const tokens = analyze(text);
  assert.deepEqual(tokens.map((t) => text.slice(t.start, t.end)), ['𝐀𝐁', 'OOM', 'Killed', 'OOMKilled', 'é']);
});

test('surface words are the runs, lowercased, before splitting and stemming', () => {
  assert.deepEqual(surfaceWords('Pods OOMKilled; kube-proxy ΟΔΟΣ'), ['pods', 'oomkilled', 'kube', 'proxy', 'οδοσ']);
});

test('queries parse flat, left to right', () => {
  const q = parseQuery('502 "bad gateway" -canary pattern:DNS-ndots x:y');
  assert.deepEqual([q.words, q.phrases, q.excluded, q.filters, q.error],
    [['502', 'x:y'], ['bad gateway'], ['canary'], { pattern: ['dns-ndots'] }, null]);
  assert.deepEqual(scoringTerms(q), ['502', 'bad', 'gateway', 'x', 'y']);
  const f = parseQuery('year:2019 Platform:EKS platform:EKS platform:eks impact:High pattern: -');
  assert.deepEqual(f.filters, { year: ['2019'], platform: ['eks'], impact: ['high'] });
  assert.deepEqual(f.words, ['Platform:EKS', 'pattern:', '-']);
  assert.deepEqual(parseQuery('"open ended').phrases, ['open ended']);
  assert.deepEqual(parseQuery('"a"b "" c').items.map((i) => [i.kind, i.text]),
    [['phrase', 'a'], ['word', 'b'], ['phrase', ''], ['word', 'c']]);
  assert.deepEqual(parseQuery('-kube-proxy -pattern:x').excluded, ['kube-proxy', 'pattern:x']);
  // Terms in query order, de-duplicated.
  assert.deepEqual(scoringTerms(parseQuery('pods "OOMKilled pods" oom')), ['pod', 'oom', 'kill', 'oomkil']);
  // Whitespace is Unicode White_Space, as in Rust.
  assert.deepEqual(parseQuery('a\u00a0b\u3000c\u0085d').words, ['a', 'b', 'c', 'd']);
});

test('query limits: 256 bytes and 16 words, filters not counted', () => {
  assert.equal(parseQuery('a '.repeat(16)).error, null);
  assert.equal(parseQuery('a '.repeat(17)).error, 'query has too many words (17; at most 16)');
  assert.equal(parseQuery(`"${'a '.repeat(10)}" -b -c -d -e -f -g`).error, null);
  assert.match(parseQuery(`"${'a '.repeat(10)}" -b -c -d -e -f -g -h`).error, /too many words \(17;/);
  assert.equal(parseQuery(`${'a '.repeat(16)}year:2019 pattern:x platform:y`).error, null);
  assert.equal(parseQuery('('.repeat(256)).error, null);
  assert.equal(parseQuery('('.repeat(257)).error, 'query too long (257 bytes; at most 256)');
  assert.equal(parseQuery('é'.repeat(128)).error, null);
  assert.equal(parseQuery('é'.repeat(129)).error, 'query too long (258 bytes; at most 256)');
  assert.equal(parseQuery('').error, null);
  // Errors are returned, never thrown, whatever the input.
  for (const q of ['"', '-', ':', '\ud800', '""""', 'a:b:c', '"-x" -"y z"', '\u0000\uffff']) {
    assert.equal(parseQuery(q).error, null, q);
  }
});

test('concepts: the longest phrase at each position, ties to the concept listed first', () => {
  const index = new SearchIndex('', {
    concepts: [
      { id: 'oomkilled', phrases: [['oom'], ['exit', 'code', '137'], ['oom', 'kill', 'oomkil']] },
      { id: 'exits', phrases: [['exit', 'code']] },
      { id: 'oom-again', phrases: [['oom']] },
      { id: 'node-notready', phrases: [['not', 'readi'], ['not', 'readi', 'notreadi']] },
    ],
  });
  const concepts = (q) => index.concepts(scoringTerms(parseQuery(q)));
  assert.deepEqual(concepts('pods exit code 137'), ['oomkilled']);
  assert.deepEqual(concepts('exit code 1'), ['exits']);
  assert.deepEqual(concepts('OOMKilled'), ['oomkilled']);
  assert.deepEqual(concepts('nodes NotReady after OOM'), ['node-notready', 'oomkilled']);
  assert.deepEqual(concepts('code exit'), []);
});

test('snippets mark the window with the most distinct terms', () => {
  const text = 'Intro. Later the pods were OOMKilled on every node.';
  const parts = snippet(text, scoringTerms(parseQuery('oom node')));
  assert.deepEqual(parts.filter((p) => p.mark).map((p) => p.text), ['OOM', 'node']);
  assert.equal(parts.map((p) => p.text).join(''), text);
  // Up to 30 bytes of context before the first match, from the next word on.
  const later = snippet(`Intro words here. ${text}`, ['oom']).map((p) => p.text).join('');
  assert.equal(later, '…Intro. Later the pods were OOMKilled on every node.');
  const long = `${'filler '.repeat(40)}the etcd leader was lost. ${'filler '.repeat(40)}`;
  const cut = snippet(long, ['etcd', 'leader']);
  const shown = cut.map((p) => p.text).join('');
  assert.ok(shown.startsWith('…') && shown.endsWith('…') && shown.includes('etcd leader'), shown);
  assert.ok(Buffer.byteLength(shown) <= 150 + 6, shown);
  assert.deepEqual(snippet('', ['x']), []);
});

test('snippets mark a concept phrase whole, as the CLI does', () => {
  const text = 'The cache ran out of memory twice; memory was fine after.';
  const terms = (q) => analyze(q).map((t) => t.term);
  const marked = (parts) => parts.filter((p) => p.mark).map((p) => p.text);
  assert.deepEqual(marked(snippet(text, terms('oom'), [terms('oom'), terms('out of memory')])), ['out of memory']);
  // A scoring term inside the phrase is part of the phrase's mark.
  assert.deepEqual(marked(snippet(text, terms('memory'), [terms('out of memory')])), ['out of memory', 'memory']);
});

test('UTF-8 byte order, not UTF-16 order', () => {
  // U+FF5E is one UTF-16 unit, U+1F600 two surrogates; in UTF-8 the emoji sorts last.
  assert.ok(compareBytes('\uff5e', '😀') < 0);
  assert.ok('\uff5e' > '😀'); // what JS `<` would say
  assert.ok(compareBytes('a', 'ab') < 0 && compareBytes('b', 'ab') > 0 && compareBytes('x', 'x') === 0);
});
