//! Version bridging: an answer of one primitive translated into the other operation's terms
//! (SANP 3 `paDemandPaymentNotice` ↔ legacy `paaChiediNumeroAvviso`), or refused when the
//! target cannot represent it.
//!
//! Notice numbers (18 digits) ↔ `auxDigit` + `applicationCode` + `IUV`: aux digit 0 carries a
//! two-digit application code and a 15-digit IUV; aux digits 1, 2 and 3 carry a 17-digit IUV
//! (for 3 the segregation code is its first two digits). Amounts stay decimal text.

use super::{LegacyNotice, Notice};
use crate::checks::NoticePermit;
use crate::message::PAY_I_NS;
use crate::registry::Snapshot;
use crate::soap::Element;

/// Why an answer cannot be carried by the other operation (log text here; the wire text is
/// `respond::fault`'s).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Untranslatable {
    #[error(
        "auxDigit {aux}, applicationCode {}, IUV of {iuv_digits} digits do not form an 18-digit notice number",
        application_code.as_deref().unwrap_or("-")
    )]
    NoticeNumber {
        aux: String,
        application_code: Option<String>,
        iuv_digits: usize,
    },
    #[error("notice number {0:?} is not 18 digits")]
    NoticeNumberLength(String),
    #[error("aux digit {0} has no legacy notice form")]
    AuxDigit(String),
    #[error("EC code {0:?} is not an 11-digit fiscal code")]
    EcCode(String),
    #[error("amount {0} is zero: paDemandPaymentNotice needs a non-zero amount")]
    ZeroAmount(String),
    #[error("amount option {0} cannot be represented: the legacy answer carries one fixed amount")]
    AmountOption(String),
    #[error("no valid IBAN for EC {0} in the registry (ibans)")]
    NoIban(String),
}

/// `auxDigit` + `applicationCode` + `IUV` → 18-digit notice number.
pub fn notice_number(
    aux: &str,
    application_code: Option<&str>,
    iuv: &str,
) -> Result<String, Untranslatable> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    match (aux, application_code) {
        ("0", Some(app)) if digits(app, 2) && digits(iuv, 15) => Ok(format!("0{app}{iuv}")),
        ("1" | "2" | "3", None) if digits(iuv, 17) => Ok(format!("{aux}{iuv}")),
        _ => Err(Untranslatable::NoticeNumber {
            aux: aux.to_owned(),
            application_code: application_code.map(str::to_owned),
            iuv_digits: iuv.len(),
        }),
    }
}

/// 18-digit notice number → (`auxDigit`, `applicationCode`, `IUV`).
pub fn split_notice_number(n: &str) -> Result<(String, Option<String>, String), Untranslatable> {
    if n.len() != 18 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Untranslatable::NoticeNumberLength(n.to_owned()));
    }
    match &n[..1] {
        "0" => Ok(("0".into(), Some(n[1..3].into()), n[3..].into())),
        "1" | "2" | "3" => Ok((n[..1].into(), None, n[1..].into())),
        other => Err(Untranslatable::AuxDigit(other.to_owned())),
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn pay_i(local: &str, text: &str) -> Element {
    Element {
        ns: Some(PAY_I_NS.to_owned()),
        local: local.to_owned(),
        text: text.to_owned(),
        children: Vec::new(),
        plain: false,
        start: 0,
    }
}

fn leaf(local: &str, text: &str) -> Element {
    Element {
        ns: None,
        local: local.to_owned(),
        text: text.to_owned(),
        children: Vec::new(),
        plain: false,
        start: 0,
    }
}

fn node(ns: Option<&str>, local: &str, children: Vec<Element>) -> Element {
    Element {
        ns: ns.map(str::to_owned),
        local: local.to_owned(),
        text: String::new(),
        children,
        plain: false,
        start: 0,
    }
}

/// A legacy answer for a `demandPaymentNotice`: one fixed amount (`options` EQ), the EC as
/// `qrCode.fiscalCode`, the reason as `paymentDescription`.
pub fn legacy_to_notice(
    l: &LegacyNotice,
    permit: &NoticePermit,
    snap: &Snapshot,
) -> Result<Notice, Untranslatable> {
    let ec = permit.ec_domain();
    if ec.len() != 11 || !ec.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Untranslatable::EcCode(ec.to_owned()));
    }
    let notice_number = notice_number(&l.aux_digit, l.application_code.as_deref(), &l.iuv)?;
    let data = &l.payment_data;
    let amount = data
        .child_text("importoSingoloVersamento")
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if amount.bytes().filter(u8::is_ascii_digit).all(|b| b == b'0') {
        return Err(Untranslatable::ZeroAmount(amount));
    }
    let reason = match (
        data.child_text("causaleVersamento"),
        data.child("spezzoniCausaleVersamento"),
    ) {
        (Some(c), _) => c.trim().to_owned(),
        (None, Some(parts)) => parts
            .children
            .iter()
            .map(|p| match p.child_text("causaleSpezzone") {
                Some(c) => c.trim().to_owned(),
                None => p.text.trim().to_owned(),
            })
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        (None, None) => String::new(),
    };
    let reason = if reason.is_empty() {
        let s = permit.service();
        s.description.clone().unwrap_or_else(|| s.id.clone())
    } else {
        reason
    };
    let beneficiary = data.child("enteBeneficiario");
    let company = beneficiary
        .and_then(|b| b.child_text("denominazioneBeneficiario"))
        .map(str::to_owned)
        .or_else(|| snap.ec_names.get(ec).cloned())
        .unwrap_or_else(|| ec.to_owned());
    Ok(Notice {
        fiscal_code: ec.to_owned(),
        notice_number,
        amount,
        options: "EQ".into(),
        due_date: None,
        detail_description: None,
        payment_description: truncate(&reason, 210),
        fiscal_code_pa: ec.to_owned(),
        company_name: truncate(&company, 140),
        office_name: beneficiary
            .and_then(|b| b.child_text("denomUnitOperBeneficiario"))
            .map(|o| truncate(o, 140)),
    })
}

