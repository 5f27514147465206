//! UTC clock and calendar arithmetic: milliseconds since the epoch, `YYYY-MM-DD`, RFC 3339.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds in one day.
pub const DAY_MS: i64 = 86_400_000;

/// Now, in UTC milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The UTC day number of an instant.
pub fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

/// `2026-11-24` for a day number.
pub fn format_date(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// `2026-11-24T10:11:12.345Z` for an instant.
pub fn format_rfc3339(ms: i64) -> String {
    let day = day_of(ms);
    let rest = ms - day * DAY_MS;
    let (h, mi, s, milli) = (
        rest / 3_600_000,
        rest / 60_000 % 60,
        rest / 1000 % 60,
        rest % 1000,
    );
    format!("{}T{h:02}:{mi:02}:{s:02}.{milli:03}Z", format_date(day))
}

fn digits(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// The day number of `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&s[0..4])?, digits(&s[5..7])?, digits(&s[8..10])?);
    let dim = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    (1..=dim)
        .contains(&d)
        .then(|| days_from_civil(i64::from(y), m, d))
}

/// An instant given as milliseconds since the epoch, `YYYY-MM-DD` (midnight UTC) or RFC 3339
/// (`2026-11-24T10:11:12Z`, optional fraction, `Z` or `±HH:MM`).
pub fn parse_instant(s: &str) -> Option<i64> {
    if let Ok(ms) = s.parse::<i64>() {
        return Some(ms);
    }
    // Every valid form is ASCII; anything else would make the byte slicing below split a char.
    if !s.is_ascii() {
        return None;
    }
    if s.len() == 10 {
        return parse_date(s).map(|d| d * DAY_MS);
    }
    let (date, time) = s.split_once(['T', 't', ' '])?;
    let day = parse_date(date)?;
    let tb = time.as_bytes();
    if tb.len() < 9 || tb[2] != b':' || tb[5] != b':' {
        return None;
    }
    let (h, mi, sec) = (
        digits(&time[0..2])?,
        digits(&time[3..5])?,
        digits(&time[6..8])?,
    );
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &time[8..];
    let mut milli = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let first3 = format!("{:0<3}", &frac[..n.min(3)]);
        milli = i64::from(digits(&first3)?);
        rest = &frac[n..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ => {
            let rb = rest.as_bytes();
            if rb.len() != 6 || rb[3] != b':' || !matches!(rb[0], b'+' | b'-') {
                return None;
            }
            let (oh, om) = (digits(&rest[1..3])?, digits(&rest[4..6])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let v = i64::from(oh) * 60 + i64::from(om);
            if rb[0] == b'-' {
                -v
            } else {
                v
            }
        }
    };
    let secs = i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(sec) - offset_min * 60;
    Some(day * DAY_MS + secs * 1000 + milli)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        for day in [-800_000, -1, 0, 1, 10_957, 20_416, 2_000_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(format_date(0), "1970-01-01");
        assert_eq!(parse_date("2000-02-29"), Some(11_016));
        assert_eq!(parse_date("2001-02-29"), None);
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(
            format_rfc3339(1_764_000_000_123),
            "2025-11-24T16:00:00.123Z"
        );
    }

    #[test]
    fn parses_instants() {
        assert_eq!(parse_instant("1764000000123"), Some(1_764_000_000_123));
        assert_eq!(
            parse_instant("2025-11-24T16:00:00.123Z"),
            Some(1_764_000_000_123)
        );
        assert_eq!(
            parse_instant("2025-11-24T17:00:00.1234+01:00"),
            Some(1_764_000_000_123)
        );
        assert_eq!(parse_instant("2025-11-24"), Some(20_416 * DAY_MS));
        for bad in [
            "",
            "yesterday",
            "2025-11-24T25:00:00Z",
            "2025-11-24T16:00:00",
            "2025-11-24T16:00:00.Z",
            // Not ASCII: byte offsets would split the "é" (this used to panic).
            "2026-11-24T00:00:0é",
            "2025-11-24T16:00:00+99:99",
        ] {
            assert_eq!(parse_instant(bad), None, "{bad}");
        }
    }
}
