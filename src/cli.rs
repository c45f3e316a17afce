//! The command line (the only module that uses clap): parses arguments, runs a
//! command, prints diagnostics and maps outcomes to exit codes.
//!
//! Exit codes: 0 ok; 1 content problems (diagnostics were printed); 2 usage or
//! environment errors (bad arguments, unreadable root, refused output directory).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diagnostics::{self, Diagnostic};
use crate::docs;
use crate::new::{self, NewIncident};
use crate::pipeline::{self, Options, Outcome};
use crate::search::{analysis, Request, Results};
use crate::source;

/// blameless: a static site generator for postmortem knowledge bases.
#[derive(Debug, Parser)]
#[command(name = "blameless", version, about, long_about = None)]
pub struct Cli {
    /// The site root: the directory holding site.yaml and content/.
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    pub root: PathBuf,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate the content and build the static site.
    Build {
        /// Output directory (default: public/ under the root). Replaced atomically,
        /// and only when the whole build succeeded.
        #[arg(long, short, value_name = "DIR")]
        output: Option<PathBuf>,
        /// Use this base URL instead of site.yaml's (e.g. http://127.0.0.1:8000/ to
        /// preview locally).
        #[arg(long, value_name = "URL")]
        base_url: Option<String>,
    },
    /// Build the site into memory and serve it, rebuilding on every change to
    /// content/, templates/, static/ or site.yaml; open pages reload by themselves.
    /// Nothing is written to public/.
    Serve {
        /// Port to listen on (0: any free port).
        #[arg(long, short, default_value_t = 1111)]
        port: u16,
        /// Address to listen on. Anything but a loopback address exposes the preview
        /// to the network (a warning is printed).
        #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
        bind: std::net::IpAddr,
        /// Open the site in the default browser once it is served.
        #[arg(long)]
        open: bool,
    },
    /// Validate everything (templates included) and write nothing.
    Check {
        /// Treat warnings as errors.
        #[arg(long)]
        deny_warnings: bool,
        /// Report format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Also check that every source URL still answers (network; successes are
        /// cached in .blameless/links.json for a week).
        #[arg(long)]
        links: bool,
    },
    /// Search the incidents (the index is rebuilt first when the content changed).
    ///
    /// Words are ORed and ranked by BM25; `"a phrase"` must occur as written;
    /// `-word` excludes; filters: pattern:, symptom:, platform:, component:,
    /// organization:, year:, impact:. Misspelt words are corrected.
    Search {
        /// The query, e.g. `502 during deploys` or `oom pattern:no-memory-limits`.
        #[arg(required_unless_present_any = ["batch", "analyze"])]
        query: Option<String>,
        /// Print a JSON array of results: {id, title, url, score, snippet, patterns, symptoms}.
        #[arg(long)]
        json: bool,
        /// Number of results.
        #[arg(long, default_value_t = 10, value_name = "N")]
        limit: usize,
        /// Results to skip (paging).
        #[arg(long, default_value_t = 0, value_name = "N")]
        offset: usize,
        /// Run every line of FILE (`-` for stdin) as a query and print one JSON object
        /// per line: {query, corrected_query, corrected, terms, concepts, total, results}.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["query", "analyze"])]
        batch: Option<PathBuf>,
        /// Print the analyzer's terms of each line of stdin as a JSON array of
        /// {term, position} (to see why a story does or does not match).
        #[arg(long, conflicts_with = "query")]
        analyze: bool,
    },
    /// Create a new incident file to fill in. Without TITLE or --org on a terminal,
    /// asks for them and the rest (with completion of symptoms and patterns);
    /// elsewhere TITLE and --org are required.
    New {
        /// Title of the story.
        title: Option<String>,
        /// Organization the story is about ("anonymous" is fine).
        #[arg(long)]
        org: Option<String>,
        /// Incident date: YYYY, YYYY-MM or YYYY-MM-DD (default: this month).
        #[arg(long)]
        date: Option<String>,
        /// URL of the write-up.
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// A symptom slug (repeat, or separate with commas).
        #[arg(long = "symptom", value_name = "SLUG", value_delimiter = ',')]
        symptoms: Vec<String>,
        /// A failure-pattern slug of the chain, in causal order (repeat, or separate
        /// with commas).
        #[arg(long = "pattern", value_name = "SLUG", value_delimiter = ',')]
        patterns: Vec<String>,
        /// Never prompt, even on a terminal.
        #[arg(long)]
        no_input: bool,
    },
    /// Import an existing Markdown list of failure stories: one draft incident file per
    /// story, never overwriting a file; stories whose source URL is already in
    /// content/incidents/ are skipped, so importing again is safe.
    Import {
        /// The list's format.
        #[arg(value_enum)]
        format: ImportFormat,
        /// The Markdown list, e.g. the README.md of kubernetes-failure-stories.
        list: PathBuf,
    },
    /// Print the JSON Schema of incident front matter (for editors), generated from
    /// blameless's field table and this site's vocabularies.
    Schema,
    /// Regenerate the files derived from the code and content: schema/incident.json
    /// and the marked regions of CONTRIBUTING.md.
    Docs {
        /// Write nothing; exit 1 if a generated file is out of date.
        #[arg(long)]
        check: bool,
    },
}

