#!/usr/bin/env python3
"""Convert a site made by gen_site.py into an equivalent Hugo site, for benchmarks.

    hugo_site.py --site GENERATED_SITE_ROOT --out HUGO_SITE_DIR

Same Markdown bodies; front matter converted to TOML (title, date as a full date,
summary, the taxonomies patterns, symptoms, components, organizations, platforms and
years, and every other field under `params`); pattern prose and symptom titles become
the content of their taxonomy term pages (content/patterns/<slug>/_index.md); free
pages become top-level pages. Home and term lists are paginated like blameless's
(`paginate_by` from site.yaml, default 100). A minimal layout set (baseof, home, single, list,
taxonomy, term, 404) renders the title, the params (the failure chain: trigger,
contributing failures linked to their pattern pages, symptoms, resolutions, lessons,
sources), the content and the explicit `related` ids. Hugo's own related-content
index (`.Related` on patterns, symptoms and components, the counterpart of blameless's
"related incidents grouped by shared pattern") is rendered only when the site param
`related` is set, e.g. `HUGO_PARAMS_RELATED=true hugo`: it is the slow part of a Hugo
build at 10k pages, so run.sh measures Hugo without it ("the pages alone") and, with
BENCH_HUGO_RELATED=1, once more with it. Highlighting of fenced code
is left at Hugo's default (on, Chroma, inline styles). One RSS feed (home), sitemap,
robots.txt and 404, like blameless; no search.

Reads the structured front matter from GENERATED_SITE_ROOT/bench-manifest.json
(written by gen_site.py), so no YAML parser is needed. Python 3 stdlib only.
"""

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_site import read_front_matter_field  # noqa: E402


def tq(s):
    """A TOML basic string (JSON escapes are valid TOML escapes)."""
    return json.dumps(s, ensure_ascii=False)


def tv(v):
    """A TOML value: strings, ints, lists and (inline) tables."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return tq(v)
    if isinstance(v, list):
        return "[" + ", ".join(tv(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {tv(x)}" for k, x in v.items() if x is not None) + " }"
    raise TypeError(type(v))


def full_date(d):
    parts = d.split("-")
    while len(parts) < 3:
        parts.append("01")
    return "-".join(parts)


def split_body(text):
    """The Markdown after the front matter of a blameless file."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.startswith("---"):
        return text
    end = text.find("\n---", 3)
    if end < 0:
        return ""
    nl = text.find("\n", end + 4)
    return text[nl + 1:] if nl >= 0 else ""


MD_LINK = re.compile(r"\]\(([a-z0-9]+(?:-[a-z0-9]+)*)\.md\)")

HUGO_TOML = """baseURL = "https://bench.example.org/"
title = {title}
enableRobotsTXT = true
disableHugoGeneratorInject = true

[pagination]
  pagerSize = {pager_size}
  disableAliases = true  # no page/1/ redirect files: blameless writes none either

[taxonomies]
  pattern = "patterns"
  symptom = "symptoms"
  component = "components"
  organization = "organizations"
  platform = "platforms"
  year = "years"

[outputs]
  home = ["html", "rss"]
  section = ["html"]
  taxonomy = ["html"]
  term = ["html"]
  page = ["html"]

[params]
  repository = {repository}

[related]
  threshold = 80
  includeNewer = true
  toLower = false
  [[related.indices]]
    name = "patterns"
    weight = 100
  [[related.indices]]
    name = "symptoms"
    weight = 40
  [[related.indices]]
    name = "components"
    weight = 20
"""

