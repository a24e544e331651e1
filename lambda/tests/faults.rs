//! The load-with-faults runs of `benches/faults.rs`, short: 300 tickets per run from 16
//! clients against the debug build of `helpdesk serve`. The invariants are the same; the
//! figures say nothing about speed here.

#[path = "load/mod.rs"]
mod load;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tickets_survive_failing_mail_concurrent_agents_and_sigkill() {
    let runs = load::run_all(std::path::Path::new(env!("CARGO_BIN_EXE_helpdesk")), 300, 16).await;
    assert_eq!(runs.len(), 3);
    for run in runs {
        assert_eq!(run.latencies.len(), run.tickets);
        println!("{}", run.line());
    }
}
