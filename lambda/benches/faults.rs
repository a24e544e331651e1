//! Load with faults against the real `helpdesk serve` (release build): tickets from many
//! clients, then the same with the SMTP server refusing every other message while agents
//! answer, then the same with the server killed (SIGKILL) halfway and restarted. Every run is
//! checked (see `tests/load/mod.rs`); this prints the figures.
//!
//! Run: `cargo bench -p helpdesk --bench faults` (10,000 tickets per run from 64 clients) or
//! `-- <tickets> <clients>`. A short run is a test: `cargo test -p helpdesk --test faults`.

#[path = "../tests/load/mod.rs"]
mod load;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let tickets = args.first().copied().unwrap_or(10_000);
    let clients = args.get(1).copied().unwrap_or(64);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    let runs = rt.block_on(load::run_all(std::path::Path::new(env!("CARGO_BIN_EXE_helpdesk")), tickets, clients));
    println!("load with faults: {tickets} tickets per run from {clients} clients against `helpdesk serve`");
    for run in runs {
        println!("- {}", run.line());
    }
}
