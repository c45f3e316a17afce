//! In-process benchmark of `serve`'s incremental rebuild (figures only, no
//! assertions): `pipeline::run_cached` on a site root, first in full, then after
//! one-story edits (body, title) and a pattern-title edit, each undone again.
//!
//! ```sh
//! python3 bench/gen_site.py --incidents 10000 --out /dev/shm/s10k
//! cargo run --release --example rebuild -- /dev/shm/s10k [EDITS]
//! ```
//!
//! Add `BLAMELESS_TIMINGS=1` for the time of each stage. It edits files of the
//! given site and puts them back; point it at a generated site.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use blameless::pipeline::{self, Cache, Options};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let root = std::path::PathBuf::from(args.next().context("usage: rebuild SITE_ROOT [EDITS]")?);
    let edits: usize = args.next().map_or(Ok(3), |n| n.parse())?;
    let cache = Cache::default();
    let options = Options {
        base_url: Some("http://127.0.0.1:1111/".into()),
    };
    let run = |what: &str| -> anyhow::Result<()> {
        let start = Instant::now();
        let sent = std::sync::atomic::AtomicUsize::new(0);
        let outcome = pipeline::run_cached(
            &root,
            &options,
            &|_file| {
                sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            },
            &cache,
        )?;
        anyhow::ensure!(!outcome.has_errors(), "{what}: the site has errors");
        println!(
            "{what}: {:.1} ms, {} files rendered",
            start.elapsed().as_secs_f64() * 1000.0,
            sent.into_inner()
        );
        Ok(())
    };
    run("first build")?;
    run("no change")?;
    let mut stories: Vec<_> = std::fs::read_dir(root.join("content/incidents"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    stories.sort();
    let story = stories
        .get(stories.len() / 2)
        .context("the site has no stories")?;
    let original = std::fs::read_to_string(story)?;
    for k in 0..edits {
        std::fs::write(story, format!("{original}\nEdit {k}.\n"))?;
        run("story body edit")?;
    }
    std::fs::write(story, &original)?;
    run("story restored")?;
    retitled(story, &original, &|| run("story title edit"))?;
    run("story restored")?;
    let mut patterns: Vec<_> = std::fs::read_dir(root.join("content/patterns"))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    patterns.sort();
    let pattern = patterns.first().context("the site has no patterns")?;
    retitled(pattern, &std::fs::read_to_string(pattern)?, &|| {
        run("pattern title edit")
    })?;
    run("pattern restored")?;
    Ok(())
}

/// Append " X" to the `title:` of `path`, run `then`, put the file back.
fn retitled(path: &Path, text: &str, then: &dyn Fn() -> anyhow::Result<()>) -> anyhow::Result<()> {
    let title = text
        .lines()
        .find(|l| l.starts_with("title: "))
        .with_context(|| format!("{} has no title line", path.display()))?;
    std::fs::write(path, text.replacen(title, &format!("{title} X"), 1))?;
    let result = then();
    std::fs::write(path, text)?;
    result
}
