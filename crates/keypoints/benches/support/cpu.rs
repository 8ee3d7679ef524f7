//! The calling thread's own CPU time, for the benches (`support::ThreadCpu`) and the
//! measuring examples (`examples/search_cost.rs`, `examples/extract_peer.rs`).

/// Nanoseconds the calling thread has spent on a CPU, from
/// `/proc/thread-self/schedstat`; `None` where that file does not exist.
pub fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
