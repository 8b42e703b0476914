//! The Node's configuration document (`ConfigDataV1`) as it arrives, before any validation.
//!
//! Only the maps and fields the gateway uses are declared; everything else is ignored. Every
//! field is optional here (nulls and absences are tolerated); `snapshot` decides what is required.
//! A row that does not even have the declared shape (a boolean that is a list, say) is kept aside
//! as a [`BadRow`] instead of refusing the document: real documents carry such rows.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A map of the document; `null` counts as empty.
pub type Map<T> = Option<Rows<T>>;

/// The entries of one map in document order (the v1 catalog lists services in that order), and
/// the entries that could not be read.
#[derive(Debug)]
pub struct Rows<T> {
    pub rows: Vec<(String, T)>,
    pub bad: Vec<BadRow>,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Self {
            rows: Vec::new(),
            bad: Vec::new(),
        }
    }
}

/// An entry whose JSON does not fit the declared shape: its key, the field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    pub key: String,
    pub field: String,
    pub problem: String,
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Rows<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RowsVisitor(PhantomData))
    }
}

struct RowsVisitor<T>(PhantomData<T>);

impl<'de, T: DeserializeOwned> Visitor<'de> for RowsVisitor<T> {
    type Value = Rows<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of entries")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Rows {
            rows: Vec::with_capacity(map.size_hint().unwrap_or(0)),
            bad: Vec::new(),
        };
        // Each entry is first taken as raw JSON text (only checked for syntax), then read into
        // its type, so one entry of the wrong shape costs that entry alone.
        while let Some((key, value)) =
            map.next_entry::<String, Box<serde_json::value::RawValue>>()?
        {
            let mut de = serde_json::Deserializer::from_str(value.get());
            match serde_path_to_error::deserialize::<_, T>(&mut de) {
                Ok(row) => out.rows.push((key, row)),
                Err(e) => out.bad.push(BadRow {
                    key,
                    field: e.path().to_string(),
                    problem: e.into_inner().to_string(),
                }),
            }
        }
        Ok(out)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RawConfig {
    #[serde(deserialize_with = "lenient_string")]
    pub version: Option<String>,
    pub creditor_institutions: Map<RawCreditorInstitution>,
    pub creditor_institution_brokers: Map<RawBroker>,
    pub stations: Map<RawStation>,
    pub creditor_institution_stations: Map<RawStationCi>,
    pub psps: Map<RawPsp>,
    pub psp_brokers: Map<RawBroker>,
    pub channels: Map<RawChannel>,
    pub psp_channel_payment_types: Map<RawPspChannelPaymentType>,
    pub cds_services: Map<RawCdsService>,
    pub cds_subjects: Map<RawCdsSubject>,
    pub cds_subject_services: Map<RawCdsSubjectService>,
    pub cds_categories: Option<serde::de::IgnoredAny>,
    pub ibans: Map<RawIban>,
}

/// `ibans` (IBAN_VALIDI_PER_PA): the accounts of each creditor institution.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawIban {
    pub iban: Option<String>,
    pub creditor_institution_code: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub validity_date: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawCreditorInstitution {
    pub creditor_institution_code: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub enabled: Option<bool>,
    pub business_name: Option<String>,
}

/// Both `creditorInstitutionBrokers` (`broker_code`) and `pspBrokers` (`broker_psp_code`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawBroker {
    pub broker_code: Option<String>,
    pub broker_psp_code: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub enabled: Option<bool>,
    pub description: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub extended_fault_bean: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawConnection {
    pub protocol: Option<String>,
    pub ip: Option<String>,
    #[serde(deserialize_with = "lenient_i64")]
    pub port: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawService {
    pub path: Option<String>,
    pub target_host: Option<String>,
    #[serde(deserialize_with = "lenient_i64")]
    pub target_port: Option<i64>,
    pub target_path: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawProxy {
    pub proxy_host: Option<String>,
    #[serde(deserialize_with = "lenient_i64")]
    pub proxy_port: Option<i64>,
    pub proxy_username: Option<String>,
    pub proxy_password: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawTimeouts {
    #[serde(deserialize_with = "lenient_i64")]
    pub timeout_a: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub timeout_b: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub timeout_c: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawStation {
    pub station_code: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub enabled: Option<bool>,
    #[serde(deserialize_with = "lenient_i64")]
    pub version: Option<i64>,
    pub connection: Option<RawConnection>,
    pub connection_mod4: Option<RawConnection>,
    pub service: Option<RawService>,
    pub service_pof: Option<RawService>,
    pub service_mod4: Option<RawService>,
    pub broker_code: Option<String>,
    pub proxy: Option<RawProxy>,
    pub timeouts: Option<RawTimeouts>,
    #[serde(deserialize_with = "lenient_i64")]
    pub primitive_version: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawStationCi {
    pub creditor_institution_code: Option<String>,
    pub station_code: Option<String>,
    #[serde(deserialize_with = "lenient_i64")]
    pub application_code: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub aux_digit: Option<i64>,
    #[serde(deserialize_with = "lenient_i64")]
    pub segregation_code: Option<i64>,
    #[serde(deserialize_with = "lenient_bool")]
    pub mod4: Option<bool>,
    #[serde(deserialize_with = "lenient_bool")]
    pub spontaneous_payment: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawPsp {
    pub psp_code: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub enabled: Option<bool>,
    pub business_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawChannel {
    pub channel_code: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub enabled: Option<bool>,
    pub password: Option<String>,
    pub broker_psp_code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawPspChannelPaymentType {
    pub psp_code: Option<String>,
    pub channel_code: Option<String>,
    pub payment_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawCdsService {
    #[serde(deserialize_with = "lenient_string")]
    pub id: Option<String>,
    pub description: Option<String>,
    pub reference_xsd: Option<String>,
    #[serde(deserialize_with = "lenient_i64")]
    pub version: Option<i64>,
    pub category: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawCdsSubject {
    pub creditor_institution_code: Option<String>,
    pub creditor_institution_description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawCdsSubjectService {
    pub subject: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub service: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub subject_service_id: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub start_date: Option<String>,
    #[serde(deserialize_with = "lenient_string")]
    pub end_date: Option<String>,
    #[serde(deserialize_with = "lenient_bool")]
    pub fee: Option<bool>,
    pub station_code: Option<String>,
    pub service_description: Option<String>,
}

/// A boolean, or the DB's `Y`/`N`, or `"true"`/`"false"`.
fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    match Option::<B>::deserialize(d)? {
        None => Ok(None),
        Some(B::Bool(b)) => Ok(Some(b)),
        Some(B::Text(s)) => match s.trim() {
            "Y" | "y" | "true" | "TRUE" | "True" => Ok(Some(true)),
            "N" | "n" | "false" | "FALSE" | "False" => Ok(Some(false)),
            other => Err(serde::de::Error::custom(format!(
                "expected a boolean or Y/N, found {other:?}"
            ))),
        },
    }
}

/// An integer, or an integer written as a string.
fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        Int(i64),
        Float(f64),
        Text(String),
    }
    match Option::<N>::deserialize(d)? {
        None => Ok(None),
        Some(N::Int(i)) => Ok(Some(i)),
        Some(N::Float(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Ok(Some(f as i64)),
        Some(N::Float(f)) => Err(serde::de::Error::custom(format!(
            "expected an integer, found {f}"
        ))),
        Some(N::Text(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected an integer, found {s:?}"))),
    }
}

/// A string, or a number kept in its JSON text form (epoch dates, numeric ids).
fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected a string or a number, found {other}"
        ))),
    }
}
