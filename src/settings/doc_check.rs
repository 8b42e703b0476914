//! Holds the documented settings table, the defaults table and the serde model to the same keys, defaults and reload marks.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use serde::de::value::{Error, StrDeserializer};
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::defaults::{Reload, KEYS};
use super::raw::RawSettings;
use super::{LogFormat, ServiceDataMode, StationService};

/// The markdown file holding the settings table, from the crate root.
const SETTINGS_DOC: &str = "docs/configuration.md";
/// The header row that starts the settings table in [`SETTINGS_DOC`].
const TABLE_HEADER: &str = "| key | default | reload | meaning |";
/// What the reload column says for each mark.
const LIVE: &str = "live";
const RESTART: &str = "restart";

/// (key, default as written, reload) for every key of the documented table, in its order.
fn documented_keys() -> Vec<(String, String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SETTINGS_DOC);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines().skip_while(|l| l.trim() != TABLE_HEADER);
    assert!(
        lines.next().is_some(),
        "{SETTINGS_DOC} has no settings table starting with {TABLE_HEADER:?}"
    );
    let mut out = Vec::new();
    for row in lines.skip(1).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row
            .trim_start_matches('|')
            .splitn(4, " | ")
            .map(str::trim)
            .collect();
        assert_eq!(cells.len(), 4, "{SETTINGS_DOC}: malformed row {row:?}");
        for key in expand_keys(cells[0]) {
            out.push((key, cells[1].to_owned(), cells[2].to_owned()));
        }
    }
    out
}

/// The keys a key cell names: `` `a.b` ``, `` `a.b`, `a.c` ``, `` `a.b`, `.c` `` (a sibling of the
/// first), or `` `[[t]]` `x`, `y` `` (fields of each `[[t]]` entry).
fn expand_keys(cell: &str) -> Vec<String> {
    let spans: Vec<&str> = cell.split('`').skip(1).step_by(2).collect();
    assert!(!spans.is_empty(), "{SETTINGS_DOC}: no key in {cell:?}");
    let mut table = None;
    let mut keys: Vec<String> = Vec::new();
    for span in spans {
        if let Some(t) = span.strip_prefix('[') {
            table = Some(t.trim_matches(|c| c == '[' || c == ']'));
        } else if let Some(sibling) = span.strip_prefix('.') {
            let first = keys.first().expect("a sibling follows a full key");
            let parent = first
                .rsplit_once('.')
                .expect("the first key has a parent")
                .0;
            keys.push(format!("{parent}.{sibling}"));
        } else if let Some(t) = table {
            keys.push(format!("{t}.{span}"));
        } else {
            keys.push(span.to_owned());
        }
    }
    keys
}

