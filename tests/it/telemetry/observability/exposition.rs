//! A strict reader of the Prometheus text format 0.0.4, for checking what
//! `/metrics` answers scrapers that do not ask for OpenMetrics.

use std::collections::{BTreeMap, BTreeSet};

/// A sample's labels, in order.
pub type Labels = Vec<(String, String)>;

/// One sample: its name, labels and value.
pub type Sample = (String, Labels, f64);

/// A family of a Prometheus 0.0.4 exposition: its type and its samples.
#[derive(Debug, Default)]
pub struct Family {
    pub kind: String,
    pub series: Vec<Sample>,
}

/// A histogram's samples of one label set: buckets (`le`, count), `_count`,
/// whether `_sum` was there.
type HistogramSeries = (Vec<(f64, f64)>, Option<f64>, bool);

/// Reads a Prometheus text format 0.0.4 exposition as a strict parser
/// does (Prometheus docs, "Exposition formats"): `# HELP` and `# TYPE` at
/// most once per name and before its samples, no OpenMetrics-only lines
/// (`# EOF`, `# UNIT`, types `info`/`stateset`/…), every sample inside the
/// family its `TYPE` declared (counters, gauges, untyped: the family name
/// itself, `_total` included for counters; histograms: `_bucket` with
/// `le`, `_sum`, `_count`), families contiguous, no duplicate series, no
/// `_created` samples, values that Go's ParseFloat reads, and histograms
/// with cumulative buckets ending in `+Inf` equal to `_count`.
pub fn parse_prometheus_text(text: &str) -> Result<BTreeMap<String, Family>, String> {
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    let mut helped = BTreeSet::new();
    let mut seen_series = BTreeSet::new();
    let mut current: Option<String> = None;
    if !text.ends_with('\n') {
        return Err("the exposition does not end with a newline".into());
    }
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line}", n + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.trim_start().splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("HELP"), Some(name), Some(_)) => {
                    check_name(name).map_err(at)?;
                    if !helped.insert(name.to_owned()) {
                        return Err(at("second HELP".into()));
                    }
                    if families.get(name).is_some_and(|f| !f.series.is_empty()) {
                        return Err(at("HELP after samples".into()));
                    }
                }
                (Some("TYPE"), Some(name), Some(kind)) => {
                    check_name(name).map_err(at)?;
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(at(format!("type {kind} is not a 0.0.4 type")));
                    }
                    if families.contains_key(name) {
                        return Err(at("second TYPE".into()));
                    }
                    if (kind == "counter") != name.ends_with("_total") {
                        return Err(at("only counters are named `_total`".into()));
                    }
                    families.insert(
                        name.to_owned(),
                        Family {
                            kind: kind.to_owned(),
                            series: Vec::new(),
                        },
                    );
                    current = Some(name.to_owned());
                }
                (Some(word @ ("EOF" | "UNIT")), ..) => {
                    return Err(at(format!("`# {word}` is OpenMetrics, not 0.0.4")));
                }
                _ => {}
            }
            continue;
        }
        let (name, labels, value) = parse_sample(line).map_err(at)?;
        let family = current
            .clone()
            .filter(|f| belongs(&families[f].kind, f, &name))
            .ok_or_else(|| at(format!("{name} is outside the family declared last")))?;
        if name.ends_with("_created") {
            return Err(at("`_created` samples are OpenMetrics".into()));
        }
        if !seen_series.insert((name.clone(), labels.clone())) {
            return Err(at("duplicate series".into()));
        }
        let fam = families.get_mut(&family).unwrap();
        if fam.kind == "counter" && (value.is_nan() || value < 0.0) {
            return Err(at("a counter below 0".into()));
        }
        fam.series.push((name, labels, value));
    }
    for (name, fam) in &families {
        if fam.kind == "histogram" {
            check_histogram(name, fam)?;
        }
    }
    Ok(families)
}

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    ok.then_some(()).ok_or(format!("bad metric name {name:?}"))
}

