//! The static index for the browser (docs/search.md §6, "format 1"): term chunks,
//! fieldnorms, facet lists, typo vocabulary and one fragment per document, under
//! `search/` in the site output.
//!
//! Postings, term frequencies, field lengths and token totals are read from the
//! finished tantivy index, not recomputed, so the browser's BM25 sees exactly the
//! statistics tantivy scores with. Everything is sorted and content-hashed, so the same
//! content gives the same bytes.

use std::collections::BTreeMap;
use std::hash::Hasher as _;

use anyhow::Context as _;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::postings::Postings as _;
use tantivy::schema::IndexRecordOption;
use tantivy::{DocSet as _, Index, TERMINATED};

use super::analysis::{self, Concepts};
use super::index::{self, CONCEPT_FIELD, TEXT_FIELDS};
use super::SearchDoc;
use crate::model::Fnv1a;
use crate::output::OutputFile;
use crate::site::Site;

/// A field's token total, fieldnorm ids, and `(term, encoded postings)` in term order.
type FieldExport = (u64, Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>);

/// Most bytes in a term chunk (unless one entry alone is larger).
const CHUNK_BYTES: usize = 8 * 1024;

/// Everything the export needs besides the tantivy index.
pub struct ExportInput<'a> {
    /// The site (facet labels).
    pub site: &'a Site,
    /// Documents in site order (= tantivy doc ids).
    pub docs: &'a [&'a SearchDoc],
    /// The concept table.
    pub concepts: &'a Concepts,
    /// The typo vocabulary.
    pub vocabulary: &'a BTreeMap<String, u32>,
}