/// List formats `import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormat {
    /// k8s.af: `* [Title - Org - medium year](url)` with `involved:` and `impact:`.
    K8sAf,
    /// danluu/post-mortems: `[Company](url). Description.` under category headings.
    Danluu,
}

/// How diagnostics are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// `path:line:col: error: message`.
    Human,
    /// GitHub Actions annotations (`::error file=...,line=...,col=...::...`).
    Github,
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap: 0 for --help/--version, 2 for usage errors.
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    ExitCode::from(run(&cli))
}

/// Run a parsed command; returns the exit code.
pub fn run(cli: &Cli) -> u8 {
    let result = match &cli.command {
        Command::Build { output, base_url } => {
            build(&cli.root, output.as_deref(), base_url.clone())
        }
        Command::Serve { port, bind, open } => serve(&cli.root, *bind, *port, *open),
        Command::Check {
            deny_warnings,
            format,
            links,
        } => check(&cli.root, *deny_warnings, *format, *links),
        Command::New {
            title,
            org,
            date,
            url,
            symptoms,
            patterns,
            no_input,
        } => new_incident(
            &cli.root,
            NewIncident {
                title: title.clone().unwrap_or_default(),
                organization: org.clone().unwrap_or_default(),
                date: date.clone(),
                source_url: url.clone(),
                symptoms: symptoms.clone(),
                patterns: patterns.clone(),
            },
            !*no_input,
        ),
        Command::Search {
            query,
            json,
            limit,
            offset,
            batch,
            analyze,
        } => {
            if *analyze {
                analyze_stdin()
            } else {
                let request = Request {
                    query: query.clone().unwrap_or_default(),
                    limit: *limit,
                    offset: *offset,
                    ..Request::default()
                };
                search(&cli.root, &request, *json, batch.as_deref())
            }
        }
        Command::Import { format, list } => import(&cli.root, *format, list),
        Command::Schema => print_schema(&cli.root),
        Command::Docs { check } => docs(&cli.root, *check),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", diagnostics::escape_controls(&format!("{e:#}")));
            2
        }
    }
}

fn print_diagnostics(diags: &[Diagnostic], format: Format) {
    let text = match format {
        Format::Human => diagnostics::render_human(diags),
        Format::Github => diagnostics::render_github(diags),
    };
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes());
    // Annotations go to stdout too, where the Actions runner reads them.
    if format == Format::Github {
        let _ = std::io::stdout().lock().write_all(text.as_bytes());
    }
}

fn summary_line(outcome: &Outcome) -> String {
    let (incidents, patterns, pages) = outcome.counts;
    format!(
        "{incidents} incidents, {patterns} patterns, {pages} pages: {}",
        diagnostics::summary(diagnostics::counts(&outcome.diagnostics))
    )
}

fn build(root: &Path, output: Option<&Path>, base_url: Option<String>) -> anyhow::Result<u8> {
    let start = Instant::now();
    let out = match output {
        Some(o) if o.is_absolute() => o.to_path_buf(),
        Some(o) => std::env::current_dir()?.join(o),
        None => root.join("public"),
    };
    let outcome = pipeline::build(root, &out, &Options { base_url })?;
    print_diagnostics(&outcome.diagnostics, Format::Human);
    if outcome.has_errors() {
        eprintln!(
            "error: build failed ({}); {} was left untouched",
            summary_line(&outcome),
            out.display()
        );
        return Ok(1);
    }
    eprintln!(
        "built {} files into {} in {} ms ({})",
        outcome.files,
        out.display(),
        start.elapsed().as_millis(),
        summary_line(&outcome)
    );
    Ok(0)
}

fn serve(root: &Path, bind: std::net::IpAddr, port: u16, open: bool) -> anyhow::Result<u8> {
    if !bind.is_loopback() {
        eprintln!(
            "warning: listening on {bind}, not a loopback address: anyone who can reach this machine can read the preview"
        );
    }
    let server = crate::serve::Serve::start(
        root,
        &crate::serve::Settings {
            bind,
            port,
            verbose: true,
        },
    )?;
    eprintln!(
        "serving {} (watching content/, templates/, static/ and site.yaml; Ctrl-C stops)",
        server.url()
    );
    if open {
        open_browser(server.url());
    }
    server.wait();
    Ok(0)
}

