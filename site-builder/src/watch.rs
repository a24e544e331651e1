//! Rebuilding when `content/` changes.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

/// How long a burst of changes must have been quiet before `on_change` hears of it: editors
/// save by writing a temporary file and renaming it, `git checkout` writes many files.
const SETTLE: Duration = Duration::from_millis(10);

/// Calls `on_change` (on a background thread) with the paths that changed under `dir`, once
/// per burst of changes. The returned watcher stops watching when dropped.
pub fn watch<F>(dir: &Path, on_change: F) -> notify::Result<notify::RecommendedWatcher>
where
    F: Fn(Vec<PathBuf>) + Send + 'static,
{
    let (tx, rx) = mpsc::channel::<Vec<PathBuf>>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Ok(event) = res
            && !matches!(event.kind, notify::EventKind::Access(_))
        {
            let _ = tx.send(event.paths);
        }
    })?;
    watcher.watch(dir, RecursiveMode::Recursive)?;
    std::thread::spawn(move || {
        while let Ok(mut paths) = rx.recv() {
            while let Ok(more) = rx.recv_timeout(SETTLE) {
                paths.extend(more);
            }
            paths.sort();
            paths.dedup();
            on_change(paths);
        }
    });
    Ok(watcher)
}

/// Whether a changed path is an editor's scratch file (`.x.md.swp`, `x.md~`, vim's `4913`),
/// which no build reads.
pub fn is_scratch(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with('.')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || (!name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()))
}
