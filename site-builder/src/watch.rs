//! Rebuilding when `content/` changes.

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

/// Calls `on_change` (on a background thread) after files under `dir` change, at most once per
/// burst of changes. The returned watcher stops watching when dropped.
pub fn watch<F>(dir: &Path, on_change: F) -> notify::Result<notify::RecommendedWatcher>
where
    F: Fn() + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<()>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            let _ = tx.send(());
        }
    })?;
    watcher.watch(dir, RecursiveMode::Recursive)?;
    std::thread::spawn(move || {
        while rx.recv().is_ok() {
            // Editors save several files at once; wait for the burst to settle.
            while rx.recv_timeout(Duration::from_millis(150)).is_ok() {}
            on_change();
        }
    });
    Ok(watcher)
}
