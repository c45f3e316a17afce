// The search interface of the default theme: the header box on every page (live results
// in a small panel under it) and the search page (`/search/`: results, snippets, facet
// filters, the query in the URL). The ranking lives in search-core.js (docs/search.md);
// this module only draws. Rules it keeps:
// - DOM is built with createElement/textContent only: index data and the query are text,
//   never markup (the theme's CSP has no 'unsafe-inline' and content arrives by PR).
// - Links respect the site's base path (`data-base-path` on <body>); the index lives at
//   `data-search-index` (`<base_path>search/`).
// - A response that arrives after a newer query started is dropped.
// - search-core.js is imported on first use, not on every page load, with this module's
//   own `?v=` (the build hashes both files into it), so a new engine busts the cache.
// - Served by `blameless serve`, queries go to `/api/search` instead (ApiSearch, below),
//   with the same visible result.

const DEBOUNCE_MS = 100;
const PANEL_LIMIT = 5;
const PAGE_SIZE = 10;
const FACET_VISIBLE = 6;
const FACETS = [
  ['pattern', 'Failure pattern'],
  ['symptom', 'Symptom'],
  ['platform', 'Platform'],
  ['year', 'Year'],
];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];

const body = document.body;
const basePath = body.dataset.basePath ?? new URL('.', import.meta.url).pathname;
const indexUrl = body.dataset.searchIndex ?? `${basePath}search/`;
const searchUrl = body.dataset.searchUrl ?? `${basePath}search/`;

// ---------------------------------------------------------------- the index, loaded once

let loading = null;
let staticLoading = null;

/** search-core.js, imported with this module's own `?v=`. */
function core() {
  return import(new URL(`./search-core.js${new URL(import.meta.url).search}`, import.meta.url).href);
}

/** The static index, loaded on first use; a failed load is retried on the next call. */
function staticIndex() {
  staticLoading ??= core().then(({ SearchIndex }) => SearchIndex.load(indexUrl));
  staticLoading.catch(() => { staticLoading = null; });
  return staticLoading;
}

/** The search engine: the server's API under `blameless serve`, else the static index. */
function getIndex() {
  loading ??= live ? core().then(({ parseQuery }) => new ApiSearch(parseQuery)) : staticIndex();
  loading.catch(() => { loading = null; });
  return loading;
}

// ---------------------------------------------------------------- served live: /api/search

// `blameless serve` adds `<meta name="blameless-serve">` to the <head> of the pages it
// serves; a built site never has it, and content cannot reach <head> (a tag in the body
// stays in the body). There, queries go to the server's tantivy index, which follows
// every save; ApiSearch stands in for SearchIndex (same `search`, `fragment`, `snippet`)
// and draws from the JSON of `blameless search --json` (docs/search.md §9). A query the
// API cannot answer (index not built yet, server gone, a page past its limits) runs on
// the static index instead.
const live = document.head.querySelector('meta[name="blameless-serve"]') !== null;
const API_LIMIT = 100; // MAX_LIMIT and MAX_OFFSET of src/search/query.rs
const API_OFFSET = 1000;

