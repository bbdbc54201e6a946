//! Shared helpers of the proof binaries: process measurements (peak RSS,
//! CPU time) read from `/proc`, and the store a benchmark names. The benchmarks and campaigns of
//! `docs/performance.md` and `docs/reliability.md` run from this crate (its
//! README lists one command per entry point); the simulator, transport and
//! hostile-server figures come from those crates' own benches and tests.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ilink::Store;

/// The store a benchmark's `--store` names: `memory` (SQLite in memory),
/// `sqlite` (a SQLite file in the state directory `dir`) or `postgres` (at
/// `pg_url`, in a schema of its own, `bench_<pid>`).
///
/// # Errors
///
/// An unknown kind, `postgres` without a URL, or the store failing to open.
pub async fn bench_store(
    kind: &str,
    dir: &Path,
    pg_url: Option<&str>,
) -> Result<Arc<dyn Store>, String> {
    match kind {
        "memory" => Ok(Arc::new(ilink::MemoryStore::new())),
        "sqlite" => ilink::SqliteStore::open(dir)
            .map(|s| Arc::new(s) as Arc<dyn Store>)
            .map_err(|e| e.to_string()),
        "postgres" => {
            let url = pg_url.ok_or("--store postgres needs --url")?;
            let schema = format!("bench_{}", std::process::id());
            ilink::store::PgStore::connect_in_schema(url, &schema)
                .await
                .map(|s| Arc::new(s) as Arc<dyn Store>)
                .map_err(|e| ilink::Report::new(&e).to_string())
        }
        other => Err(format!("no store {other:?} in this build")),
    }
}

/// Resident memory of this process now, in KiB (`VmRSS`), 0 where `/proc`
/// is missing.
pub fn rss_kib() -> u64 {
    proc_status_kib("VmRSS:")
}

/// Peak resident memory of this process, in KiB (`VmHWM`).
pub fn peak_rss_kib() -> u64 {
    proc_status_kib("VmHWM:")
}

fn proc_status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// User plus system CPU time of this process so far.
pub fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    // Linux reports clock ticks of 1/100 s on every platform we run on.
    Duration::from_millis(ticks * 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_proc() {
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(rss_kib() > 0);
            assert!(peak_rss_kib() >= rss_kib() / 2);
        }
        let _ = cpu_time();
    }
}
