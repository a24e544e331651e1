//! Build-time benchmark: the real content plus N synthetic FAQ articles (N = 1,000 and 10,000
//! by default, or the numbers given as arguments), built the way `helpdesk build` does.
//! Prints median wall times of `check`, a fresh build into an empty directory and an unchanged
//! rebuild, the peak resident memory, wall and CPU time of a fresh build in a process of its
//! own, and the time of each step of the last fresh build. Then, on a copy of the content,
//! what `serve` does after an editor saves one FAQ: from writing the file to the new answer of
//! a search for a word the edit put in its title (the site updated in place by a `Session`, the new `index.bin`
//! loaded as the server loads it, the search made).
//!
//! Run: `cargo bench -p site-builder --bench build` (or `-- 1000 10000 50000`). Output goes to
//! `$TMPDIR`; `TMPDIR=/dev/shm` measures the builder without the disk's inode allocation.
//! `--keep DIR` leaves the generated content in `DIR/content-N`; `--content DIR` builds it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CATEGORIES: usize = 40;
const WORDS: &[&str] = &[
    "ticket",
    "wachtwoord",
    "factuur",
    "abonnement",
    "helpdesk",
    "medewerker",
    "antwoord",
    "portaal",
    "bijlage",
    "administratie",
    "sector",
    "deelonderwerp",
    "inloggen",
    "e-mail",
    "werkdagen",
    "evaluatie",
    "status",
    "opgelost",
    "telefonisch",
    "kantooruren",
    "collega",
    "organisatie",
    "formulier",
    "versturen",
    "incidentnummer",
    "vraag",
];

/// Set for the child process that makes one fresh build: `<content dir>` and `<out dir>`.
const ONE_BUILD: [&str; 2] = ["BUILD_BENCH_CONTENT", "BUILD_BENCH_OUT"];

