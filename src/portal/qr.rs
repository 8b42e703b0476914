//! The pagoPA QR code of a notice (`PAGOPA|002|notice|EC|cents`, ISO/IEC 18004) as a PNG, and
//! the notice number and amount as printed notices show them.

use qrcode::{EcLevel, QrCode};

/// Pixels per QR module, and the quiet zone in modules (the standard asks for four).
const SCALE: usize = 6;
const QUIET: usize = 4;

/// `PAGOPA|002|<notice number, 18 digits>|<EC fiscal code, 11>|<amount in cents, 10 digits>`,
/// or `None` when a part does not have its form.
pub fn payload(notice_number: &str, fiscal_code: &str, amount: &str) -> Option<String> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(notice_number, 18) || !digits(fiscal_code, 11) {
        return None;
    }
    Some(format!(
        "PAGOPA|002|{notice_number}|{fiscal_code}|{:010}",
        cents(amount)?
    ))
}

/// `120.50` → 12050, from the decimal text (never through floating point).
pub fn cents(amount: &str) -> Option<u64> {
    let (units, fraction) = amount.trim().split_once('.').unwrap_or((amount.trim(), ""));
    if units.is_empty()
        || fraction.len() > 2
        || !(units.bytes().chain(fraction.bytes())).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let fraction = format!("{fraction:0<2}");
    units
        .parse::<u64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(fraction.parse::<u64>().ok()?)
}

/// `12050` cents → `120,50 €` (Italian decimal comma, thousands with a dot).
pub fn euros(cents: u64) -> String {
    let units = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(c);
    }
    format!("{grouped},{:02} €", cents % 100)
}

/// `301000000000000042` → `3010 0000 0000 0000 42`, as on printed notices.
pub fn notice_number_printed(n: &str) -> String {
    n.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The QR code of `payload` as a grey-scale PNG.
pub fn png(payload: &str) -> Result<Vec<u8>, String> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| format!("QR code: {e}"))?;
    let width = code.width();
    let colors = code.to_colors();
    let side = (width + 2 * QUIET) * SCALE;
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c != qrcode::Color::Dark {
            continue;
        }
        let (x, y) = (i % width + QUIET, i / width + QUIET);
        for dy in 0..SCALE {
            let row = (y * SCALE + dy) * side;
            pixels[row + x * SCALE..row + (x + 1) * SCALE].fill(0);
        }
    }
    let mut out = Vec::new();
    {
        let side32 = u32::try_from(side).map_err(|_| "QR code too large".to_owned())?;
        let mut encoder = png::Encoder::new(&mut out, side32, side32);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
        writer
            .write_image_data(&pixels)
            .map_err(|e| e.to_string())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_and_printed_forms() {
        assert_eq!(cents("120.50"), Some(12050));
        assert_eq!(cents("7"), Some(700));
        assert_eq!(cents("0.5"), Some(50));
        assert_eq!(cents("1.234"), None);
        assert_eq!(cents("-1.00"), None);
        assert_eq!(
            payload("301000000000000042", "80000000001", "120.50").as_deref(),
            Some("PAGOPA|002|301000000000000042|80000000001|0000012050")
        );
        assert_eq!(payload("3010", "80000000001", "1.00"), None);
        assert_eq!(euros(123_456_789), "1.234.567,89 €");
        assert_eq!(euros(5), "0,05 €");
        assert_eq!(
            notice_number_printed("301000000000000042"),
            "3010 0000 0000 0000 42"
        );
        let png = png("PAGOPA|002|301000000000000042|80000000001|0000012050").expect("png");
        assert!(png.starts_with(b"\x89PNG"));
    }
}
