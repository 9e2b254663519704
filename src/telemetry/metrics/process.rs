//! The standard `process_*` series, named and meant as the Prometheus client
//! libraries export them (Prometheus docs, "Writing client libraries",
//! *Process metrics*): CPU time, resident and virtual memory, open and
//! maximum file descriptors, start time. Read from Linux's `/proc` at each
//! scrape (`/proc/self/stat`, `/proc/self/fd`, `/proc/self/limits`, and the
//! boot time in `/proc/stat`, proc(5)); the clock-tick rate and page size
//! come from the kernel's auxiliary vector through `rustix`. Elsewhere, or
//! when `/proc` cannot be read, the series are left out rather than made
//! up.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Unit;

/// Reads the process series at each scrape.
#[derive(Debug)]
pub(super) struct ProcessCollector {
    clock_ticks: f64,
    page_size: f64,
    /// Boot time in Unix seconds (`btime`), read once: it does not change.
    boot_time: Option<f64>,
}

impl ProcessCollector {
    pub(super) fn new() -> Self {
        Self {
            clock_ticks: clock_ticks_per_second(),
            page_size: page_size(),
            boot_time: read("/proc/stat").as_deref().and_then(parse_boot_time),
        }
    }
}

/// One reading of `/proc/self/stat`, in Prometheus units.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Stat {
    cpu_seconds: f64,
    /// Seconds after boot.
    started_after_boot: f64,
    virtual_bytes: f64,
    resident_bytes: f64,
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        if let Some(stat) = read("/proc/self/stat")
            .as_deref()
            .and_then(|t| parse_stat(t, self.clock_ticks, self.page_size))
        {
            let cpu = ConstCounter::new(stat.cpu_seconds);
            cpu.encode(encoder.encode_descriptor(
                "process_cpu",
                "Total user and system CPU time spent in seconds",
                Some(&Unit::Seconds),
                cpu.metric_type(),
            )?)?;
            gauge(
                &mut encoder,
                "process_resident_memory",
                "Resident memory size in bytes",
                Some(&Unit::Bytes),
                stat.resident_bytes,
            )?;
            gauge(
                &mut encoder,
                "process_virtual_memory",
                "Virtual memory size in bytes",
                Some(&Unit::Bytes),
                stat.virtual_bytes,
            )?;
            if let Some(boot) = self.boot_time {
                gauge(
                    &mut encoder,
                    "process_start_time",
                    "Start time of the process since unix epoch in seconds",
                    Some(&Unit::Seconds),
                    boot + stat.started_after_boot,
                )?;
            }
        }
        if let Ok(dir) = std::fs::read_dir("/proc/self/fd") {
            // The directory's own descriptor is among the entries, as in
            // the other client libraries.
            let open = dir.count() as f64;
            gauge(
                &mut encoder,
                "process_open_fds",
                "Number of open file descriptors",
                None,
                open,
            )?;
        }
        if let Some(max) = read("/proc/self/limits").as_deref().and_then(parse_max_fds) {
            gauge(
                &mut encoder,
                "process_max_fds",
                "Maximum number of open file descriptors",
                None,
                max,
            )?;
        }
        Ok(())
    }
}

fn gauge(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: f64,
) -> Result<(), std::fmt::Error> {
    let g = ConstGauge::new(value);
    g.encode(encoder.encode_descriptor(name, help, unit, g.metric_type())?)
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// Fields of `/proc/self/stat` (proc(5)): utime (14) and stime (15) in
/// clock ticks, starttime (22) in clock ticks after boot, vsize (23) in
/// bytes, rss (24) in pages. The command name (2) is in parentheses and
/// may hold spaces or parentheses itself, so fields are counted after the
/// last `)`.
fn parse_stat(text: &str, clock_ticks: f64, page_size: f64) -> Option<Stat> {
    let after_name = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_ascii_whitespace().collect();
    // `fields[0]` is field 3 (state).
    let field = |n: usize| fields.get(n - 3)?.parse::<f64>().ok();
    Some(Stat {
        cpu_seconds: (field(14)? + field(15)?) / clock_ticks,
        started_after_boot: field(22)? / clock_ticks,
        virtual_bytes: field(23)?,
        resident_bytes: field(24)? * page_size,
    })
}

/// `btime` of `/proc/stat`: boot time in Unix seconds.
fn parse_boot_time(text: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()
}

/// The soft limit of `Max open files` in `/proc/self/limits`
/// (`unlimited` is +Inf).
fn parse_max_fds(text: &str) -> Option<f64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line["Max open files".len()..].split_whitespace().next()?;
    match soft {
        "unlimited" => Some(f64::INFINITY),
        n => n.parse().ok(),
    }
}

#[cfg(target_os = "linux")]
fn clock_ticks_per_second() -> f64 {
    rustix::param::clock_ticks_per_second() as f64
}

#[cfg(target_os = "linux")]
fn page_size() -> f64 {
    rustix::param::page_size() as f64
}

/// Linux's `USER_HZ`; only `/proc` readings use it.
#[cfg(not(target_os = "linux"))]
fn clock_ticks_per_second() -> f64 {
    100.0
}

#[cfg(not(target_os = "linux"))]
fn page_size() -> f64 {
    4096.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let text = "4242 (scim (side) car) S 1 4242 4242 0 -1 4194560 1000 0 0 0 \
                    250 150 0 0 20 0 9 0 12345 104857600 2560 18446744073709551615 1 1 0";
        let s = parse_stat(text, 100.0, 4096.0).unwrap();
        assert_eq!(
            s,
            Stat {
                cpu_seconds: 4.0,
                started_after_boot: 123.45,
                virtual_bytes: 104_857_600.0,
                resident_bytes: 2560.0 * 4096.0,
            }
        );
        assert_eq!(parse_stat("4242 (truncated) S 1 2", 100.0, 4096.0), None);
    }

    #[test]
    fn boot_time_and_fd_limit_are_read_from_their_lines() {
        assert_eq!(
            parse_boot_time("cpu  1 2 3\nbtime 1764498280\nprocesses 9\n"),
            Some(1_764_498_280.0)
        );
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max open files            1024                 524288               files     \n";
        assert_eq!(parse_max_fds(limits), Some(1024.0));
        assert_eq!(
            parse_max_fds(
                "Max open files            unlimited            unlimited            files\n"
            ),
            Some(f64::INFINITY)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_reads_as_running_and_using_memory() {
        let c = ProcessCollector::new();
        let stat = read("/proc/self/stat")
            .as_deref()
            .and_then(|t| parse_stat(t, c.clock_ticks, c.page_size))
            .unwrap();
        assert!(stat.resident_bytes > 0.0 && stat.virtual_bytes >= stat.resident_bytes);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let start = c.boot_time.unwrap() + stat.started_after_boot;
        assert!(
            start <= now + 1.0 && start > now - 86_400.0 * 365.0,
            "{start}"
        );
    }
}