/// Open `url` in the desktop's browser; a failure is a note, not an error.
fn open_browser(url: &str) {
    let (program, args): (&str, &[&str]) = if cfg!(target_os = "macos") {
        ("open", &[])
    } else if cfg!(windows) {
        ("explorer", &[])
    } else {
        ("xdg-open", &[])
    };
    let spawned = std::process::Command::new(program)
        .args(args)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if spawned.is_err() {
        eprintln!("note: could not start `{program}` to open the browser; open {url} yourself");
    }
}

fn check(root: &Path, deny_warnings: bool, format: Format, links: bool) -> anyhow::Result<u8> {
    let mut outcome = pipeline::run(root, &Options::default())?;
    if links {
        let (mut diags, stats) =
            crate::links::check(root, &crate::links::Settings::for_root(root))?;
        eprintln!(
            "links: {} source URLs, {} from the cache, {} broken",
            stats.urls, stats.cached, stats.broken
        );
        outcome.diagnostics.append(&mut diags);
        diagnostics::sort(&mut outcome.diagnostics);
    }
    if deny_warnings {
        diagnostics::deny_warnings(&mut outcome.diagnostics);
    }
    print_diagnostics(&outcome.diagnostics, format);
    eprintln!("checked {}", summary_line(&outcome));
    Ok(if outcome.has_errors() { 1 } else { 0 })
}

fn new_incident(root: &Path, req: NewIncident, may_prompt: bool) -> anyhow::Result<u8> {
    use std::io::IsTerminal as _;
    let missing = req.title.trim().is_empty() || req.organization.trim().is_empty();
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    // `blameless new` alone is the dialogue; with TITLE and --org it is scriptable.
    let req = if missing && may_prompt && terminal {
        source::check_root(root)?;
        let vocab = new::vocab(root);
        crate::prompt::ask(
            &mut std::io::stdin().lock(),
            &mut std::io::stdout().lock(),
            &vocab,
            req,
        )?
    } else if missing {
        eprintln!(
            "error: `new` needs a TITLE and --org when it cannot ask (not a terminal, or --no-input)"
        );
        eprintln!("usage: blameless new \"Title\" --org NAME [--date YYYY-MM] [--url URL] [--symptom SLUG]... [--pattern SLUG]...");
        return Ok(2);
    } else {
        req
    };
    let path = new::create(root, &req)?;
    let shown = path.strip_prefix(root).unwrap_or(&path);
    println!("created {}", shown.display());
    println!("next: fill in every field, then run `blameless check` until it reports no errors");
    Ok(0)
}

fn search(root: &Path, request: &Request, json: bool, batch: Option<&Path>) -> anyhow::Result<u8> {
    let searcher = match pipeline::open_search(root)? {
        Ok(s) => s,
        Err(outcome) => {
            print_diagnostics(&outcome.diagnostics, Format::Human);
            eprintln!(
                "error: cannot search: the content has problems ({})",
                summary_line(&outcome)
            );
            return Ok(1);
        }
    };
    let mut stdout = std::io::stdout().lock();
    if let Some(file) = batch {
        let text = if file == Path::new("-") {
            std::io::read_to_string(std::io::stdin())?
        } else {
            std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?
        };
        for line in text.lines() {
            let req = Request {
                query: line.to_string(),
                ..request.clone()
            };
            let value = match searcher.search(&req) {
                Ok(r) => serde_json::to_value(&r)?,
                Err(e) => serde_json::json!({ "query": line, "error": e.to_string() }),
            };
            writeln!(stdout, "{}", serde_json::to_string(&value)?)?;
        }
        return Ok(0);
    }
    let results = match searcher.search(request) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}", diagnostics::escape_controls(&e.to_string()));
            return Ok(2);
        }
    };
    if json {
        writeln!(stdout, "{}", results.to_json())?;
        if let Some(q) = &results.corrected_query {
            eprintln!("showing results for `{}`", diagnostics::escape_controls(q));
        }
        return Ok(0);
    }
    print_results(&mut stdout, &results)?;
    Ok(0)
}