#[test]
fn the_documented_table_lists_the_codes_keys_defaults_and_reload_marks() {
    let documented = documented_keys();
    let code: Vec<(String, String, String)> = KEYS
        .iter()
        .map(|k| {
            let reload = match k.reload {
                Reload::Live => LIVE,
                Reload::Restart(_) => RESTART,
            };
            (k.key.to_owned(), k.default.documented(), reload.to_owned())
        })
        .collect();
    let mut problems = Vec::new();
    for (key, default, reload) in &code {
        match documented.iter().find(|d| &d.0 == key) {
            None => problems.push(format!("{key}: missing from {SETTINGS_DOC}")),
            Some(d) if (&d.1, &d.2) != (default, reload) => problems.push(format!(
                "{key}: {SETTINGS_DOC} says default {} / {}, the code {default} / {reload}",
                d.1, d.2
            )),
            Some(_) => {}
        }
    }
    for (key, ..) in &documented {
        if !code.iter().any(|c| &c.0 == key) {
            problems.push(format!("{key}: in {SETTINGS_DOC}, not a settings key"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let order = |v: &[(String, String, String)]| v.iter().map(|k| k.0.clone()).collect::<Vec<_>>();
    assert_eq!(order(&documented), order(&code), "same keys, same order");
}

#[test]
fn the_defaults_table_names_every_key_of_the_settings_file() {
    let paths = model_paths();
    let table: Vec<&str> = KEYS.iter().map(|k| k.key).collect();
    let under = |p: &str, t: &str| p.strip_prefix(t).is_some_and(|r| r.starts_with('.'));
    for t in &table {
        assert!(
            paths.contains(*t),
            "{t}: in the defaults table, not in the settings model"
        );
        assert_eq!(table.iter().filter(|o| *o == t).count(), 1, "{t} twice");
        assert!(!table.iter().any(|o| under(o, t)), "{t} and keys under it");
    }
    for p in &paths {
        let leaf = !paths.iter().any(|o| under(o, p));
        if leaf {
            assert!(
                table.iter().any(|t| t == p || under(p, t)),
                "{p}: a settings key without a row in the defaults table"
            );
        }
    }
}

#[test]
fn enum_defaults_are_named_as_the_settings_file_spells_them() {
    #[derive(Deserialize)]
    struct V<T> {
        v: T,
    }
    fn read<T: for<'de> Deserialize<'de>>(name: &str) -> T {
        toml::from_str::<V<T>>(&format!("v = {name:?}"))
            .expect(name)
            .v
    }
    for s in [
        StationService::ServicePof,
        StationService::Service,
        StationService::ServiceMod4,
    ] {
        assert_eq!(read::<StationService>(s.name()), s);
    }
    for m in [ServiceDataMode::Validate, ServiceDataMode::PassThrough] {
        assert_eq!(read::<ServiceDataMode>(m.name()), m);
    }
    for f in [LogFormat::Text, LogFormat::Json] {
        assert_eq!(read::<LogFormat>(f.name()), f);
    }
}

/// Every dotted path of the serde model (tables too), per-station tables as `"<code>"`.
fn model_paths() -> BTreeSet<String> {
    let paths = Rc::new(RefCell::new(BTreeSet::new()));
    RawSettings::deserialize(Recorder {
        path: String::new(),
        paths: paths.clone(),
    })
    .expect("the recorder fills every field");
    let out = paths.borrow().clone();
    out
}

/// A deserializer that offers every field of every struct once, noting its path.
struct Recorder {
    path: String,
    paths: Rc<RefCell<BTreeSet<String>>>,
}

impl Recorder {
    fn child(&self, name: &str) -> Self {
        let path = if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        };
        self.paths.borrow_mut().insert(path.clone());
        Recorder {
            path,
            paths: self.paths.clone(),
        }
    }

    fn same(&self) -> Self {
        Recorder {
            path: self.path.clone(),
            paths: self.paths.clone(),
        }
    }
}

fn name(s: &'static str) -> StrDeserializer<'static, Error> {
    s.into_deserializer()
}

impl<'de> de::Deserializer<'de> for Recorder {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
        Err(de::Error::custom(format!(
            "{}: a type the recorder does not know",
            self.path
        )))
    }
    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_bool(false)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_u64(1)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_f64(1.0)
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_str("x")
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_str("x")
    }
    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_some(self)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_seq(One {
            rec: self,
            done: false,
        })
    }
    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Error> {
        v.visit_map(Fields {
            rec: self,
            names: ["\"<code>\""].iter(),
            current: "",
        })
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_map(Fields {
            rec: self,
            names: fields.iter(),
            current: "",
        })
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Error> {
        v.visit_enum(name(variants[0]))
    }

    serde::forward_to_deserialize_any! {
        i8 i16 i32 i64 i128 u8 u16 u32 u128 f32 char bytes byte_buf unit unit_struct
        newtype_struct tuple tuple_struct identifier ignored_any
    }
}

/// One element of a sequence, at the sequence's own path.
struct One {
    rec: Recorder,
    done: bool,
}

impl<'de> SeqAccess<'de> for One {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(None);
        }
        seed.deserialize(self.rec.same()).map(Some)
    }
}

/// A struct's fields (or one map entry) by name, each value recorded under its path.
struct Fields {
    rec: Recorder,
    names: std::slice::Iter<'static, &'static str>,
    current: &'static str,
}

impl<'de> MapAccess<'de> for Fields {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.names.next().copied() {
            None => Ok(None),
            Some(n) => {
                self.current = n;
                seed.deserialize(name(n)).map(Some)
            }
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(self.rec.child(self.current))
    }
}
