//! Registry timestamps: both encodings the configuration cache produces, and calendar dates.
//!
//! ConfigDataV1 dates arrive as ISO-8601 strings with an offset (`2024-01-01T00:00:00+01:00`) or
//! as epoch seconds (`1704063600.000000000`). The catalog needs the calendar date: for strings
//! the date as written, for epoch values the date in Europe/Rome, the Node's time zone.

use std::fmt;

/// A calendar date (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl fmt::Display for Date {
    /// `YYYY-MM-DD`, the `xsd:date` lexical form without time zone.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// An instant with the calendar date it denotes for the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub epoch: i64,
    pub date: Date,
}

/// Why a value is not a timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a date-time: {0}")]
pub struct BadTimestamp(pub String);

impl Timestamp {
    /// Parses `YYYY-MM-DD`, `YYYY-MM-DDThh:mm[:ss[.fff]]` with `Z`, `±hh:mm` or no offset
    /// (then Europe/Rome local time), or an epoch number in a string.
    pub fn parse(s: &str) -> Result<Self, BadTimestamp> {
        let bad = || BadTimestamp(s.chars().take(64).collect());
        let t = s.trim();
        if !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
            && !t.contains('-')
        {
            return Self::from_epoch_str(t).ok_or_else(bad);
        }
        let date = parse_date(t.get(..10).ok_or_else(bad)?).ok_or_else(bad)?;
        let rest = &t[10..];
        if rest.is_empty() {
            return Ok(Self::local_rome(date, 0));
        }
        let rest = rest.strip_prefix(['T', 't', ' ']).ok_or_else(bad)?;
        let (clock, offset) = split_offset(rest).ok_or_else(bad)?;
        let secs_of_day = parse_clock(clock).ok_or_else(bad)?;
        match offset {
            Some(off) => Ok(Self {
                epoch: days_from_civil(date) * 86_400 + secs_of_day - off,
                date,
            }),
            None => Ok(Self::local_rome(date, secs_of_day)),
        }
    }

    /// Epoch seconds (fraction ignored), dated in Europe/Rome.
    pub fn from_epoch(epoch: i64) -> Self {
        let local = epoch + rome_offset(epoch);
        Self {
            epoch,
            date: civil_from_days(local.div_euclid(86_400)),
        }
    }

    fn from_epoch_str(s: &str) -> Option<Self> {
        let whole = s.split('.').next()?;
        if whole.is_empty() || s.matches('.').count() > 1 {
            return None;
        }
        whole.parse::<i64>().ok().map(Self::from_epoch)
    }

    /// A wall-clock time in Europe/Rome.
    fn local_rome(date: Date, secs_of_day: i64) -> Self {
        let naive = days_from_civil(date) * 86_400 + secs_of_day;
        // The offset is that of the instant; trying CET first then checking settles DST edges.
        let guess = naive - 3_600;
        let epoch = naive - rome_offset(guess);
        Self { epoch, date }
    }
}

fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i32 = s[0..4].parse().ok()?;
    let month: u8 = s[5..7].parse().ok()?;
    let day: u8 = s[8..10].parse().ok()?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(Date { year, month, day })
}

fn split_offset(s: &str) -> Option<(&str, Option<i64>)> {
    if let Some(clock) = s.strip_suffix(['Z', 'z']) {
        return Some((clock, Some(0)));
    }
    if let Some(pos) = s.rfind(['+', '-']) {
        let (clock, off) = s.split_at(pos);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let digits = off[1..].replace(':', "");
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let h: i64 = digits[..2].parse().ok()?;
        let m: i64 = digits[2..].parse().ok()?;
        if h > 14 || m > 59 {
            return None;
        }
        return Some((clock, Some(sign * (h * 3_600 + m * 60))));
    }
    Some((s, None))
}