fn print_results(out: &mut impl std::io::Write, r: &Results) -> std::io::Result<()> {
    use std::io::IsTerminal as _;
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let clean = |s: &str| diagnostics::escape_controls(s);
    if let Some(q) = &r.corrected_query {
        writeln!(out, "showing results for `{}`", clean(q))?;
    }
    let shown = r.results.len();
    writeln!(
        out,
        "{} {} for `{}`",
        r.total,
        if r.total == 1 { "result" } else { "results" },
        clean(r.corrected_query.as_deref().unwrap_or(&r.query))
    )?;
    for (i, hit) in r.results.iter().enumerate() {
        writeln!(out)?;
        let title = clean(&hit.title);
        if color {
            writeln!(out, "{:>3}. \x1b[1m{title}\x1b[0m", i + 1)?;
        } else {
            writeln!(out, "{:>3}. {title}", i + 1)?;
        }
        writeln!(
            out,
            "     {} · {} · score {:.2}",
            clean(&hit.organization),
            hit.date,
            hit.score
        )?;
        writeln!(out, "     {}", hit.url)?;
        let mut line = String::new();
        for p in &hit.pieces {
            let text = clean(&p.text);
            match (p.mark, color) {
                (true, true) => line.push_str(&format!("\x1b[1;33m{text}\x1b[0m")),
                (true, false) => line.push_str(&format!("*{text}*")),
                (false, _) => line.push_str(&text),
            }
        }
        writeln!(out, "     {line}")?;
    }
    if shown < r.total {
        writeln!(out)?;
        writeln!(out, "({} more; use --limit or --offset)", r.total - shown)?;
    }
    Ok(())
}

fn analyze_stdin() -> anyhow::Result<u8> {
    let text = std::io::read_to_string(std::io::stdin())?;
    let mut stdout = std::io::stdout().lock();
    for line in text.lines() {
        let tokens: Vec<serde_json::Value> = analysis::analyze(line)
            .into_iter()
            .map(|t| serde_json::json!({ "term": t.text, "position": t.position }))
            .collect();
        writeln!(stdout, "{}", serde_json::to_string(&tokens)?)?;
    }
    Ok(0)
}

/// The vocabularies, or the printed diagnostics that keep them from loading.
fn vocabularies(root: &Path) -> anyhow::Result<Result<docs::Vocabularies, u8>> {
    source::check_root(root)?;
    Ok(docs::load(root)?.map_err(|mut diags| {
        diagnostics::sort(&mut diags);
        print_diagnostics(&diags, Format::Human);
        eprintln!(
            "error: the vocabularies have problems ({}); fix them first",
            diagnostics::summary(diagnostics::counts(&diags))
        );
        1
    }))
}

fn print_schema(root: &Path) -> anyhow::Result<u8> {
    let vocab = match vocabularies(root)? {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    let text = crate::jsonschema::incident_text(&vocab.schema_vocab());
    std::io::stdout().lock().write_all(text.as_bytes())?;
    Ok(0)
}

fn docs(root: &Path, check: bool) -> anyhow::Result<u8> {
    let vocab = match vocabularies(root)? {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    if check {
        let stale = docs::stale(root, &vocab)?;
        for path in &stale {
            eprintln!("{path}: error: out of date with the code and content/");
            eprintln!("  = help: run `blameless docs` and commit the result");
        }
        return Ok(if stale.is_empty() { 0 } else { 1 });
    }
    for path in docs::write(root, &vocab)? {
        println!("updated {path}");
    }
    Ok(0)
}

fn import(root: &Path, format: ImportFormat, list: &Path) -> anyhow::Result<u8> {
    use anyhow::Context as _;
    source::check_root(root)?;
    let bytes =
        std::fs::read(list).with_context(|| format!("could not read {}", list.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| anyhow::anyhow!("{} is not UTF-8 text", list.display()))?
        .replace("\r\n", "\n");
    let format = match format {
        ImportFormat::K8sAf => crate::import::Format::K8sAf,
        ImportFormat::Danluu => crate::import::Format::Danluu,
    };
    let shown = list.display().to_string();
    let report = crate::import::import(root, format, &shown, &text)?;
    print_diagnostics(&report.diagnostics, Format::Human);
    for (line, url, file) in &report.skipped {
        eprintln!("{shown}:{line}: skipped {url}: already in {file}");
    }
    for path in &report.created {
        println!("created {path}");
    }
    eprintln!(
        "imported {} {}, skipped {} already present; {} to review in the list",
        report.created.len(),
        if report.created.len() == 1 {
            "story"
        } else {
            "stories"
        },
        report.skipped.len(),
        diagnostics::summary(diagnostics::counts(&report.diagnostics))
    );
    if !report.created.is_empty() {
        eprintln!("next: read each source, fill in the empty fields, and run `blameless check` until it reports no errors");
    }
    Ok(0)
}