/// Whether sample `name` is part of family `family` of type `kind`.
fn belongs(kind: &str, family: &str, name: &str) -> bool {
    match kind {
        "histogram" => ["_bucket", "_sum", "_count"]
            .iter()
            .any(|s| name.strip_suffix(s) == Some(family)),
        "summary" => {
            name == family
                || ["_sum", "_count"]
                    .iter()
                    .any(|s| name.strip_suffix(s) == Some(family))
        }
        _ => name == family,
    }
}

/// `name{label="value",…} value`: label values with `\\`, `\"` and `\n`
/// escapes only, no duplicate or reserved label names, a Go float value.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let end = line.find(['{', ' ']).ok_or("no value")?;
    let name = &line[..end];
    check_name(name)?;
    let mut rest = &line[end..];
    let mut labels = Vec::new();
    if let Some(mut l) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = l.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = l.find("=\"").ok_or("a label without =\"")?;
            let label = &l[..eq];
            check_name(label).map_err(|_| format!("bad label name {label:?}"))?;
            if label.contains(':') || label.starts_with("__") {
                return Err(format!("reserved label name {label}"));
            }
            if labels.iter().any(|(k, _)| k == label) {
                return Err(format!("label {label} twice"));
            }
            let mut value = String::new();
            let mut chars = l[eq + 2..].char_indices();
            let close = loop {
                match chars.next().ok_or("unterminated label value")? {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                        'n' => value.push('\n'),
                        c @ ('\\' | '"') => value.push(c),
                        c => return Err(format!("escape \\{c} is not 0.0.4")),
                    },
                    (_, '\n') => return Err("newline in a label value".into()),
                    (_, c) => value.push(c),
                }
            };
            labels.push((label.to_owned(), value));
            l = &l[eq + 2 + close + 1..];
            l = l.strip_prefix(',').unwrap_or(l);
        }
    }
    let mut parts = rest
        .strip_prefix(' ')
        .ok_or("no space before the value")?
        .split(' ');
    let value = parts.next().ok_or("no value")?;
    if let Some(ts) = parts.next() {
        ts.parse::<i64>()
            .map_err(|_| format!("bad timestamp {ts}"))?;
    }
    if parts.next().is_some() {
        return Err("trailing text".into());
    }
    Ok((name.to_owned(), labels, go_float(value)?))
}

/// A value as Go's `strconv.ParseFloat` reads it in 0.0.4 (no Rust-only
/// spellings such as `inf` or `infinity`).
fn go_float(v: &str) -> Result<f64, String> {
    match v {
        "+Inf" => return Ok(f64::INFINITY),
        "-Inf" => return Ok(f64::NEG_INFINITY),
        "NaN" => return Ok(f64::NAN),
        _ => {}
    }
    let digits = v.trim_start_matches(['+', '-']);
    let ok = !digits.is_empty()
        && digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    ok.then(|| v.parse::<f64>().ok())
        .flatten()
        .ok_or(format!("bad value {v:?}"))
}

/// Per label set: buckets cumulative in `le` order, a `+Inf` bucket equal
/// to `_count`, and a `_sum`.
fn check_histogram(name: &str, fam: &Family) -> Result<(), String> {
    let mut groups: BTreeMap<Labels, HistogramSeries> = BTreeMap::new();
    for (sample, labels, value) in &fam.series {
        let le = labels.iter().find(|(k, _)| k == "le").map(|(_, v)| v);
        let key: Vec<_> = labels.iter().filter(|(k, _)| k != "le").cloned().collect();
        let g = groups.entry(key).or_default();
        match (sample.strip_prefix(name), le) {
            (Some("_bucket"), Some(le)) => g.0.push((go_float(le)?, *value)),
            (Some("_count"), None) => g.1 = Some(*value),
            (Some("_sum"), None) => g.2 = true,
            _ => return Err(format!("{sample} {labels:?}: not a histogram sample")),
        }
    }
    for (labels, (buckets, count, sum)) in groups {
        let sorted = buckets
            .windows(2)
            .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1);
        let inf = buckets.last().filter(|b| b.0 == f64::INFINITY).map(|b| b.1);
        if !sorted || inf.is_none() || inf != count || !sum {
            return Err(format!("{name} {labels:?}: not a valid histogram"));
        }
    }
    Ok(())
}
