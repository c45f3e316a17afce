// Shared pieces of the browser end-to-end tests (tests/e2e/*.test.mjs): building a site
// with the debug binary, a static server on 127.0.0.1, Debian's Chromium driven by
// playwright-core, and a watcher that records every console error, page error and failed
// request of a page.
//
// Not a test file itself (node --test runs only `*.test.mjs` here). Each test file
// launches one browser and reuses its pages, so the whole run stays bounded.
//
// Needs BLAMELESS_BIN (scripts/test passes target/debug/blameless) and /usr/bin/chromium
// (scripts/test installs it with apt-get when missing). A missing browser or binary fails
// the test that needs it; nothing is skipped.
import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { gzipSync } from 'node:zlib';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CHROMIUM = process.env.BLAMELESS_CHROMIUM ?? '/usr/bin/chromium';
/** Where the screenshots go (gitignored; CI keeps the folder). */
export const SCREENSHOTS = path.join(REPO, 'artifacts', 'screenshots');

export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 390, height: 844 };

/** Real pairs from eval/queries.yaml: a symptom query and the story it must find. */
export const SYMPTOM_QUERY = { q: '502 during deploys', expect: '2019-ravelin-ingress-502-on-deploy' };
/** A typo query (eval/queries.yaml, kind: typo) and its expected story. */
export const TYPO_QUERY = { q: 'cryptominor', expect: '2019-jw-player-weave-scope-cryptominer', corrected: 'cryptominer' };

/** The blameless binary under test (BLAMELESS_BIN). */
export function binary() {
  const bin = process.env.BLAMELESS_BIN;
  assert.ok(bin, 'BLAMELESS_BIN is not set: cargo build, then '
    + 'BLAMELESS_BIN=target/debug/blameless node --test tests/e2e/');
  assert.ok(existsSync(bin), `BLAMELESS_BIN \`${bin}\` does not exist`);
  return bin;
}

/**
 * Builds this repository's site into a new temp dir and returns `{ out, tmp, root }`.
 * The site root is a copy (site.yaml and content/ only) inside the temp dir, so the
 * build's `.blameless/` cache never lands in the repository and test files running at
 * the same time never share one; the theme is the one embedded in the binary.
 * baseUrl: passed as --base-url; siteYaml: text appended to the copy's site.yaml.
 */
export function buildSite({ baseUrl, siteYaml = '' } = {}) {
  const tmp = mkdtempSync(path.join(tmpdir(), 'blameless-e2e-'));
  const root = path.join(tmp, 'site');
  mkdirSync(root);
  cpSync(path.join(REPO, 'content'), path.join(root, 'content'), { recursive: true });
  writeFileSync(path.join(root, 'site.yaml'), `${readFileSync(path.join(REPO, 'site.yaml'), 'utf8')}${siteYaml}\n`);
  const out = path.join(tmp, 'public');
  const args = ['--root', root, 'build', '-o', out];
  if (baseUrl) args.push('--base-url', baseUrl);
  execFileSync(binary(), args, { stdio: 'pipe' });
  return { out, tmp, root };
}

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.json': 'application/json', '.ndjson': 'application/x-ndjson',
  '.xml': 'application/xml', '.svg': 'image/svg+xml', '.txt': 'text/plain', '.png': 'image/png',
};

/**
 * A static server on 127.0.0.1 (free port) serving `dir` under `prefix` (`/` or `/kb/`),
 * as a static host would: `x/` → `x/index.html`, unknown paths → 404.html with status 404.
 * Every request is logged as `{ status, path }` in `.log`. `dir` may be set after start
 * (`.dir = …`), so a site can be built with the server's own address as base_url.
 */
export async function serve(prefix = '/', dir = null) {
  const state = { dir, log: [] };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const send = (status, file) => {
      state.log.push({ status, path: url.pathname });
      if (!file) { res.writeHead(status); res.end(); return; }
      res.writeHead(status, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      createReadStream(file).pipe(res);
    };
    let rel;
    try { rel = decodeURIComponent(url.pathname); } catch { send(400); return; }
    if (!rel.startsWith(prefix)) { send(404); return; }
    let file = path.join(state.dir, rel.slice(prefix.length));
    if (!file.startsWith(state.dir)) { send(403); return; }
    try {
      if (statSync(file).isDirectory()) file = path.join(file, 'index.html');
      if (statSync(file).isFile()) { send(200, file); return; }
    } catch { /* missing: the 404 page below */ }
    const notFound = path.join(state.dir, '404.html');
    send(404, existsSync(notFound) ? notFound : null);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    url: origin + prefix,
    get log() { return state.log; },
    set dir(d) { state.dir = d; },
    close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(ok); }),
  };
}