fn main() {
    if let (Some(content), Some(out)) = (std::env::var_os(ONE_BUILD[0]), std::env::var_os(ONE_BUILD[1])) {
        let mut opts = site_builder::BuildOptions::new(content, out);
        opts.dates = site_builder::Dates::Mtime;
        // Timed as the parent times its builds: until `build` returns.
        let start = Instant::now();
        let report = site_builder::build(&opts).unwrap_or_else(|e| panic!("{e}"));
        let elapsed = start.elapsed();
        println!("{} {} {}", peak_rss_kib(), elapsed.as_millis(), cpu_ms());
        // The steps, for a look at one build (the parent reads only the first line).
        let steps: Vec<String> = report.phases.iter().map(|(name, d)| format!("{name} {}", fmt(*d))).collect();
        eprintln!("{} ({})", fmt(elapsed), steps.join(", "));
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `--content DIR`: build that content (e.g. the search bench's `--keep` corpus) instead.
    let given = args.iter().position(|a| a == "--content").and_then(|i| args.get(i + 1)).map(PathBuf::from);
    // `--keep DIR`: leave the generated content in `DIR/content-<articles asked>` (to build it
    // again by hand, e.g. one build in a process of its own).
    let keep = args.iter().position(|a| a == "--keep").and_then(|i| args.get(i + 1)).map(PathBuf::from);
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let sizes = match (&given, sizes.is_empty()) {
        (Some(_), _) => vec![0],
        (None, true) => vec![1_000, 10_000],
        (None, false) => sizes,
    };
    println!(
        "{:>8} {:>8} {:>12} {:>12} {:>12} {:>12}",
        "articles", "pages", "check", "fresh build", "rebuild", "peak RSS"
    );
    // Every size's output stays until the end: on an ext4 without a journal (this VM's), files
    // made within minutes of deleting many others wait while the kernel skips the freed inodes
    // one by one (`recently_deleted`), which would slow the next size's builds by seconds.
    // (For the same reason, a second run soon after measures the disk worse.)
    let mut finished = Vec::new();
    for n in sizes {
        let dir = tempfile::tempdir().expect("tempdir");
        let content = match &given {
            Some(c) => c.clone(),
            None => {
                let content = keep.as_deref().unwrap_or(dir.path()).join(format!("content-{n}"));
                generate(&content, n);
                content
            }
        };
        let runs = if n >= 10_000 || given.is_some() { 3 } else { 5 };
        let mut check = Vec::new();
        let mut fresh = Vec::new();
        let mut rebuild = Vec::new();
        let mut pages = 0;
        let mut articles = 0;
        let mut phases = Vec::new();
        for run in 0..runs {
            let start = Instant::now();
            let (_, diags) = site_builder::prepare(&content, site_builder::Dates::Mtime);
            assert!(diags.is_empty(), "{diags}");
            check.push(start.elapsed());

            // A fresh build into an empty directory, as CI and a deploy do.
            let out = dir.path().join(format!("dist-{run}"));
            let mut opts = site_builder::BuildOptions::new(&content, &out);
            opts.dates = site_builder::Dates::Mtime;
            let start = Instant::now();
            let report = site_builder::build(&opts).unwrap_or_else(|e| panic!("{e}"));
            fresh.push(start.elapsed());
            pages = report.pages;
            articles = report.articles;
            phases = report.phases;

            // The same build again, nothing changed (what `serve` does after an edit).
            let start = Instant::now();
            let report = site_builder::build(&opts).unwrap_or_else(|e| panic!("{e}"));
            rebuild.push(start.elapsed());
            assert_eq!(report.written, 0);
        }
        // Fresh builds in processes of their own, as `helpdesk build` makes them: their time
        // (the figure the build is held to) and peak memory. Several, for the median: the
        // speed of a shared VM drifts from one second to the next.
        let alone: Vec<Alone> =
            (0..ALONE_RUNS).map(|k| one_build(&content, &dir.path().join(format!("dist-alone-{k}")))).collect();
        let peak_kib = alone.iter().map(|a| a.peak_kib).max().unwrap_or(0);
        let median = |v: &mut Vec<Duration>| {
            v.sort();
            fmt(v[v.len() / 2])
        };
        println!(
            "{:>8} {:>8} {:>12} {:>12} {:>12} {:>9.1} MB",
            articles,
            pages,
            median(&mut check),
            median(&mut fresh),
            median(&mut rebuild),
            peak_kib as f64 / 1024.0
        );
        let steps: Vec<String> = phases.iter().map(|(name, d)| format!("{name} {}", fmt(*d))).collect();
        println!("{:>8} last fresh build: {}", "", steps.join(", "));
        // CPU time says more than wall time on a shared machine whose speed varies.
        let mid = |f: fn(&Alone) -> u64| {
            let mut v: Vec<u64> = alone.iter().map(f).collect();
            v.sort_unstable();
            (v[v.len() / 2], v[0])
        };
        let ((wall, fastest), (cpu, _)) = (mid(|a| a.wall_ms), mid(|a| a.cpu_ms));
        println!(
            "{:>8} a fresh build in a process of its own ({} runs): median {wall} ms (fastest {fastest} ms), median {cpu} ms of CPU time on {} cores",
            "",
            alone.len(),
            std::thread::available_parallelism().map_or(1, |n| n.get())
        );

        let copy = dir.path().join("content-edit");
        copy_dir(&content, &copy);
        let (mut times, mut updates, mut answers, phases) = edits(&copy, &dir.path().join("dist-edit"), 26);
        let at = |v: &mut Vec<Duration>, p: usize| {
            v.sort();
            fmt_us(v[(v.len() - 1) * p / 100])
        };
        println!(
            "{:>8} edit one FAQ -> new answer ({} edits): p50 {}, p90 {}, max {}; the update p50 {}, loading the index and searching p50 {}",
            "",
            times.len(),
            at(&mut times, 50),
            at(&mut times, 90),
            at(&mut times, 100),
            at(&mut updates, 50),
            at(&mut answers, 50),
        );
        let steps: Vec<String> = phases.iter().map(|(name, d)| format!("{name} {}", fmt_us(*d))).collect();
        println!("{:>8} last update: {}", "", steps.join(", "));
        finished.push(dir);
    }
}

fn fmt_us(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Edits `n` articles of `content` one after the other, each as `serve` handles a save: the
/// time from writing the file to the search answer that has the new word, the update's part
/// of it, and the loading and searching part; and the last update's steps.
#[allow(clippy::type_complexity)]
fn edits(
    content: &Path,
    out: &Path,
    n: usize,
) -> (Vec<Duration>, Vec<Duration>, Vec<Duration>, Vec<(&'static str, Duration)>) {
    let mut opts = site_builder::BuildOptions::new(content, out);
    opts.dates = site_builder::Dates::Mtime;
    let mut session = site_builder::Session::new(opts);
    session.build().unwrap_or_else(|e| panic!("{e}"));
    let mut files = Vec::new();
    collect_articles(&content.join("faq"), &mut files);
    files.sort();
    let (mut times, mut updates, mut answers, mut phases) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    assert!(n <= 26, "edits' words are told apart by letter");
    for k in 0..n {
        let path = &files[k * files.len() / n];
        let rel: Vec<String> = path
            .strip_prefix(content.join("faq"))
            .expect("under faq")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let url = format!("/{}/{}/{}/", rel[0], rel[1], rel[2].trim_end_matches(".md"));
        // A word no article has: letters only, three letters from any other edit's word (one
        // or two letters off, it would be found as a typo of that one).
        let word: String = format!(
            "zonnewijzer{}",
            [0, 9, 17].map(|shift| char::from(b'a' + ((k + shift) % 26) as u8)).iter().collect::<String>()
        );
        let text = std::fs::read_to_string(path).expect("read");
        let edited = text.replacen("title = \"", &format!("title = \"{word} "), 1);
        let start = Instant::now();
        std::fs::write(path, edited).expect("write");
        let report = session.update(std::slice::from_ref(path)).unwrap_or_else(|e| panic!("{e}"));
        let updated = start.elapsed();
        let index = search_index::SearchIndex::load(&out.join("search")).expect("index");
        // As the article's page asks `/api/search`: in its language.
        let found = index.search(&search_index::SearchRequest::new(&word).lang(&rel[0])).expect("search");
        let elapsed = start.elapsed();
        assert_eq!(found.results.first().map(|h| h.url.as_str()), Some(url.as_str()), "{word}");
        times.push(elapsed);
        updates.push(updated);
        answers.push(elapsed - updated);
        phases = report.phases;
    }
    (times, updates, answers, phases)
}

fn collect_articles(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_articles(&p, out);
        } else if p.extension().is_some_and(|x| x == "md") && !p.ends_with("_index.md") {
            out.push(p);
        }
    }
}

fn fmt(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// The repository's content (config, templates, the real FAQs) plus `n` generated articles in
/// `CATEGORIES` extra Dutch categories, each with sections, a list, links and tags.
fn generate(content: &Path, n: usize) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../content");
    copy_dir(&repo, content);
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
    for i in 0..n {
        let c = i % CATEGORIES;
        let word = |k: usize| WORDS[(i * 7 + k * 13) % WORDS.len()];
        let mut body = format!(
            "+++\ntitle = \"Vraag {i} over {} en {}\"\ndescription = \"Alles over {} in situatie {i}.\"\ntags = [\"{}\", \"{}\"]\nweight = {i}\n+++\n",
            word(0),
            word(1),
            word(2),
            word(3),
            word(4)
        );
        for s in 0..4 {
            body.push_str(&format!("\n## Stap {s}: {}\n\n", word(s + 5)));
            for p in 0..3 {
                let sentence: Vec<&str> = (0..18).map(|k| word(s * 31 + p * 17 + k)).collect();
                body.push_str(&format!("De {} **{}**. {}.\n\n", sentence[0], sentence[1], sentence[2..].join(" ")));
            }
            body.push_str(&format!("- {}\n- {}\n- `{}`\n", word(s), word(s + 1), word(s + 2)));
        }
        if i >= CATEGORIES {
            let prev = i - CATEGORIES;
            body.push_str(&format!(
                "\nZie ook [vraag {prev}](a{prev}.md#stap-1-{}).\n",
                slug(WORDS[(prev * 7 + 6 * 13) % WORDS.len()])
            ));
        }
        std::fs::write(content.join(format!("faq/nl/bench-{c:02}/a{i}.md")), body).expect("write");
    }
}

fn slug(s: &str) -> String {
    search_index::text::slugify(s)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() { copy_dir(&src, &dst) } else { std::fs::copy(&src, &dst).map(drop).expect("copy") }
    }
}

fn status_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// The user and system CPU time of this process so far, in milliseconds (Linux counts it in
/// hundredths of a second).
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the command name in parentheses: utime and stime are fields 14 and 15.
    let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, rest)| rest).split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    (ticks(11) + ticks(12)) * 10
}

/// What [`one_build`] measured.
struct Alone {
    peak_kib: u64,
    wall_ms: u64,
    cpu_ms: u64,
}

/// How many fresh builds in processes of their own ([`one_build`]) each size gets.
const ALONE_RUNS: usize = 7;

/// Runs this benchmark again as a child that makes one fresh build of `content` into `out`: its
/// peak resident memory (VmHWM: the whole process, binary and all), the build's wall time and
/// the process's CPU time.
fn one_build(content: &Path, out: &Path) -> Alone {
    let exe = std::env::current_exe().expect("current exe");
    let output = std::process::Command::new(exe)
        .env(ONE_BUILD[0], content)
        .env(ONE_BUILD[1], out)
        .output()
        .expect("run the one-build child");
    assert!(output.status.success(), "one-build child: {}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let n: Vec<u64> = stdout.split_whitespace().map(|f| f.parse().expect("numbers from the child")).collect();
    Alone { peak_kib: n[0], wall_ms: n[1], cpu_ms: n[2] }
}
