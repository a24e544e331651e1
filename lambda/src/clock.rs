//! The service's clock. Production reads the system time; tests move it forward (a rating link
//! that expires after 28 days, a resolved ticket that closes after some days) without waiting.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// The system time plus an offset that only tests change. Clones share the offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Sets this clock (and its clones) to `t`; it runs on from there.
    pub fn set(&self, t: DateTime<Utc>) {
        self.offset_ms.store((t - Utc::now()).num_milliseconds(), Ordering::Relaxed);
    }

    /// Moves this clock (and its clones) forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }
}
