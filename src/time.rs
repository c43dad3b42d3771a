//! Capture time: the one clock rdsflows knows. Owns `Timestamp` and `Duration` arithmetic on it;
//! must never read the wall clock (pcap runs are reproducible because of that).

use std::fmt;

/// A packet timestamp: nanoseconds since the Unix epoch, as the capture recorded it.
///
/// Signed so that a capture with a bogus pre-1970 clock still orders correctly; i64 nanoseconds
/// reach the year 2262, beyond any pcap timestamp (u32 seconds end in 2106).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The epoch itself; used as "no time yet".
    pub const ZERO: Self = Self(0);
    /// The latest representable time (sorts after every real one).
    pub const MAX: Self = Self(i64::MAX);

    /// From nanoseconds since the epoch.
    pub const fn from_nanos(nanos: i64) -> Self {
        Self(nanos)
    }

    /// From seconds and a sub-second part in nanoseconds (saturating, never panics).
    pub fn from_parts(secs: i64, nanos: u32) -> Self {
        Self(
            secs.saturating_mul(1_000_000_000)
                .saturating_add(i64::from(nanos)),
        )
    }

    /// Nanoseconds since the epoch.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Seconds since the epoch as a float, for JSON output (Zeek's `ts` convention).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// The time elapsed from `earlier` to `self`, zero if `earlier` is later (captures can go
    /// backwards in time; that must never produce a negative duration or a panic).
    pub fn since(self, earlier: Self) -> Duration {
        Duration(self.0.saturating_sub(earlier.0).max(0))
    }

    /// `self + d`, saturating.
    pub fn plus(self, d: Duration) -> Self {
        Self(self.0.saturating_add(d.0))
    }
}

impl fmt::Display for Timestamp {
    /// Seconds with microseconds, like tcpdump's `-tt`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.div_euclid(1_000_000_000);
        let micros = self.0.rem_euclid(1_000_000_000) / 1000;
        write!(f, "{secs}.{micros:06}")
    }
}

/// A non-negative span of capture time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(i64);

impl Duration {
    /// No time at all.
    pub const ZERO: Self = Self(0);

    /// From whole seconds (saturating).
    pub const fn from_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1_000_000_000))
    }

    /// From nanoseconds; negative values become zero.
    pub const fn from_nanos(nanos: i64) -> Self {
        if nanos < 0 {
            Self(0)
        } else {
            Self(nanos)
        }
    }

    /// Nanoseconds.
    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    /// Seconds as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

/// Formats a timestamp as UTC `YYYY-MM-DD HH:MM:SS` (proleptic Gregorian; Howard Hinnant's
/// days-to-civil algorithm), with no time-zone database and no clock.
pub fn format_utc(ts: Timestamp) -> String {
    let secs = ts.as_nanos().div_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a point in time: Unix seconds (`1793606400`, `1793606400.5`) or a UTC date and time
/// `YYYY-MM-DDTHH:MM[:SS][Z]` (a space may replace the `T`; used by the CLI).
///
/// # Errors
/// A message saying what was wrong with the text.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    let text = text.trim();
    let bad = || format!("'{text}' is not a time (examples: 2026-11-02T08:05:00Z, 1793606700)");
    if let Ok(secs) = text.parse::<f64>() {
        if secs.is_finite() && secs.abs() < 9e9 {
            return Ok(Timestamp::from_nanos((secs * 1e9).round() as i64));
        }
        return Err(bad());
    }
    let text = text.strip_suffix('Z').unwrap_or(text);
    let (date, time) = text.split_once(['T', ' ']).ok_or_else(bad)?;
    let numbers = |part: &str, sep: char| -> Result<Vec<i64>, String> {
        part.split(sep)
            .map(|n| n.parse::<i64>().map_err(|_| bad()))
            .collect()
    };
    let d = numbers(date, '-')?;
    let t = numbers(time, ':')?;
    let (&[year, month, day], [hour, minute, rest @ ..]) = (d.as_slice(), t.as_slice()) else {
        return Err(bad());
    };
    let second = match rest {
        [] => 0,
        [s] => *s,
        _ => return Err(bad()),
    };
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || !(0..24).contains(hour)
        || !(0..60).contains(minute)
        || !(0..61).contains(&second)
    {
        return Err(bad());
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Ok(Timestamp::from_nanos(secs * 1_000_000_000))
}

/// Parses a human duration: `90`, `90s`, `5m`, `2h`, `1d`, `250ms` (used by the CLI).
///
/// # Errors
/// A message saying what was wrong with the text.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let value: i64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (examples: 30s, 5m, 2h)"))?;
    let nanos_per_unit: i64 = match unit {
        "" | "s" => 1_000_000_000,
        "ms" => 1_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => {
            return Err(format!(
                "'{text}': unknown unit '{unit}' (use ms, s, m, h or d)"
            ))
        }
    };
    value
        .checked_mul(nanos_per_unit)
        .map(Duration::from_nanos)
        .ok_or_else(|| format!("'{text}' is too long a duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_time_reads_utc_dates_and_unix_seconds() {
        let t0 = Timestamp::from_nanos(1_793_606_400 * 1_000_000_000);
        assert_eq!(parse_time("2026-11-02T08:00:00Z"), Ok(t0));
        assert_eq!(parse_time("2026-11-02 08:00"), Ok(t0));
        assert_eq!(parse_time("1793606400"), Ok(t0));
        assert_eq!(
            format_utc(parse_time("2024-02-29T23:59:59").unwrap()),
            "2024-02-29 23:59:59"
        );
        assert!(parse_time("2026-13-02T08:00").is_err());
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn display_is_seconds_with_micros() {
        assert_eq!(Timestamp::from_parts(1, 5_000).to_string(), "1.000005");
        assert_eq!(Timestamp::from_nanos(-1).to_string(), "-1.999999");
    }

    #[test]
    fn since_never_negative() {
        let a = Timestamp::from_parts(10, 0);
        let b = Timestamp::from_parts(5, 0);
        assert_eq!(b.since(a), Duration::ZERO);
        assert_eq!(a.since(b), Duration::from_secs(5));
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(format_utc(Timestamp::ZERO), "1970-01-01 00:00:00");
        // 2026-11-02T08:00:00Z
        assert_eq!(
            format_utc(Timestamp::from_parts(1_793_606_400, 0)),
            "2026-11-02 08:00:00"
        );
        assert_eq!(
            format_utc(Timestamp::from_parts(951_782_400, 0)),
            "2000-02-29 00:00:00"
        );
    }

    #[test]
    fn parse_duration_units() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("250ms").unwrap().as_nanos(), 250_000_000);
        assert!(parse_duration("5x").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("99999999999999999d").is_err());
    }
}