/// Write the static index of `index` as output files under `search/`.
pub fn export(index: &Index, input: &ExportInput<'_>) -> anyhow::Result<Vec<OutputFile>> {
    let reader = index.reader()?;
    let searcher = reader.searcher();
    let n_docs = input.docs.len();
    let segments = searcher.segment_readers();
    anyhow::ensure!(
        segments.len() <= 1 && searcher.num_docs() as usize == n_docs,
        "search export: the index must hold one segment of {n_docs} documents"
    );
    let (_, f) = index::schema();
    let mut fields: Vec<(&str, f32, tantivy::schema::Field)> = TEXT_FIELDS
        .iter()
        .zip(f.text)
        .map(|((name, boost), field)| (*name, *boost, field))
        .collect();
    fields.push((CONCEPT_FIELD.0, CONCEPT_FIELD.1, f.concepts));

    let mut files: Vec<OutputFile> = Vec::new();
    // term → (field bit, encoded df + postings)
    let mut terms: BTreeMap<Vec<u8>, Vec<(u8, Vec<u8>)>> = BTreeMap::new();
    let mut field_meta = Vec::new();
    for (bit, (name, boost, field)) in fields.iter().enumerate() {
        let (total, norms, postings) = match segments.first() {
            Some(seg) => read_field(seg, *field, n_docs)?,
            None => (0, Vec::new(), Vec::new()),
        };
        for (term, encoded) in postings {
            terms.entry(term).or_default().push((bit as u8, encoded));
        }
        let path = hashed(&format!("n/{name}"), "bin", &norms);
        field_meta.push(json!({
            "name": name, "boost": boost, "total_tokens": total, "norms": path,
        }));
        files.push(out(&path, norms));
    }

    // Term chunks: an entry that would overflow the chunk starts a new one, so a
    // common word's long postings do not drag a chunk's worth of unrelated terms along
    // (a query fetches the whole chunk of each of its terms).
    let mut chunks: Vec<(String, String, Vec<u8>)> = Vec::new(); // (first, last, bytes)
    let mut entry: Vec<u8> = Vec::new();
    for (term, per_field) in &terms {
        entry.clear();
        varint(&mut entry, term.len() as u64);
        entry.extend_from_slice(term);
        let mask = per_field.iter().fold(0u8, |m, (bit, _)| m | (1 << bit));
        entry.push(mask);
        for (_, encoded) in per_field {
            entry.extend_from_slice(encoded);
        }
        let term = String::from_utf8_lossy(term).into_owned();
        match chunks.last_mut() {
            Some((_, last, bytes)) if bytes.len() + entry.len() <= CHUNK_BYTES => {
                bytes.extend_from_slice(&entry);
                *last = term;
            }
            _ => chunks.push((term.clone(), term, entry.clone())),
        }
    }
    let chunk_dir = format!("t/{}/", fnv_hex(chunks.iter().map(|c| c.2.as_slice())));
    let mut separators = Vec::with_capacity(chunks.len());
    let mut previous: Option<&str> = None;
    for (i, (first, last, bytes)) in chunks.iter().enumerate() {
        separators.push(separator(previous, first));
        previous = Some(last);
        files.push(out(&format!("{chunk_dir}{i}.bin"), bytes.clone()));
    }
    let chunks = json!({ "dir": chunk_dir, "first": separators });

    // Facets.
    let mut facets = Vec::new();
    for (name, label) in [
        ("pattern", "Failure pattern"),
        ("symptom", "Symptom"),
        ("platform", "Platform"),
        ("year", "Year"),
    ] {
        let mut values: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for (doc, d) in input.docs.iter().enumerate() {
            for v in d.filters.get(name).into_iter().flatten() {
                values.entry(v.as_str()).or_default().push(doc as u32);
            }
        }
        let mut values: Vec<(&str, Vec<u32>)> = values.into_iter().collect();
        values.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(b.0)));
        let mut bytes = Vec::new();
        let mut listed = Vec::new();
        for (value, docs) in &values {
            varint(&mut bytes, docs.len() as u64);
            let mut last = 0u32;
            for (i, d) in docs.iter().enumerate() {
                varint(&mut bytes, u64::from(if i == 0 { *d } else { d - last }));
                last = *d;
            }
            listed.push(json!({
                "value": value, "label": facet_label(input.site, name, value), "count": docs.len(),
            }));
        }
        let path = hashed(&format!("f/{name}"), "bin", &bytes);
        facets.push(json!({ "name": name, "label": label, "file": path, "values": listed }));
        files.push(out(&path, bytes));
    }

    // Typo vocabulary, one file per first character, in one hashed directory.
    let vocab = super::vocabulary_files(input.vocabulary);
    let vocab_hash = fnv_hex(vocab.values().map(String::as_bytes));
    let mut typo = serde_json::Map::new();
    for (first, text) in vocab {
        let path = format!("v/{vocab_hash}/{}", super::vocabulary_file_name(first));
        typo.insert(first.to_string(), json!(path));
        files.push(out(&path, text.into_bytes()));
    }

    // Fragments.
    let fragments: Vec<Vec<u8>> = input
        .docs
        .par_iter()
        .map(|d| serde_json::to_vec(&Fragment::of(d)))
        .collect::<Result<_, _>>()?;
    let frag_hash = fnv_hex(fragments.iter().map(Vec::as_slice));
    let frag_dir = format!("d/{frag_hash}/");
    for (doc, bytes) in fragments.into_iter().enumerate() {
        files.push(out(&format!("{frag_dir}{doc}.json"), bytes));
    }

    let concepts: Vec<_> = input
        .concepts
        .concepts
        .iter()
        .map(|c| json!({ "id": c.id, "title": c.title, "phrases": c.phrases }))
        .collect();
    let table: Vec<u32> = (0..=255u8).map(FieldNormReader::id_to_fieldnorm).collect();
    let build = fnv_hex(
        files
            .iter()
            .flat_map(|f| [f.path.as_bytes(), f.bytes.as_slice()]),
    );
    let meta = json!({
        "format": 2,
        "analyzer": analysis::ANALYZER,
        "stemmer": analysis::STEMMER,
        "n_docs": n_docs,
        "k1": 1.2,
        "b": 0.75,
        "fields": field_meta,
        "inline_norms_df": inline_norms_df(n_docs),
        "fieldnorm_table": table,
        "chunks": chunks,
        "concepts": concepts,
        "facets": facets,
        "typo": typo,
        "fragments": frag_dir,
        "build": build,
    });
    files.push(out("meta.json", serde_json::to_vec(&meta)?));
    Ok(files)
}

/// One field of the only segment: total tokens, the fieldnorm id of each document,
/// and each term's encoded `df` + postings (docs/search.md §6).
fn read_field(
    seg: &tantivy::SegmentReader,
    field: tantivy::schema::Field,
    n_docs: usize,
) -> anyhow::Result<FieldExport> {
    let inverted = seg.inverted_index(field)?;
    let norms_reader = seg.get_fieldnorms_reader(field)?;
    let norms: Vec<u8> = (0..n_docs as u32)
        .map(|d| norms_reader.fieldnorm_id(d))
        .collect();
    let mut out = Vec::new();
    let mut stream = inverted.terms().stream()?;
    while stream.advance() {
        let term = stream.key().to_vec();
        let mut postings =
            inverted.read_postings_from_terminfo(stream.value(), IndexRecordOption::WithFreqs)?;
        let mut docs: Vec<(u32, u32)> = Vec::new();
        let mut doc = postings.doc();
        while doc != TERMINATED {
            docs.push((doc, postings.term_freq()));
            doc = postings.advance();
        }
        let mut enc = Vec::with_capacity(docs.len() * 2 + 2);
        varint(&mut enc, docs.len() as u64);
        let mut last = 0u32;
        for (i, (d, tf)) in docs.iter().enumerate() {
            let delta = if i == 0 { *d } else { d - last };
            last = *d;
            varint(&mut enc, (u64::from(delta) << 1) | u64::from(*tf > 1));
            if *tf > 1 {
                varint(&mut enc, u64::from(*tf));
            }
        }
        if docs.len() <= inline_norms_df(n_docs) {
            enc.extend(docs.iter().map(|(d, _)| norms[*d as usize]));
        }
        out.push((term, enc));
    }
    Ok((inverted.total_num_tokens(), norms, out))
}