LAYOUTS = {
    "baseof.html": """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ if not .IsHome }}{{ .Title }} · {{ end }}{{ site.Title }}</title>
{{ with .Summary }}<meta name="description" content="{{ . | plainify }}">{{ end }}
<link rel="stylesheet" href="{{ "style.css" | relURL }}">
{{ with .OutputFormats.Get "rss" }}<link rel="alternate" type="application/rss+xml" href="{{ .RelPermalink }}">{{ end }}
</head>
<body>
<header><a href="{{ "/" | relURL }}">{{ site.Title }}</a>
<nav>{{ range $plural, $_ := site.Taxonomies }}<a href="{{ printf "/%s/" $plural | relURL }}">{{ $plural | humanize }}</a> {{ end }}</nav>
</header>
<main>{{ block "main" . }}{{ end }}</main>
<footer>{{ site.Title }}</footer>
</body>
</html>
""",
    "home.html": """{{ define "main" }}
<h1>{{ site.Title }}</h1>
<p>{{ len (where site.RegularPages "Section" "incidents") }} stories.
{{ range $plural, $terms := site.Taxonomies }}<a href="{{ printf "/%s/" $plural | relURL }}">{{ len $terms }} {{ $plural }}</a> {{ end }}</p>
<h2>Every incident, newest first</h2>
<ol class="stories">
{{ $pag := .Paginate (where site.RegularPages "Section" "incidents").ByDate.Reverse }}
{{ range $pag.Pages }}<li>{{ partialCached "card.html" (dict "page" . "summary" false) .RelPermalink false }}</li>
{{ end }}
</ol>
{{ partial "pager.html" $pag }}
{{ end }}
""",
    "single.html": """{{ define "main" }}
<article>
<h1>{{ .Title }}</h1>
<dl class="card">
<dt>Organization</dt><dd>{{ range .GetTerms "organizations" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a>{{ end }}</dd>
<dt>Date</dt><dd>{{ .Params.date_text }}</dd>
{{ with .GetTerms "platforms" }}<dt>Platforms</dt><dd>{{ range . }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}</dd>{{ end }}
{{ with .Params.kubernetes_version }}<dt>Kubernetes</dt><dd>{{ . }}</dd>{{ end }}
{{ with .Params.duration_minutes }}<dt>Duration</dt><dd>{{ . }} minutes</dd>{{ end }}
{{ with .Params.impact_level }}<dt>Impact level</dt><dd>{{ . }}</dd>{{ end }}
{{ with .Params.environment }}<dt>Environment</dt><dd>{{ . }}</dd>{{ end }}
{{ with .Params.detection }}<dt>Detection</dt><dd>{{ . }}</dd>{{ end }}
</dl>
<p>{{ .Summary }}</p>
<section class="chain"><h2>The failure chain</h2>
<ol>
<li><strong>Trigger ({{ .Params.trigger.type }})</strong>: {{ .Params.trigger.description }}</li>
{{ range .Params.contributing_failures }}
<li>{{ with site.GetPage (printf "/patterns/%s" .pattern) }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}: {{ .description }}</li>
{{ end }}
<li><strong>Impact</strong>: {{ .Params.impact }}
{{ range .GetTerms "symptoms" }}<a class="chip" href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}</li>
</ol>
{{ with .Params.resolutions }}<h3>Resolutions</h3><ul>
{{ range . }}<li>{{ .action }} <em>{{ .status }}</em>
{{ range .patterns }}{{ with site.GetPage (printf "/patterns/%s" .) }}<a class="chip" href="{{ .RelPermalink }}">{{ .Title }}</a> {{ end }}{{ end }}</li>{{ end }}
</ul>{{ end }}
</section>
<p>Components: {{ range .GetTerms "components" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a> {{ end }}</p>
<nav class="toc">{{ .TableOfContents }}</nav>
<div class="body">{{ .Content }}</div>
{{ with .Params.lessons }}<h2>Lessons</h2><ul>{{ range . }}<li>{{ . }}</li>{{ end }}</ul>{{ end }}
<h2>Sources</h2><ul>
{{ range .Params.sources }}<li><a href="{{ .url }}" rel="nofollow noopener ugc">{{ .title | default .url }}</a> ({{ .type }}{{ with .venue }}, {{ . }}{{ end }}{{ with .published }}, {{ . }}{{ end }}){{ with .archive_url }} <a href="{{ . }}">archived</a>{{ end }}</li>{{ end }}
</ul>
{{ with .Params.tags }}<p>Tags: {{ delimit . ", " }}</p>{{ end }}
<p><a href="{{ site.Params.repository }}/edit/main/content/{{ .File.Path }}">Edit this page</a></p>
{{ with .Params.related }}<h2>See also</h2><ul>{{ range . }}{{ with site.GetPage (printf "/incidents/%s" .) }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}{{ end }}</ul>{{ end }}
{{ if site.Params.related }}{{ with site.RegularPages.Related . | first 10 }}<h2>Related incidents</h2><ul>{{ range . }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> ({{ .Params.organization }})</li>{{ end }}</ul>{{ end }}{{ end }}
</article>
{{ end }}
""",
    "list.html": """{{ define "main" }}
<h1>{{ .Title }}</h1>
{{ .Content }}
<ul>{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Params.organization }} <time>{{ .Date.Format "2006-01-02" }}</time></li>{{ end }}</ul>
{{ end }}
""",
    "taxonomy.html": """{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul>{{ range .Data.Terms.ByCount }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> ({{ .Count }})</li>{{ end }}</ul>
{{ end }}
""",
    "term.html": """{{ define "main" }}
<h1>{{ .Title }}</h1>
{{ .Content }}
{{ $slug := .Data.Term }}{{ $isPattern := eq .Data.Plural "patterns" }}
<p>{{ len .Pages }} incidents</p>
{{ $pag := .Paginate .Pages }}
<ol>{{ range $pag.Pages }}<li>{{ if $isPattern }}{{ partialCached "card.html" (dict "page" . "summary" false) .RelPermalink false }}
{{ range .Params.contributing_failures }}{{ if eq .pattern $slug }}<blockquote>{{ .description }}</blockquote>{{ end }}{{ end }}
{{ range .Params.resolutions }}{{ if in .patterns $slug }}<p>{{ .action }} <em>{{ .status }}</em></p>{{ end }}{{ end }}
{{ else }}{{ partialCached "card.html" (dict "page" . "summary" true) .RelPermalink true }}{{ end }}</li>{{ end }}</ol>
{{ partial "pager.html" $pag }}
{{ end }}
""",
    "_partials/card.html": """{{ $p := .page }}<article class="card">
<h3><a href="{{ $p.RelPermalink }}">{{ $p.Title }}</a></h3>
<p>{{ range $p.GetTerms "organizations" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a>{{ end }} · <time datetime="{{ $p.Params.date_text }}">{{ $p.Date.Format "2 January 2006" }}</time>
{{ range $p.GetTerms "platforms" }} · <a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a>{{ end }}
{{ with $p.Params.impact_level }}<span class="badge">{{ . }}</span>{{ end }}</p>
{{ if .summary }}<p>{{ $p.Summary }}</p>{{ end }}
<p>Impact: {{ $p.Params.impact }}</p>
<ul class="chips">{{ range $p.GetTerms "symptoms" }}<li><a class="chip" href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
<ul class="chips">{{ range $p.GetTerms "patterns" }}<li><a class="chip" href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>{{ end }}</ul>
</article>
""",
    "_partials/pager.html": """{{ if gt .TotalPages 1 }}<nav class="pager">{{ with .Prev }}<a href="{{ .URL }}">Newer</a>{{ end }}
Page {{ .PageNumber }} of {{ .TotalPages }}
{{ with .Next }}<a href="{{ .URL }}">Older</a>{{ end }}</nav>{{ end }}
""",
    "404.html": """{{ define "main" }}<h1>Not found</h1><p><a href="{{ "/" | relURL }}">Home</a></p>{{ end }}
""",
}

