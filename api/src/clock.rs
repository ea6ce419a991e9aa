//! The current instant, truncated to whole seconds: every stored timestamp has the
//! same precision, so SQLite's text timestamps compare in time order.

use chrono::{DateTime, SubsecRound, Utc};

pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(0)
}