/// The shortest prefix of `first` (on a character boundary) that sorts after
/// `previous`, the last term of the chunk before (the whole of `first` for the first
/// chunk): a term lives in the last chunk whose separator is ≤ the term, and these
/// short separators keep `meta.json` small.
fn separator(previous: Option<&str>, first: &str) -> String {
    let Some(previous) = previous else {
        return first.to_string();
    };
    first
        .char_indices()
        .map(|(i, c)| &first[..i + c.len_utf8()])
        .find(|prefix| prefix.as_bytes() > previous.as_bytes())
        .unwrap_or(first)
        .to_string()
}

/// The largest `df` whose postings carry their documents' fieldnorm ids (docs/search.md
/// §6): a query whose terms all have at most this many documents in a field needs no
/// norm file for it. A quarter of the documents: measured at 10k stories
/// (bench/search.sh), a half gave the same mean bytes per query with a larger p95, an
/// eighth a larger median.
pub fn inline_norms_df(n_docs: usize) -> usize {
    n_docs / 4
}

fn facet_label(site: &Site, facet: &str, value: &str) -> String {
    let found = match facet {
        "pattern" => site
            .patterns
            .iter()
            .find(|p| p.slug.as_str() == value)
            .map(|p| p.title.clone()),
        "symptom" => site
            .symptoms
            .iter()
            .find(|s| s.slug.as_str() == value)
            .map(|s| s.title.clone()),
        "platform" => crate::model::Platform::parse(value).map(|p| p.label().to_string()),
        _ => None,
    };
    found.unwrap_or_else(|| value.to_string())
}

/// A document's fragment: what a result needs to be shown.
#[derive(Serialize)]
struct Fragment<'a> {
    id: &'a str,
    url: &'a str,
    title: &'a str,
    date: &'a str,
    organization: &'a str,
    patterns: &'a [(String, String)],
    symptoms: &'a [(String, String)],
    text: &'a str,
}

impl<'a> Fragment<'a> {
    fn of(d: &'a SearchDoc) -> Self {
        Fragment {
            id: &d.id,
            url: &d.path,
            title: &d.title,
            date: &d.date,
            organization: &d.organization,
            patterns: &d.patterns,
            symptoms: &d.symptoms,
            text: &d.text,
        }
    }
}

fn out(path: &str, bytes: Vec<u8>) -> OutputFile {
    OutputFile {
        path: format!("search/{path}"),
        bytes,
    }
}

/// `name.<hash8>.ext`, the hash over `bytes` (immutable, cacheable names).
fn hashed(name: &str, ext: &str, bytes: &[u8]) -> String {
    format!("{name}.{}.{ext}", fnv_hex([bytes]))
}

/// Eight hex digits of the FNV-1a hash of `parts`, in order.
fn fnv_hex<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h = Fnv1a::default();
    for p in parts {
        h.write(p);
    }
    let h = h.finish();
    format!("{:08x}", (h >> 32) as u32 ^ h as u32)
}

fn varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Read the tantivy index in `dir` and export it (for tests and tools).
pub fn export_dir(
    dir: &std::path::Path,
    input: &ExportInput<'_>,
) -> anyhow::Result<Vec<OutputFile>> {
    let index = index::open(&dir.join("tantivy")).context("cannot open the index to export")?;
    export(&index, input)
}

#[cfg(test)]
mod tests {
    use super::separator;

    #[test]
    fn separators_are_the_shortest_prefix_after_the_previous_chunk() {
        assert_eq!(separator(None, "alpha"), "alpha");
        assert_eq!(separator(Some("alpha"), "beta"), "b");
        assert_eq!(separator(Some("kube"), "kubelet"), "kubel");
        assert_eq!(separator(Some("kubea"), "kubf"), "kubf");
        // Prefixes end on character boundaries: "é" is two bytes.
        assert_eq!(separator(Some("caf"), "café"), "café");
        assert_eq!(separator(Some("cafa"), "cafébabe"), "café");
    }
}