fn parse_clock(s: &str) -> Option<i64> {
    let mut parts = s.splitn(3, ':');
    let h: i64 = num2(parts.next()?)?;
    let m: i64 = num2(parts.next()?)?;
    let sec = match parts.next() {
        None => 0,
        Some(rest) => {
            let (whole, frac) = rest.split_once('.').unwrap_or((rest, "0"));
            if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            num2(whole)?
        }
    };
    if h > 24 || m > 59 || sec > 60 || (h == 24 && (m > 0 || sec > 0)) {
        return None;
    }
    Some(h * 3_600 + m * 60 + sec)
}

fn num2(s: &str) -> Option<i64> {
    if s.len() != 2 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(y) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 (H. Hinnant's algorithm).
pub fn days_from_civil(d: Date) -> i64 {
    let y = i64::from(d.year) - i64::from(d.month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(d.month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d.day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn civil_from_days(z: i64) -> Date {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    Date { year, month, day }
}

/// Europe/Rome's UTC offset at `epoch`: CET (+1 h), CEST (+2 h) from the last Sunday of March
/// 01:00 UTC to the last Sunday of October 01:00 UTC (the EU rule, unchanged since 1996).
pub fn rome_offset(epoch: i64) -> i64 {
    let year = civil_from_days(epoch.div_euclid(86_400)).year;
    let start = last_sunday(year, 3) * 86_400 + 3_600;
    let end = last_sunday(year, 10) * 86_400 + 3_600;
    if (start..end).contains(&epoch) {
        7_200
    } else {
        3_600
    }
}

fn last_sunday(year: i32, month: u8) -> i64 {
    let last = days_from_civil(Date {
        year,
        month,
        day: days_in_month(year, month),
    });
    // 1970-01-01 was a Thursday: weekday 0 = Sunday at day index 3.
    let weekday = (last + 4).rem_euclid(7);
    last - weekday
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_date(s).expect("date")
    }

    #[test]
    fn parses_both_encodings_to_the_same_instant() {
        let a = Timestamp::parse("2024-01-01T00:00:00+01:00").expect("iso");
        let b = Timestamp::parse("1704063600.000000000").expect("epoch");
        assert_eq!(a.epoch, 1_704_063_600);
        assert_eq!(a, b);
        assert_eq!(a.date.to_string(), "2024-01-01");
        let summer = Timestamp::parse("2024-06-01T00:00:00+02:00").expect("iso");
        assert_eq!(Timestamp::from_epoch(summer.epoch).date, d("2024-06-01"));
        assert_eq!(
            Timestamp::parse("2030-12-31T23:59:59.123Z").map(|t| t.date),
            Ok(d("2030-12-31"))
        );
        assert_eq!(
            Timestamp::parse("2024-06-01").map(|t| t.epoch),
            Ok(summer.epoch)
        );
        assert_eq!(
            Timestamp::parse("2024-06-01T00:00:00").map(|t| t.epoch),
            Ok(summer.epoch)
        );
    }

    #[test]
    fn epoch_dates_follow_rome_daylight_saving() {
        // 2024-03-31 00:59:59Z is still CET; 01:00Z starts CEST.
        assert_eq!(rome_offset(1_711_846_799), 3_600);
        assert_eq!(rome_offset(1_711_846_800), 7_200);
        // 23:30Z on 31 Dec is already 1 Jan in Rome; 22:30Z is not.
        assert_eq!(Timestamp::from_epoch(1_704_065_400).date, d("2024-01-01"));
        assert_eq!(Timestamp::from_epoch(1_704_061_800).date, d("2023-12-31"));
    }

    #[test]
    fn refuses_malformed_values() {
        for bad in [
            "",
            "2024-13-01",
            "2024-02-30",
            "2024-01-01X00:00",
            "2024-01-01T25:00:00Z",
            "abc",
            "1.2.3",
            "2024-01-01T00:00:00+1",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn day_arithmetic_round_trips() {
        for z in [-1_000_000, -1, 0, 1, 19_723, 2_000_000] {
            assert_eq!(days_from_civil(civil_from_days(z)), z);
        }
    }
}
