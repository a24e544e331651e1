//! Search benchmark: the real content plus N synthetic FAQ articles (10,000 by default), built
//! the way `helpdesk build` builds the site. Prints:
//! - the fresh build (render + index) and its index part, and an unchanged rebuild;
//! - the size of the packed index and the time to open it in memory;
//! - in-process query latency (p50, p99, max) over a mix of queries, one thread;
//! - the size of the JSON answers `/api/search` gives for that mix, and the time of an answer
//!   from the service's answer cache.
//!
//! The synthetic text is drawn from the real Dutch FAQ text (so words have natural
//! frequencies), in articles shaped like the site builder's benchmark: a title, description,
//! tags and four sections of three paragraphs and a list.
//!
//! Run: `cargo bench -p search-index --bench search` (or `-- 50000`). `-- --keep DIR` leaves the
//! generated content in `DIR/content` and the built site in `DIR/dist`, for `helpdesk serve`
//! with `wrk` and for Pagefind (see `search-index/benches/README.md`); `-- --queries DIR` then
//! measures only the queries, over that kept site and its `queries.txt` (`--distinct`: 10,000
//! of `distinct.txt`, none asked twice: the uncached load `wrk` puts on `/api/search`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use search_index::{SearchIndex, SearchRequest};

const CATEGORIES: usize = 40;

fn main() {
    let mut n = 10_000;
    let mut keep: Option<PathBuf> = None;
    let mut queries: Option<PathBuf> = None;
    let mut distinct = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--keep" => keep = args.next().map(PathBuf::from),
            "--queries" => queries = args.next().map(PathBuf::from),
            "--distinct" => distinct = true,
            "--bench" => {}
            other => n = other.parse().unwrap_or(n),
        }
    }
    if let Some(dir) = queries {
        return queries_only(&dir, distinct);
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = keep.clone().unwrap_or_else(|| tmp.path().to_path_buf());
    let content = root.join("content");
    let _ = std::fs::remove_dir_all(&content);
    let corpus = Corpus::load();
    generate(&content, n, &corpus);

    // Fresh builds (render + index + related) into empty directories.
    let runs = 3;
    let mut fresh = Vec::new();
    let mut fresh_cpu = Vec::new();
    let mut pages = 0;
    for run in 0..runs {
        let out = tmp.path().join(format!("dist-{run}"));
        let (start, cpu) = (Instant::now(), cpu_time());
        let report = site_builder::build(&options(&content, &out)).unwrap_or_else(|e| panic!("{e}"));
        fresh.push(start.elapsed());
        fresh_cpu.push(cpu_time().saturating_sub(cpu));
        pages = report.pages;
    }
    let dist = match &keep {
        Some(k) => {
            let d = k.join("dist");
            let _ = std::fs::remove_dir_all(&d);
            site_builder::build(&options(&content, &d)).unwrap_or_else(|e| panic!("{e}"));
            d
        }
        None => tmp.path().join("dist-0"),
    };
    let start = Instant::now();
    let report = site_builder::build(&options(&content, &dist)).unwrap_or_else(|e| panic!("{e}"));
    let rebuild = start.elapsed();
    assert_eq!(report.written, 0, "an unchanged rebuild writes nothing");

    // The index part alone: building it from the prepared articles, and related articles.
    let (prepared, diags) = site_builder::prepare(&content, site_builder::Dates::Mtime);
    assert!(diags.is_empty(), "{diags}");
    let mut prepared = prepared.expect("content");
    let published: Vec<usize> =
        (0..prepared.content.articles.len()).filter(|&i| !prepared.content.articles[i].meta.draft).collect();
    let articles = site_builder::search::articles(&mut prepared, &published);
    let mut index_times = Vec::new();
    let mut built = None;
    for _ in 0..runs {
        let start = Instant::now();
        let b = search_index::build(&articles).expect("index");
        index_times.push(start.elapsed());
        built = Some(b);
    }
    let built = built.expect("built");
    let stats = built.stats;
    let si = site_builder::search::SiteIndex {
        index: built.index,
        packed: None,
        numbers: published,
        articles,
        terms: Some(built.terms),
        updater: None,
    };
    let start = Instant::now();
    let related = site_builder::search::related(&si).expect("related");
    let related_time = start.elapsed();
    assert_eq!(related.len(), si.articles.len());

    let index_file = dist.join("search").join(search_index::INDEX_FILE);
    let index_size = std::fs::metadata(&index_file).expect("index.bin").len();
    let bytes = std::fs::read(&index_file).expect("read");
    let start = Instant::now();
    let index = SearchIndex::from_bytes(&bytes).expect("open");
    let open_time = start.elapsed();

    println!("search benchmark: {n} synthetic + the real articles ({} indexed, {pages} pages)", index.articles());
    println!(
        "  fresh build, render + index      {:>9}   (median of {runs}; {} of CPU time on {} cores)",
        ms(median(&mut fresh)),
        ms(median(&mut fresh_cpu)),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "    of which the index              {:>9}   (analyze {}, index {}, open {}; {} documents)",
        ms(median(&mut index_times)),
        ms(stats.analyze),
        ms(stats.index),
        ms(stats.open),
        stats.documents
    );
    println!("    and related articles          {:>9}", ms(related_time));
    println!("  unchanged rebuild                {:>9}", ms(rebuild));
    println!("  index size (index.bin)           {:>9.1} MB ({index_size} bytes)", index_size as f64 / 1e6);
    println!("  open in memory                   {:>9}", ms(open_time));
    let queries = query_mix(&corpus, 2_000);
    query_latency(&index, &queries, true);
    if let Some(k) = keep {
        println!(
            "  kept: {}/content and {}/dist; queries in {}/queries.txt and distinct.txt",
            k.display(),
            k.display(),
            k.display()
        );
        std::fs::write(k.join("queries.txt"), queries.join("\n") + "\n").expect("queries.txt");
        std::fs::write(k.join("distinct.txt"), distinct_queries(&queries, 200_000).join("\n") + "\n")
            .expect("distinct.txt");
    }
}