/** `escaped <mark>x</mark> text` (the API's snippets) → `[{text, mark}]`, no markup parsed. */
function unmark(html) {
  const text = (s) => s.replace(/&(lt|gt|quot|#x27|amp);/g,
    (_, e) => ({ lt: '<', gt: '>', quot: '"', '#x27': "'", amp: '&' })[e]);
  return html.split(/(<mark>[^<]*<\/mark>)/).filter(Boolean).map((part) => (part.startsWith('<mark>')
    ? { text: text(part.slice(6, -7)), mark: true } : { text: text(part), mark: false }));
}

class ApiSearch {
  constructor(parseQuery) {
    this.parseQuery = parseQuery;
    this.cuts = new WeakMap(); // a result's `terms` → its text → snippet parts
  }

  async search(query, { limit = 10, offset = 0, filters = {}, facets = true } = {}) {
    const parsed = this.parseQuery(query);
    const none = { query, correctedQuery: null, corrected: [], terms: [], concepts: [], total: 0,
      hits: [], facets: {}, error: null };
    if (parsed.error) return { ...none, error: parsed.error };
    const pages = [];
    for (let at = offset; at < offset + limit; at += API_LIMIT) {
      const page = at <= API_OFFSET
        ? await this.fetch(query, filters, at, Math.min(API_LIMIT, offset + limit - at)) : null;
      if (!page) {
        this.fallback = await staticIndex();
        return this.fallback.search(query, { limit, offset, filters, facets });
      }
      pages.push(page);
      if (page.error || page.results.length < API_LIMIT) break;
    }
    const first = pages[0];
    if (first.error) return { ...none, error: first.error };
    const res = {
      query, correctedQuery: first.corrected_query, corrected: first.corrected,
      terms: first.terms, concepts: first.concepts, total: first.total,
      hits: [], facets: facets ? first.facets : {}, error: null,
    };
    const cuts = new Map();
    for (const r of pages.flatMap((p) => p.results)) {
      const url = new URL(r.url, window.location.href).pathname;
      const frag = {
        id: r.id, url: url.startsWith(basePath) ? url.slice(basePath.length) : url,
        title: r.title, date: r.date, organization: r.organization,
        text: unmark(r.snippet).map((p) => p.text).join(''),
        patterns: r.patterns.map((v) => [v, label(first.facets.pattern, v)]),
        symptoms: r.symptoms.map((v) => [v, label(first.facets.symptom, v)]),
      };
      cuts.set(frag.title, unmark(r.title_html));
      cuts.set(frag.text, unmark(r.snippet));
      res.hits.push({ doc: frag, score: r.score });
    }
    this.cuts.set(res.terms, cuts);
    return res;
  }

  /** One page of results from the API; null when it cannot answer. */
  async fetch(q, filters, offset, limit) {
    const params = new URLSearchParams({ q, limit: String(limit), offset: String(offset) });
    for (const [name] of FACETS) for (const v of filters[name] ?? []) params.append(name, v);
    try {
      const answer = await fetch(`/api/search?${params}`, { headers: { Accept: 'application/json' } });
      if (answer.ok || answer.status === 400) return await answer.json();
    } catch (e) {
      if (!this.warned) console.warn('blameless search: the search API did not answer; using the static index.', e);
      this.warned = true;
    }
    return null;
  }

  async fragment(doc) {
    return typeof doc === 'number' ? (await staticIndex()).fragment(doc) : doc;
  }

  snippet(text, terms, concepts) {
    const cuts = this.cuts.get(terms);
    if (!cuts && this.fallback) return this.fallback.snippet(text, terms, concepts);
    return cuts?.get(text) ?? [{ text, mark: false }];
  }
}

function label(values, value) {
  return values?.find((v) => v.value === value)?.label ?? value;
}

/** Runs `fn` `ms` after the last call; `.cancel()` drops a pending call. */
function debounce(fn, ms) {
  let timer = 0;
  const call = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  call.cancel = () => clearTimeout(timer);
  return call;
}

// ---------------------------------------------------------------- small DOM builders

/** `el('p', {className: 'x'}, 'text', child…)`: properties, then text or nodes. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k in node && k !== 'role' && !k.startsWith('aria')) node[k] = v;
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

/** `2019-03-10` → `10 March 2019` (the site's own date form). */
function humanDate(iso) {
  const [y, m, d] = String(iso ?? '').split('-');
  if (!m) return y ?? '';
  const month = MONTHS[Number(m) - 1] ?? m;
  return d ? `${Number(d)} ${month} ${y}` : `${month} ${y}`;
}

/**
 * Appends `text` to `node` with the scoring terms and concept phrases of result `res` in `<mark>`, as the engine cuts it
 * (a window around the best matches, `…` where text is left out). With `whole`, a text
 * the engine would cut is appended plain instead.
 */
function appendMarked(node, index, text, res, whole = false) {
  const parts = index.snippet(text ?? '', res.terms, res.concepts);
  if (whole && parts.map((p) => p.text).join('') !== text) {
    node.append(text ?? '');
    return;
  }
  for (const p of parts) node.append(p.mark ? el('mark', {}, p.text) : p.text);
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/** Text-entry fields, where `/` is a character and not the search shortcut. */
function isTyping(target) {
  return target instanceof Element && (target.isContentEditable || target.matches(
    'textarea, select, input:not([type=checkbox]):not([type=radio]):not([type=button])'
    + ':not([type=submit]):not([type=reset]):not([type=range]):not([type=color])'));
}

/** The search page URL running `q` with `filters`. */
function pageUrl(q, filters = {}) {
  const params = new URLSearchParams();
  if (q) params.set('q', q);
  for (const [name] of FACETS) for (const v of filters[name] ?? []) params.append(name, v);
  const query = params.toString();
  return query ? `${searchUrl}?${query}` : searchUrl;
}

// ---------------------------------------------------------------- the header box

/** Live results under the header box of every page but the search page. */
function headerSearch(form) {
  const input = form.querySelector('input[name=q]');
  const panel = form.querySelector('.search-panel');
  const message = panel.querySelector('.search-panel-message');
  const list = panel.querySelector('[role=listbox]');
  const status = form.querySelector('[role=status]');
  let seq = 0;
  let active = -1;

  const options = () => [...list.querySelectorAll('[role=option]')];

  function setActive(i) {
    const opts = options();
    active = i < 0 || i >= opts.length ? -1 : i;
    opts.forEach((o, k) => {
      o.classList.toggle('is-active', k === active);
      o.setAttribute('aria-selected', String(k === active));
    });
    if (active >= 0) {
      input.setAttribute('aria-activedescendant', opts[active].id);
      opts[active].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function open(show) {
    panel.hidden = !show;
    input.setAttribute('aria-expanded', String(show && !list.hidden));
    if (!show) setActive(-1);
  }

  function say(text, visible = true) {
    message.textContent = text;
    message.hidden = !visible || !text;
    status.textContent = text;
  }

  async function run() {
    const q = input.value.trim();
    const mine = ++seq;
    if (!q) {
      list.replaceChildren();
      say('', false);
      open(false);
      return;
    }
    let index, res, frags;
    try {
      if (!loading) say('Loading the search index…');
      index = await getIndex();
      if (mine !== seq) return;
      res = await index.search(q, { limit: PANEL_LIMIT, facets: false });
      if (mine !== seq) return;
      frags = await Promise.all(res.hits.map((h) => index.fragment(h.doc)));
    } catch (e) {
      if (mine !== seq) return;
      list.replaceChildren();
      list.hidden = true;
      say('Search is unavailable: the index could not be loaded.');
      open(true);
      console.warn('blameless search:', e);
      return;
    }
    if (mine !== seq) return;
    list.replaceChildren();
    if (res.error) {
      list.hidden = true;
      say(`Cannot search for that: ${res.error}.`);
      open(true);
      return;
    }
    if (res.total === 0) {
      list.hidden = true;
      say(`No story matches “${q}”.`);
      open(true);
      return;
    }
    frags.forEach((f, i) => {
      const meta = [f.organization, humanDate(f.date)].filter(Boolean).join(' · ');
      const title = el('span', { className: 'search-option-title' });
      appendMarked(title, index, f.title, res, true);
      const snippet = el('span', { className: 'search-option-snippet' });
      appendMarked(snippet, index, f.text, res);
      list.append(el('a', {
        className: 'search-option', id: `bl_site-search-option-${i}`, role: 'option',
        'aria-selected': 'false', href: basePath + f.url, tabIndex: -1,
      }, title, el('span', { className: 'search-option-meta' }, meta), snippet));
    });
    const all = res.total === 1 ? 'Open on the search page' : `See all ${res.total} results`;
    list.append(el('a', {
      className: 'search-option search-option-all', id: `bl_site-search-option-${frags.length}`,
      role: 'option', 'aria-selected': 'false', href: pageUrl(q), tabIndex: -1,
    }, all));
    list.hidden = false;
    const corrected = res.corrected.length ? `Showing results for “${res.correctedQuery}”. ` : '';
    message.textContent = corrected;
    message.hidden = !corrected;
    status.textContent = `${corrected}${plural(res.total, 'story matches', 'stories match')}; `
      + 'arrow keys move through them.';
    open(true);
    setActive(-1);
  }

  const later = debounce(run, DEBOUNCE_MS);
  input.addEventListener('focus', () => {
    getIndex().catch(() => {});
    if (input.value.trim() && (list.children.length || !message.hidden)) open(true);
  });
  input.addEventListener('input', later);
  input.addEventListener('keydown', (e) => {
    const n = options().length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (panel.hidden) {
        if (input.value.trim()) { run(); e.preventDefault(); }
        return;
      }
      e.preventDefault();
      if (!n) return;
      if (e.key === 'ArrowDown') setActive(active + 1 >= n ? 0 : active + 1);
      else setActive(active <= 0 ? (active === 0 ? -1 : n - 1) : active - 1);
    } else if (e.key === 'Enter') {
      if (active >= 0 && !panel.hidden) {
        e.preventDefault();
        window.location.assign(options()[active].href);
      } else {
        later.cancel();
      }
    } else if (e.key === 'Escape') {
      if (!panel.hidden) {
        e.preventDefault();
        open(false);
      }
    } else if (e.key === 'Home' || e.key === 'End') {
      setActive(-1);
    }
  });
  // Clicking a result must not blur the box first (Safari does not focus links).
  panel.addEventListener('mousedown', (e) => e.preventDefault());
  form.addEventListener('focusout', (e) => {
    if (!form.contains(e.relatedTarget)) open(false);
  });
  document.addEventListener('click', (e) => {
    if (!form.contains(e.target)) open(false);
  });
  return input;
}

// ---------------------------------------------------------------- the search page

function emptyFilters() {
  return Object.fromEntries(FACETS.map(([name]) => [name, []]));
}

function stateFromUrl() {
  const params = new URLSearchParams(window.location.search);
  const filters = emptyFilters();
  for (const [name] of FACETS) filters[name] = [...new Set(params.getAll(name).filter(Boolean))];
  return { q: params.get('q') ?? '', filters };
}

function searchPage(root) {
  const input = root.querySelector('#bl_search-q');
  const form = input.form;
  const status = root.querySelector('#bl_search-status');
  const notice = root.querySelector('#bl_search-notice');
  const results = root.querySelector('#bl_search-results');
  const moreWrap = root.querySelector('.search-more-wrap');
  const more = root.querySelector('#bl_search-more');
  const suggest = root.querySelector('#bl_search-suggest');
  const filtersBox = root.querySelector('#bl_search-filters');
  const facetsBox = root.querySelector('#bl_search-facets');
  const filtersCount = root.querySelector('.search-filters-count');
  const active = el('ul', { className: 'search-active', 'aria-label': 'Active filters' });
  active.hidden = true;
  notice.before(active);
  const baseTitle = document.title;
  const expanded = new Set(); // facets showing every value
  const wide = window.matchMedia('(min-width: 52rem)');
  filtersBox.open = wide.matches;

  let state = stateFromUrl();
  let shown = PAGE_SIZE;
  let seq = 0;
  // The first change after a load, a submit or a facet click pushes a history entry;
  // later keystrokes replace it, so Back returns to the previous search, not to each
  // letter typed.
  let committed = true;

  function writeUrl(push) {
    const url = pageUrl(state.q.trim(), state.filters);
    if (url === window.location.pathname + window.location.search) return;
    if (push) window.history.pushState(null, '', url);
    else window.history.replaceState(null, '', url);
  }

  function filterCount() {
    return FACETS.reduce((n, [name]) => n + state.filters[name].length, 0);
  }

  function setStatus(text) {
    status.textContent = text;
  }

  function showSuggestions(show) {
    suggest.hidden = !show;
  }

  function clear() {
    results.replaceChildren();
    results.hidden = true;
    moreWrap.hidden = true;
    notice.hidden = true;
  }

  function renderActive(labels) {
    active.replaceChildren();
    for (const [name, title] of FACETS) {
      for (const value of state.filters[name]) {
        const label = labels[name]?.get(value) ?? value;
        const remove = el('button', {
          type: 'button', className: 'search-active-remove',
          'aria-label': `Remove filter ${title}: ${label}`,
        }, el('span', { className: 'search-active-kind' }, `${title}:`), ` ${label} `,
        el('span', { 'aria-hidden': 'true' }, '×'));
        remove.addEventListener('click', () => {
          state.filters[name] = state.filters[name].filter((v) => v !== value);
          change(true);
          input.focus();
        });
        active.append(el('li', {}, remove));
      }
    }
    if (filterCount() > 1) {
      const all = el('button', { type: 'button', className: 'search-active-clear' }, 'Clear all filters');
      all.addEventListener('click', () => {
        state.filters = emptyFilters();
        change(true);
        input.focus();
      });
      active.append(el('li', {}, all));
    }
    active.hidden = filterCount() === 0;
    filtersCount.textContent = filterCount() ? `(${filterCount()})` : '';
  }

  function renderFacets(facets) {
    const focused = document.activeElement;
    const refocus = facetsBox.contains(focused)
      ? (focused.type === 'checkbox' ? `input[name="${focused.name}"][value="${CSS.escape(focused.value)}"]`
        : `[data-toggle="${focused.dataset.toggle}"]`)
      : null;
    facetsBox.replaceChildren();
    let any = false;
    for (const [name, title] of FACETS) {
      let values = [...(facets[name] ?? [])];
      const chosen = state.filters[name];
      for (const v of chosen) {
        if (!values.some((x) => x.value === v)) values.push({ value: v, label: v, count: 0 });
      }
      if (!values.length) continue;
      any = true;
      if (name === 'year') values.sort((a, b) => b.value.localeCompare(a.value));
      const all = expanded.has(name);
      const visible = all ? values : values.filter((v, i) => i < FACET_VISIBLE || chosen.includes(v.value));
      const list = el('ul', { className: 'facet-values' });
      for (const v of visible) {
        const box = el('input', {
          type: 'checkbox', name, value: v.value, checked: chosen.includes(v.value),
          className: 'facet-check',
        });
        box.addEventListener('change', () => {
          const set = new Set(state.filters[name]);
          if (box.checked) set.add(v.value);
          else set.delete(v.value);
          state.filters[name] = [...set];
          change(true);
        });
        list.append(el('li', {}, el('label', { className: 'facet-value' }, box,
          el('span', { className: 'facet-label' }, v.label),
          el('span', { className: 'facet-count' }, String(v.count),
            el('span', { className: 'visually-hidden' }, v.count === 1 ? ' story' : ' stories')))));
      }
      const set = el('fieldset', { className: `facet facet-${name}` },
        el('legend', { className: 'facet-title' }, title), list);
      if (values.length > FACET_VISIBLE) {
        const toggle = el('button', {
          type: 'button', className: 'facet-toggle', dataset: { toggle: name },
          'aria-expanded': String(all),
        }, all ? 'Show fewer' : `Show all ${values.length}`);
        toggle.addEventListener('click', () => {
          if (expanded.has(name)) expanded.delete(name);
          else expanded.add(name);
          renderFacets(facets);
        });
        set.append(toggle);
      }
      facetsBox.append(set);
    }
    filtersBox.hidden = !any;
    if (refocus) facetsBox.querySelector(refocus)?.focus();
  }

  function renderHit(index, f, res) {
    const link = el('a', { href: basePath + f.url });
    appendMarked(link, index, f.title, res, true);
    const meta = el('p', { className: 'card-meta' });
    if (f.organization) {
      meta.append(el('span', { className: 'card-org' }, f.organization),
        el('span', { className: 'sep', 'aria-hidden': 'true' }, '·'));
    }
    meta.append(el('time', { dateTime: f.date }, humanDate(f.date)));
    const snippet = el('p', { className: 'search-snippet' });
    appendMarked(snippet, index, f.text, res);
    const chips = el('div', { className: 'card-chips' });
    for (const [kind, dir, items, label] of [
      ['symptom', 'symptoms', f.symptoms, 'Symptoms'],
      ['pattern', 'patterns', f.patterns, 'Failure patterns'],
    ]) {
      if (!items?.length) continue;
      chips.append(el('ul', { className: `chips chips-${kind}`, 'aria-label': label },
        ...items.map(([slug, title]) => el('li', {}, el('a', {
          className: `chip chip-${kind}`, href: `${basePath}${dir}/${slug}/`,
          dataset: { slug },
        }, title)))));
    }
    return el('li', { className: 'search-result' },
      el('article', { className: 'card incident-card search-hit' },
        el('h3', { className: 'card-title' }, link), meta, snippet,
        chips.children.length ? chips : null));
  }

  async function run({ focusFrom = -1 } = {}) {
    const mine = ++seq;
    const q = state.q.trim();
    document.title = q ? `${q} – ${baseTitle}` : baseTitle;
    if (!q && filterCount() === 0) {
      clear();
      renderActive({});
      filtersBox.hidden = true;
      showSuggestions(true);
      setStatus('');
      return;
    }
    let index, res, frags;
    try {
      if (!loading) {
        setStatus('Loading the search index…');
        showSuggestions(false);
      }
      index = await getIndex();
      if (mine !== seq) return;
      res = await index.search(q, { limit: shown, filters: state.filters });
      if (mine !== seq) return;
      frags = await Promise.all(res.hits.map((h) => index.fragment(h.doc)));
    } catch (e) {
      if (mine !== seq) return;
      clear();
      filtersBox.hidden = true;
      showSuggestions(true);
      setStatus('Search is unavailable: the index could not be loaded. Browse by symptom or pattern below.');
      console.warn('blameless search:', e);
      return;
    }
    if (mine !== seq) return;

    const labels = {};
    for (const [name] of FACETS) {
      labels[name] = new Map((res.facets[name] ?? []).map((v) => [v.value, v.label]));
    }
    renderActive(labels);
    if (res.error) {
      clear();
      filtersBox.hidden = true;
      showSuggestions(false);
      setStatus(`Cannot search for that: ${res.error}.`);
      return;
    }
    renderFacets(res.facets);

    notice.replaceChildren();
    if (res.corrected.length) {
      notice.append('Showing results for ', el('strong', {}, res.correctedQuery ?? ''),
        '. No story contains ', ...res.corrected.flatMap((c, i) => [
          i ? ', ' : '', el('q', {}, c.from)]), '.');
    }
    notice.hidden = !res.corrected.length;

    results.replaceChildren(...frags.map((f) => renderHit(index, f, res)));
    results.hidden = !frags.length;
    moreWrap.hidden = res.total <= frags.length;
    more.textContent = `Show more results (${res.total - frags.length} more)`;
    showSuggestions(res.total === 0);

    const n = filterCount();
    let what = q ? `“${res.correctedQuery ?? q}”` : '';
    if (n) what += q ? ` with ${plural(n, 'filter', 'filters')}` : n === 1 ? 'the filter' : `the ${n} filters`;
    setStatus(res.total === 0
      ? `No story matches ${what}. Try fewer or other words, or start from a symptom below.`
      : `${plural(res.total, 'story matches', 'stories match')} ${what}`
        + (res.total > frags.length ? `; showing ${frags.length}` : '') + '.');
    if (focusFrom >= 0) hitLinks()[focusFrom]?.focus();
  }

  const hitLinks = () => [...results.querySelectorAll('.card-title a')];

  /** The state changed: update the URL (push or replace) and search again. */
  function change(push) {
    shown = PAGE_SIZE;
    if (push) {
      writeUrl(true);
      committed = true;
    } else {
      writeUrl(committed);
      committed = false;
    }
    run();
  }

  const typed = debounce(() => {
    state.q = input.value;
    change(false);
  }, DEBOUNCE_MS);

  input.value = state.q;
  input.addEventListener('input', typed);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    typed.cancel();
    const changed = state.q !== input.value;
    state.q = input.value;
    if (changed) change(committed);
    committed = true;
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' && hitLinks().length) {
      e.preventDefault();
      hitLinks()[0].focus();
    }
  });
  results.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp' && e.key !== 'Escape') return;
    const links = hitLinks();
    const at = links.findIndex((a) => a.closest('.search-result')?.contains(e.target));
    if (at < 0) return;
    e.preventDefault();
    if (e.key === 'Escape') input.focus();
    else if (e.key === 'ArrowDown') links[Math.min(at + 1, links.length - 1)].focus();
    else if (at === 0) input.focus();
    else links[at - 1].focus();
  });
  more.addEventListener('click', () => {
    const from = hitLinks().length;
    shown += PAGE_SIZE;
    run({ focusFrom: from });
  });
  window.addEventListener('popstate', () => {
    typed.cancel();
    state = stateFromUrl();
    input.value = state.q;
    shown = PAGE_SIZE;
    committed = true;
    run();
  });
  run();
  return input;
}

// ---------------------------------------------------------------- wiring

const page = document.getElementById('bl_search');
const headerForm = document.querySelector('.site-search');
const box = page ? searchPage(page) : headerForm ? headerSearch(headerForm) : null;

if (box) {
  document.addEventListener('keydown', (e) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    if (isTyping(e.target)) return;
    e.preventDefault();
    box.focus();
    box.select();
  });
}
