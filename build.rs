//! Embeds the default theme (`templates/` and `static/`) into the binary, so a site
//! root with only `site.yaml` and `content/` builds. Generates
//! `$OUT_DIR/theme_files.rs` with two sorted tables of `include_*!` entries.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, rel: &str, out: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = e.path();
        let rel_name = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            collect(&path, &rel_name, out);
        } else if ft.is_file() {
            out.push((rel_name, path));
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut code = String::new();
    for (table, dir, macro_name, ty) in [
        ("TEMPLATES", "templates", "include_str", "&str"),
        ("STATIC", "static", "include_bytes", "&[u8]"),
    ] {
        println!("cargo:rerun-if-changed={dir}");
        let mut files = Vec::new();
        collect(&root.join(dir), "", &mut files);
        let _ = writeln!(
            code,
            "/// Embedded `{dir}/` files: (relative path, contents)."
        );
        let _ = writeln!(code, "pub static {table}: &[(&str, {ty})] = &[");
        for (rel, path) in files {
            let _ = writeln!(
                code,
                "    ({rel:?}, {macro_name}!({:?})),",
                path.display().to_string()
            );
        }
        let _ = writeln!(code, "];");
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("theme_files.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