/// `n` different queries, each one of `queries` followed by the first word of another, so that
/// a load test sees no answer twice (no cache helps).
fn distinct_queries(queries: &[String], n: usize) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(n);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    // Enough tries for `n` when there are that many pairs; fewer come back otherwise.
    for _ in 0..n * 4 {
        if out.len() == n {
            break;
        }
        // xorshift: the same list every run.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let a = &queries[(x % queries.len() as u64) as usize];
        let b = &queries[((x >> 32) % queries.len() as u64) as usize];
        let q = format!("{a} {}", b.split_whitespace().next().unwrap_or(b));
        if seen.insert(q.clone()) {
            out.push(q);
        }
    }
    out
}

/// `--queries DIR`: only the queries, over a site kept with `--keep DIR`; with `--distinct`,
/// the first 10,000 of the distinct queries (for profiling answers that are all computed).
fn queries_only(dir: &Path, distinct: bool) {
    let index = SearchIndex::load(&dir.join("dist").join("search")).expect("a site kept with --keep");
    let file = if distinct { "distinct.txt" } else { "queries.txt" };
    let queries: Vec<String> = std::fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
        .lines()
        .filter(|l| !l.is_empty())
        .take(if distinct { 10_000 } else { usize::MAX })
        .map(str::to_owned)
        .collect();
    println!("search benchmark: {file} over {} ({} articles)", dir.display(), index.articles());
    query_latency(&index, &queries, !distinct);
}

