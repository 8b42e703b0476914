//! Reads a registry document from bytes or a file: plain JSON, gzip or zlib, told apart by sniffing.

use std::io::Read;
use std::path::Path;

use flate2::read::{GzDecoder, ZlibDecoder};

use super::raw::RawConfig;
use super::snapshot::Snapshot;

/// Decompressed documents larger than this are refused (a bound against compression bombs).
pub const MAX_DOCUMENT_BYTES: u64 = 1024 * 1024 * 1024;

/// Why a registry document could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot decompress the {format} document: {source}")]
    Decompress {
        format: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("the decompressed document exceeds {MAX_DOCUMENT_BYTES} bytes")]
    TooLarge,
    #[error("invalid JSON at {path} (map {map:?}, key {key:?}, field {field:?}): {message}")]
    Json {
        path: String,
        map: String,
        key: String,
        field: String,
        message: String,
    },
}

/// The encodings a ConfigDataV1 document comes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Plain,
    Gzip,
    Zlib,
}

impl Encoding {
    /// gzip starts `1f 8b`; zlib starts with a CMF/FLG pair whose 16-bit value is a multiple of 31
    /// and whose method is deflate (`78 01|5e|9c|da` in practice); anything else is plain JSON.
    pub fn sniff(bytes: &[u8]) -> Self {
        match bytes {
            [0x1f, 0x8b, ..] => Encoding::Gzip,
            [cmf, flg, ..]
                if cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0 =>
            {
                Encoding::Zlib
            }
            _ => Encoding::Plain,
        }
    }
}

pub fn load_file(path: &Path) -> Result<Snapshot, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    load_bytes(&bytes)
}

/// Reads a document: only a document that is not one (not JSON, a map that is not an object)
/// is refused; entries that cannot serve are noted in the snapshot's `findings`.
pub fn load_bytes(bytes: &[u8]) -> Result<Snapshot, LoadError> {
    // The decompressed text is dropped before the snapshot is built: a large registry would
    // otherwise hold document, raw model and snapshot at once.
    let raw = parse_json(&decompress(bytes)?)?;
    Ok(Snapshot::from(raw))
}

fn decompress(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>, LoadError> {
    let (format, reader): (&'static str, Box<dyn Read + '_>) = match Encoding::sniff(bytes) {
        Encoding::Plain => return Ok(std::borrow::Cow::Borrowed(bytes)),
        Encoding::Gzip => ("gzip", Box::new(GzDecoder::new(bytes))),
        Encoding::Zlib => ("zlib", Box::new(ZlibDecoder::new(bytes))),
    };
    let mut out = Vec::new();
    reader
        .take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|source| LoadError::Decompress { format, source })?;
    if out.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(LoadError::TooLarge);
    }
    Ok(std::borrow::Cow::Owned(out))
}

fn parse_json(json: &[u8]) -> Result<RawConfig, LoadError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let mut parts = path.splitn(3, '.');
        let map = parts.next().unwrap_or_default().to_owned();
        let key = parts.next().unwrap_or_default().to_owned();
        let field = parts.next().unwrap_or_default().to_owned();
        LoadError::Json {
            path,
            map,
            key,
            field,
            message: e.into_inner().to_string(),
        }
    })
}