STYLE = """body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:auto;padding:1rem}
.chip{display:inline-block;border:1px solid #ccc;border-radius:1em;padding:0 .5em;font-size:.85em}
.card{display:grid;grid-template-columns:max-content 1fr;gap:.25em 1em}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}a{color:#8cf}}
"""


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--site", required=True, help="a site root made by gen_site.py")
    ap.add_argument("--out", required=True, help="Hugo site directory to create")
    args = ap.parse_args()
    if os.path.exists(args.out) and os.listdir(args.out):
        ap.error(f"{args.out} exists and is not empty")
    mpath = os.path.join(args.site, "bench-manifest.json")
    if not os.path.isfile(mpath):
        sys.exit(f"hugo_site.py: {mpath} is missing; make the site with gen_site.py")
    with open(mpath, encoding="utf-8") as f:
        manifest = json.load(f)

    site_title = read_front_matter_field("---\n" + open(os.path.join(args.site, "site.yaml"),
                                         encoding="utf-8").read() + "\n---", "title") or "Bench"
    repo = read_front_matter_field("---\n" + open(os.path.join(args.site, "site.yaml"),
                                   encoding="utf-8").read() + "\n---", "repository") or "https://example.org/repo"
    pager = read_front_matter_field("---\n" + open(os.path.join(args.site, "site.yaml"),
                                    encoding="utf-8").read() + "\n---", "paginate_by")
    pager_size = int(pager) if pager and pager.isdigit() else 100  # blameless's default
    write(os.path.join(args.out, "hugo.toml"),
          HUGO_TOML.format(title=tq(site_title), repository=tq(repo), pager_size=pager_size))
    for name, text in LAYOUTS.items():
        write(os.path.join(args.out, "layouts", name), text)
    write(os.path.join(args.out, "static", "style.css"), STYLE)
    write(os.path.join(args.out, "content", "_index.md"), f"+++\ntitle = {tq(site_title)}\n+++\n")
    write(os.path.join(args.out, "content", "incidents", "_index.md"), '+++\ntitle = "Incidents"\n+++\n')

    # Pattern prose and symptom titles as taxonomy term pages.
    write(os.path.join(args.out, "content", "patterns", "_index.md"), '+++\ntitle = "Failure patterns"\n+++\n')
    for slug, title, category in manifest["patterns"]:
        with open(os.path.join(args.site, "content", "patterns", slug + ".md"), encoding="utf-8-sig") as f:
            body = split_body(f.read())
        summary = read_front_matter_field(open(os.path.join(args.site, "content", "patterns", slug + ".md"),
                                               encoding="utf-8-sig").read(), "summary") or ""
        write(os.path.join(args.out, "content", "patterns", slug, "_index.md"),
              f"+++\ntitle = {tq(title)}\nsummary = {tq(summary)}\n[params]\n  category = {tq(category)}\n+++\n\n{body}")
    write(os.path.join(args.out, "content", "symptoms", "_index.md"), '+++\ntitle = "Symptoms"\n+++\n')
    for slug, title in manifest["symptoms"]:
        write(os.path.join(args.out, "content", "symptoms", slug, "_index.md"), f"+++\ntitle = {tq(title)}\n+++\n")

    # Free pages.
    pdir = os.path.join(args.site, "content", "pages")
    if os.path.isdir(pdir):
        for name in sorted(os.listdir(pdir)):
            if not name.endswith(".md"):
                continue
            with open(os.path.join(pdir, name), encoding="utf-8-sig") as f:
                text = f.read()
            title = read_front_matter_field(text, "title") or name[:-3]
            write(os.path.join(args.out, "content", name), f"+++\ntitle = {tq(title)}\n+++\n\n{split_body(text)}")

    # Incidents.
    taxo = {"patterns", "symptoms", "components", "platforms"}
    n = 0
    for inc in manifest["incidents"]:
        iid, fm = inc["id"], inc["front_matter"]
        with open(os.path.join(args.site, "content", "incidents", iid + ".md"), encoding="utf-8") as f:
            body = split_body(f.read())
        body = MD_LINK.sub(r"](../\1/)", body)
        lines = ["+++",
                 f"title = {tq(fm['title'])}",
                 f"date = {full_date(fm['date'])}",
                 f"summary = {tq(fm['summary'])}",
                 f"patterns = {tv(sorted(set(cf['pattern'] for cf in fm['contributing_failures'])))}",
                 f"symptoms = {tv(fm['symptoms'])}",
                 f"components = {tv(fm['components'])}",
                 f"organizations = {tv([fm['organization']])}",
                 f"platforms = {tv(fm.get('platforms') or [])}",
                 f"years = {tv([fm['date'][:4]])}",
                 "[params]",
                 f"  date_text = {tq(fm['date'])}"]
        for k, v in fm.items():
            if k in ("title", "date", "summary") or k in taxo or v is None or v == []:
                continue
            lines.append(f"  {k} = {tv(v)}")
        lines.append("+++")
        write(os.path.join(args.out, "content", "incidents", iid + ".md"), "\n".join(lines) + "\n\n" + body)
        n += 1
    print(f"hugo_site.py: {n} incidents, {len(manifest['patterns'])} patterns, "
          f"{len(manifest['symptoms'])} symptoms -> {args.out}")


if __name__ == "__main__":
    main()