/// In-process query latency and answer sizes of `queries`, three rounds on one thread.
fn query_latency(index: &SearchIndex, queries: &[String], cached: bool) {
    // The first round, timed apart: it reads what later rounds find kept (each term's scores
    // over its fields, the shown documents cut into words).
    let start = Instant::now();
    for q in queries {
        index.search(&request(q)).expect("warm up");
    }
    let first = start.elapsed();
    println!(
        "  first round, {} queries          {:.0} queries/s on one thread (terms' lists and documents made as needed)",
        queries.len(),
        queries.len() as f64 / first.as_secs_f64()
    );
    let mut times = Vec::with_capacity(queries.len() * 3);
    let mut sizes = Vec::with_capacity(queries.len());
    let mut empty = 0;
    for round in 0..3 {
        for q in queries {
            let start = Instant::now();
            let res = index.search(&request(q)).expect("search");
            times.push(start.elapsed());
            if round == 0 {
                sizes.push(serde_json::to_vec(&res).expect("json").len());
                empty += usize::from(res.total == 0);
            }
        }
    }
    times.sort();
    sizes.sort();
    let pct = |v: &[Duration], p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
    let total: Duration = times.iter().sum();
    println!(
        "  query latency, {} queries       p50 {} · p99 {} · max {} · {:.0} queries/s on one thread",
        times.len(),
        us(pct(&times, 0.50)),
        us(pct(&times, 0.99)),
        us(*times.last().expect("times")),
        times.len() as f64 / total.as_secs_f64()
    );
    println!(
        "  answer JSON (limit {})             median {} B · p99 {} B · max {} B; {empty} of {} queries found nothing",
        API_LIMIT,
        sizes[sizes.len() / 2],
        pct_usize(&sizes, 0.99),
        sizes.last().expect("sizes"),
        queries.len()
    );
    if !cached {
        return;
    }
    // The same queries again through the service's answer cache: it keeps an answer the second
    // time it is asked, so the first two rounds fill it.
    let cache = search_index::AnswerCache::default();
    let mut hits = Vec::with_capacity(queries.len() * 2);
    for round in 0..4 {
        for q in queries {
            let start = Instant::now();
            let answer = cache.answer(index, &request(q)).expect("answer");
            if round > 1 {
                assert!(answer.cached || answer.total == 0, "{q}");
                hits.push(start.elapsed());
            }
        }
    }
    hits.sort();
    println!(
        "  a cached answer                  p50 {} · p99 {} ({} answers, {} distinct, in the cache)",
        us(pct(&hits, 0.50)),
        us(pct(&hits, 0.99)),
        hits.len(),
        cache.len()
    );
}

/// As `/api/search` asks: one language, 8 results.
const API_LIMIT: usize = 8;

fn request(q: &str) -> SearchRequest<'_> {
    SearchRequest::new(q).lang("nl").limit(API_LIMIT)
}

fn options(content: &Path, out: &Path) -> site_builder::BuildOptions {
    let mut opts = site_builder::BuildOptions::new(content, out);
    opts.dates = site_builder::Dates::Mtime;
    opts
}

