//! SCIM `dateTime` values (RFC 7643 §2.3.5: an `xsd:dateTime` with a time
//! zone, written as RFC 3339) and HTTP dates (RFC 9110 §5.6.7, for
//! `Retry-After`), through the `time` crate: one implementation of each
//! for the whole sidecar.

use time::OffsetDateTime;
use time::format_description::well_known::{Rfc2822, Rfc3339};

/// Parses an RFC 3339 timestamp into nanoseconds since the Unix epoch;
/// `None` when malformed or without a zone.
pub fn parse_rfc3339_nanos(s: &str) -> Option<i128> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp_nanos)
}

/// Formats nanoseconds since the Unix epoch as an RFC 3339 timestamp in
/// UTC (`2024-05-01T12:00:00Z`, fractional seconds only when non-zero);
/// `None` outside the years 0–9999.
pub fn format_rfc3339_nanos(nanos: i128) -> Option<String> {
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()?
        .format(&Rfc3339)
        .ok()
}

/// Parses an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110
/// §5.6.7) into Unix seconds.
pub fn parse_http_date(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s.trim(), &Rfc2822)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_with_zones_and_fractions() {
        assert_eq!(parse_rfc3339_nanos("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339_nanos("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(
            parse_rfc3339_nanos("1969-12-31T23:59:59.25Z"),
            Some(-750_000_000)
        );
        assert_eq!(parse_rfc3339_nanos("2024-05-01T12:00:00"), None);
        assert_eq!(parse_rfc3339_nanos("yesterday"), None);
        assert_eq!(
            format_rfc3339_nanos(1_714_564_800_000_000_000).as_deref(),
            Some("2024-05-01T12:00:00Z")
        );
        assert_eq!(
            format_rfc3339_nanos(1_714_564_800_250_000_000).as_deref(),
            Some("2024-05-01T12:00:00.25Z")
        );
    }

    #[test]
    fn http_dates_parse() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("soon"), None);
    }
}
