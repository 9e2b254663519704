//! Which exposition format a scraper gets: the Prometheus text format
//! 0.0.4 (Prometheus docs, "Exposition formats"), which every Prometheus
//! and most other scrapers parse, unless the `Accept` header prefers
//! OpenMetrics 1.0 (`application/openmetrics-text`, as Prometheus itself
//! asks). Preference follows the q-values of RFC 9110 §12.5.1; a tie goes
//! to OpenMetrics when it is named. Both encoders are prometheus-client's.

/// An exposition format of `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

/// The media type of the Prometheus text format.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

impl Format {
    /// The format a request's `Accept` headers ask for.
    pub fn from_headers(headers: &http::HeaderMap) -> Self {
        let accept: Vec<&str> = headers
            .get_all(http::header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        Self::negotiate((!accept.is_empty()).then(|| accept.join(",")).as_deref())
    }

    /// The format an `Accept` header (all its values, comma-joined) asks
    /// for; no header is the Prometheus text format.
    pub fn negotiate(accept: Option<&str>) -> Self {
        let Some(accept) = accept else {
            return Self::Prometheus;
        };
        let mut openmetrics: Option<f32> = None;
        let mut text: Option<f32> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let Some(q) = quality(parts) else {
                continue;
            };
            let slot = match media.as_str() {
                "application/openmetrics-text" => &mut openmetrics,
                "text/plain" | "text/*" | "*/*" => &mut text,
                _ => continue,
            };
            *slot = Some(slot.map_or(q, |old| old.max(q)));
        }
        match openmetrics {
            Some(om) if om > 0.0 && om >= text.unwrap_or(0.0) => Self::OpenMetrics,
            _ => Self::Prometheus,
        }
    }

    /// The `Content-Type` of this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Prometheus => PROMETHEUS_CONTENT_TYPE,
            Self::OpenMetrics => super::CONTENT_TYPE,
        }
    }
}

impl super::Metrics {
    /// The registry as OpenMetrics text ([`super::CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        self.encode_as(Format::OpenMetrics)
    }

    /// The registry in `format` ([`Format::content_type`]).
    pub fn encode_as(&self, format: Format) -> String {
        use prometheus_client::encoding::{prometheus_text, text};
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = match format {
            Format::OpenMetrics => text::encode(&mut out, &self.registry),
            Format::Prometheus => prometheus_text::encode(&mut out, &self.registry),
        };
        out
    }
}

/// The `q` parameter of a media range (1 when absent); `None` for one that
/// is not a qvalue (RFC 9110 §12.4.2), and the range is then ignored.
fn quality<'a>(params: impl Iterator<Item = &'a str>) -> Option<f32> {
    for param in params {
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        if name.trim().eq_ignore_ascii_case("q") {
            let q: f32 = value.trim().parse().ok()?;
            return (0.0..=1.0).contains(&q).then_some(q);
        }
    }
    Some(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_unless_openmetrics_is_preferred() {
        use Format::{OpenMetrics as Om, Prometheus as Text};
        for (accept, want) in [
            (None, Text),
            (Some("*/*"), Text),
            (Some("text/plain"), Text),
            (Some("application/json"), Text),
            (Some("application/openmetrics-text"), Om),
            (Some("Application/OpenMetrics-Text; version=1.0.0"), Om),
            // Prometheus 2.x.
            (
                Some(
                    "application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
                ),
                Om,
            ),
            // Prometheus 3.x.
            (
                Some(
                    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,\
                     application/openmetrics-text;version=0.0.1;q=0.4,\
                     text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,\
                     text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
                ),
                Om,
            ),
            // A scraper configured for the classic format first.
            (
                Some("text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5"),
                Text,
            ),
            (Some("application/openmetrics-text;q=0"), Text),
            (
                Some("application/openmetrics-text;q=bogus, text/plain"),
                Text,
            ),
            (
                Some("text/plain;q=0.5, application/openmetrics-text;q=0.5"),
                Om,
            ),
        ] {
            assert_eq!(Format::negotiate(accept), want, "{accept:?}");
        }
    }
}
