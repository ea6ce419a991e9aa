//! The name an instance writes into `job_runs.instance_id`: enough to find the process
//! (host and pid) and unique even when a pid is reused after a restart (random suffix).

use rand::distr::{Alphanumeric, SampleString};
use std::sync::OnceLock;

/// `<hostname>-<pid>-<6 random characters>`, the same for the whole process.
pub fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        format!(
            "{}-{}-{}",
            hostname(),
            std::process::id(),
            Alphanumeric.sample_string(&mut rand::rng(), 6)
        )
    })
}

/// The kernel's host name; the id only labels rows for people, so a host without one
/// (some containers) is named `unknown-host` and the pid and suffix still tell instances apart.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown-host".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_instance_id_names_host_and_pid_and_stays_the_same() {
        let id = instance_id();
        assert!(id.contains(&format!("-{}-", std::process::id())), "{id}");
        assert_eq!(instance_id(), id);
    }
}