/// User + system CPU time of this process so far (all threads), from `/proc` (Linux; zero
/// elsewhere): on a shared machine it varies less than the time on the clock.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name in parentheses: state is field 3, utime 14 and stime 15.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // Linux reports these in USER_HZ, 100 per second.
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn pct_usize(v: &[usize], p: f64) -> usize {
    v[((v.len() as f64 * p) as usize).min(v.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

/// The words of the real Dutch FAQ text, in order (so that sampling has natural frequencies).
struct Corpus {
    tokens: Vec<String>,
    /// Distinct words of four letters or more.
    words: Vec<String>,
}

impl Corpus {
    fn load() -> Corpus {
        let mut tokens = Vec::new();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../content/faq/nl");
        let mut files = Vec::new();
        collect_md(&root, &mut files);
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).expect("read");
            let body = text.splitn(3, "+++").nth(2).unwrap_or("");
            for w in body.split(|c: char| !c.is_alphabetic()) {
                if w.chars().count() >= 2 {
                    tokens.push(w.to_lowercase());
                }
            }
        }
        let mut words: Vec<String> = tokens.iter().filter(|w| w.chars().count() >= 4).cloned().collect();
        words.sort();
        words.dedup();
        Corpus { tokens, words }
    }
}

fn collect_md(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_md(&p, out);
        } else if p.extension().is_some_and(|x| x == "md") && !p.ends_with("_index.md") {
            out.push(p);
        }
    }
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The repository's content plus `n` generated articles in `CATEGORIES` Dutch categories.
fn generate(content: &Path, n: usize, corpus: &Corpus) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../content");
    copy_dir(&repo, content);
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for c in 0..CATEGORIES {
        let dir = content.join(format!("faq/nl/bench-{c:02}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(
            dir.join("_index.md"),
            format!(
                "+++\ntitle = \"Categorie {c}\"\ndescription = \"Gegenereerde artikelen\"\nweight = {}\n+++\n",
                100 + c
            ),
        )
        .expect("write");
    }
    let t = &corpus.tokens;
    let w = &corpus.words;
    for i in 0..n {
        let c = i % CATEGORIES;
        let word = |rng: &mut Rng| w[rng.below(w.len())].clone();
        let title = format!("Vraag {i}: {} {} {}", word(&mut rng), word(&mut rng), word(&mut rng));
        let mut body = format!(
            "+++\ntitle = \"{title}\"\ndescription = \"Alles over {} en {}.\"\ntags = [\"{}\", \"{}\"]\nweight = {i}\n+++\n",
            word(&mut rng),
            word(&mut rng),
            word(&mut rng),
            word(&mut rng)
        );
        for s in 0..4 {
            body.push_str(&format!("\n## Stap {s}: {} {}\n\n", word(&mut rng), word(&mut rng)));
            for _ in 0..3 {
                let at = rng.below(t.len() - 20);
                let sentence = &t[at..at + 18];
                body.push_str(&format!("De {} **{}**. {}.\n\n", sentence[0], sentence[1], sentence[2..].join(" ")));
            }
            body.push_str(&format!("- {}\n- {}\n- `{}`\n", word(&mut rng), word(&mut rng), word(&mut rng)));
        }
        if i >= CATEGORIES {
            let prev = i - CATEGORIES;
            body.push_str(&format!("\nZie ook [vraag {prev}](a{prev}.md).\n"));
        }
        std::fs::write(content.join(format!("faq/nl/bench-{c:02}/a{i}.md")), body).expect("write");
    }
}

/// What people type: single words (common and rare), two and three words, a word with a
/// typo, the beginning of a word (search as you type), a ticket subject, and the questions of
/// the relevance set.
fn query_mix(corpus: &Corpus, n: usize) -> Vec<String> {
    let mut rng = Rng(0xfeed_beef_0042_0001);
    let t = &corpus.tokens;
    let w = &corpus.words;
    let relevance = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/relevance.toml"))
        .expect("relevance.toml");
    let real: Vec<String> = relevance
        .lines()
        .filter_map(|l| l.strip_prefix("q = \"").and_then(|r| r.strip_suffix('"')).map(str::to_owned))
        .collect();
    (0..n)
        .map(|i| match i % 8 {
            0 => t[rng.below(t.len())].clone(),
            1 => w[rng.below(w.len())].clone(),
            2 => format!("{} {}", w[rng.below(w.len())], w[rng.below(w.len())]),
            3 => {
                let at = rng.below(t.len() - 4);
                t[at..at + 3].join(" ")
            }
            4 => {
                let mut chars: Vec<char> = w[rng.below(w.len())].chars().collect();
                let k = rng.below(chars.len());
                if rng.below(2) == 0 {
                    chars.remove(k);
                } else {
                    let next = (k + 1) % chars.len();
                    chars.swap(k, next);
                }
                chars.into_iter().collect()
            }
            5 => {
                let word = &w[rng.below(w.len())];
                word.chars().take(3 + rng.below(3)).collect()
            }
            6 => {
                let at = rng.below(t.len() - 8);
                t[at..at + 6].join(" ")
            }
            _ => real[rng.below(real.len())].clone(),
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() { copy_dir(&src, &dst) } else { std::fs::copy(&src, &dst).map(drop).expect("copy") }
    }
}