/** A site built with the server's own address as base_url and served by it. */
export async function servedSite({ prefix = '/', siteYaml } = {}) {
  const server = await serve(prefix);
  const built = buildSite({ baseUrl: server.url, siteYaml });
  server.dir = built.out;
  return {
    ...built, server, url: server.url, origin: server.origin,
    close: async () => { await server.close(); rmSync(built.tmp, { recursive: true, force: true }); },
  };
}

/**
 * A test file's fixtures: before its tests, a served site (`servedSite(options)`) and a
 * browser, handed to `ready(site, browser)`; both closed after its tests.
 */
export function siteAndBrowser(options, ready) {
  let site;
  let browser;
  before(async () => {
    site = await servedSite(options);
    browser = await launch();
    ready(site, browser);
  });
  after(async () => {
    await browser?.close();
    await site?.close();
  });
}

/** Debian's Chromium, headless, through playwright-core. */
export async function launch() {
  assert.ok(existsSync(CHROMIUM), `no browser at ${CHROMIUM}: install it with `
    + '`apt-get install -y chromium` (bash scripts/test does this on a fresh machine)');
  const { chromium } = await import('playwright-core');
  // playwright-core gives every launch a new empty profile directory (its own
  // --user-data-dir) and removes it on close.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
}

/**
 * Records what went wrong on a page: console errors, uncaught page errors, failed
 * requests and responses with status >= 400. `problems()` lists them; `reset()` clears.
 * `allow(url)` lets a test accept an error status it asked for (the 404 page's own 404).
 */
export function watch(page) {
  let list = [];
  let allowedUrl = () => false;
  const allowed = (r) => allowedUrl(r.url());
  page.on('console', (m) => {
    if (m.type() === 'error' && !allowedUrl(m.location().url)) list.push(`console error on ${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => list.push(`page error on ${page.url()}: ${e.message}`));
  page.on('requestfailed', (r) => {
    // Leaving a page cancels what it still loads (the favicon, often): net::ERR_ABORTED
    // is the browser's doing, not the site's. A missing file still shows as its status.
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') list.push(`request failed: ${r.url()} (${r.failure()?.errorText})`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400 && !allowed(r)) list.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return {
    problems: () => list,
    reset() { list = []; allowedUrl = () => false; },
    /** Accepts an error status (and its console message) for this one URL. */
    allow(url) { allowedUrl = (u) => u === url; },
  };
}

/** Types into the focused element one key at a time, as a person does. */
export async function typeSlowly(page, text) {
  await page.keyboard.type(text, { delay: 30 });
}

/** Relative luminance contrast ratio (WCAG 2) of two `rgb(…)` colours. */
export function contrast(a, b) {
  const lum = (css) => {
    const [r, g, bl] = css.match(/[\d.]+/g).slice(0, 3).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

export function ensureScreenshotDir() {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return SCREENSHOTS;
}

/**
 * What a first visit to `url` downloads, in a fresh context (empty cache), by kind:
 * `html`, `css`, `js`, `data` (fetches: the search index), `other` (favicon), each
 * `{ files, raw, gzip }` (gzip: zlib level 6, as a static host would send it), and
 * `total` = HTML + CSS + JS. `settle(page)` waits for what the page loads after `load`
 * (search results).
 */
export async function pageWeight(browser, url, { settle = null, viewport = DESKTOP } = {}) {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const bodies = [];
  page.on('response', (r) => bodies.push(r.body().then((b) => ({ type: r.request().resourceType(), b }), () => null)));
  try {
    await page.goto(url, { waitUntil: 'load' });
    if (settle) await settle(page);
    await page.waitForLoadState('networkidle');
    const kinds = { document: 'html', stylesheet: 'css', script: 'js', fetch: 'data', xhr: 'data' };
    const out = Object.fromEntries(['html', 'css', 'js', 'data', 'other', 'total'].map((k) => [k, { files: 0, raw: 0, gzip: 0 }]));
    for (const got of await Promise.all(bodies)) {
      if (!got) continue;
      const kind = kinds[got.type] ?? 'other';
      const gz = got.b[0] === 0x1f && got.b[1] === 0x8b ? got.b.length : gzipSync(got.b, { level: 6 }).length;
      for (const k of ['html', 'css', 'js'].includes(kind) ? [kind, 'total'] : [kind]) {
        out[k].files += 1;
        out[k].raw += got.b.length;
        out[k].gzip += gz;
      }
    }
    return out;
  } finally {
    await context.close();
  }
}