/// `pay_i:stIBANIdentifier`: two letters, two digits, 1–30 letters or digits.
fn is_iban(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 5
        && b.len() <= 34
        && b[..2].iter().all(u8::is_ascii_alphabetic)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric)
}

/// A SANP 3 answer for a `nodoChiediNumeroAvviso`: the notice number split, the amount as
/// `importoSingoloVersamento`, the EC's account from the registry (`ibans`, the first valid at
/// `now`), the description as the reason, the EC as beneficiary. Variable amounts (`options`
/// other than EQ) and ECs without an account cannot be represented.
pub fn notice_to_legacy(
    n: &Notice,
    snap: &Snapshot,
    now: i64,
) -> Result<LegacyNotice, Untranslatable> {
    if n.options != "EQ" {
        return Err(Untranslatable::AmountOption(n.options.clone()));
    }
    let (aux_digit, application_code, iuv) = split_notice_number(&n.notice_number)?;
    let iban = snap
        .ibans
        .get(&n.fiscal_code_pa)
        .and_then(|list| {
            list.iter()
                .find(|i| is_iban(&i.iban) && i.valid_from.is_none_or(|t| t.epoch <= now))
        })
        .ok_or_else(|| Untranslatable::NoIban(n.fiscal_code_pa.clone()))?;
    let mut beneficiary = vec![
        node(
            Some(PAY_I_NS),
            "identificativoUnivocoBeneficiario",
            vec![
                pay_i("tipoIdentificativoUnivoco", "G"),
                pay_i("codiceIdentificativoUnivoco", &n.fiscal_code_pa),
            ],
        ),
        pay_i("denominazioneBeneficiario", &truncate(&n.company_name, 70)),
    ];
    if let Some(office) = &n.office_name {
        beneficiary.push(pay_i("denomUnitOperBeneficiario", &truncate(office, 70)));
    }
    let payment_data = node(
        None,
        "datiPagamentoPA",
        vec![
            leaf("importoSingoloVersamento", &n.amount),
            leaf("ibanAccredito", &iban.iban),
            node(None, "enteBeneficiario", beneficiary),
            leaf("causaleVersamento", &truncate(&n.payment_description, 140)),
        ],
    );
    Ok(LegacyNotice {
        aux_digit,
        application_code,
        iuv,
        payment_data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notice_numbers_round_trip_through_the_legacy_form() {
        for n in [
            "301000000000000042",
            "012123456789012345",
            "100000000000000001",
            "299999999999999999",
        ] {
            let (aux, app, iuv) = split_notice_number(n).expect("splits");
            assert_eq!(notice_number(&aux, app.as_deref(), &iuv).as_deref(), Ok(n));
        }
        assert_eq!(
            split_notice_number("012123456789012345").expect("0"),
            ("0".into(), Some("12".into()), "123456789012345".into())
        );
        assert!(
            split_notice_number("412345678901234567").is_err(),
            "aux 4 has no legacy form"
        );
        assert!(
            split_notice_number("30100000000000004").is_err(),
            "17 digits"
        );
        assert!(
            notice_number("0", None, "123456789012345").is_err(),
            "aux 0 needs an application code"
        );
        assert!(
            notice_number("3", None, "12345").is_err(),
            "short IUV (valid on the EC side)"
        );
        assert!(notice_number("3", Some("01"), "01000000000000042").is_err());
    }

    #[test]
    fn ibans_follow_the_rpt_pattern() {
        assert!(is_iban("IT60X0542811101000000123456"));
        assert!(!is_iban("IT6"));
        assert!(!is_iban("I160X054"));
        assert!(!is_iban("IT60-0542"));
    }
}
