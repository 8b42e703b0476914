//! The few libxml2 entry points the validator needs, declared by hand so the build needs no bindgen.
//!
//! Everything `unsafe` in the crate lives here. The rest of `xsd` sees three safe operations:
//! compile a schema from in-memory files, validate a document, and free both.
//! The declarations match libxml2 2.9–2.13 (Debian 12 ships 2.9.14); only the leading fields of
//! `xmlError` and `xmlNode`, stable across those versions, are read.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr::{self, NonNull};
use std::sync::{Arc, Once};

use super::bundle::Bundle;

#[repr(C)]
struct XmlError {
    domain: c_int,
    code: c_int,
    message: *const c_char,
    level: c_int,
    file: *const c_char,
    line: c_int,
    str1: *const c_char,
    str2: *const c_char,
    str3: *const c_char,
    int1: c_int,
    int2: c_int,
    ctxt: *mut c_void,
    node: *mut XmlNodeHead,
}

/// The common head of `xmlNode` / `xmlAttr` (the part libxml2 documents as "common part").
#[repr(C)]
struct XmlNodeHead {
    private: *mut c_void,
    kind: c_int,
    name: *const c_char,
    children: *mut XmlNodeHead,
    last: *mut XmlNodeHead,
    parent: *mut XmlNodeHead,
}

type StructuredErrorFn = unsafe extern "C" fn(user: *mut c_void, err: *mut XmlError);
type EntityLoaderFn =
    unsafe extern "C" fn(url: *const c_char, id: *const c_char, ctxt: *mut c_void) -> *mut c_void;

#[link(name = "xml2")]
extern "C" {
    fn xmlInitParser();
    fn xmlMemSetup(
        free: unsafe extern "C" fn(*mut c_void),
        malloc: unsafe extern "C" fn(usize) -> *mut c_void,
        realloc: unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void,
        strdup: unsafe extern "C" fn(*const c_char) -> *mut c_char,
    ) -> c_int;
    fn xmlSchemaInitTypes();
    fn xmlSetExternalEntityLoader(f: EntityLoaderFn);
    fn xmlSetStructuredErrorFunc(ctx: *mut c_void, handler: Option<StructuredErrorFn>);
    fn xmlParserInputBufferCreateMem(mem: *const c_char, size: c_int, enc: c_int) -> *mut c_void;
    fn xmlFreeParserInputBuffer(buf: *mut c_void);
    fn xmlNewIOInputStream(ctxt: *mut c_void, buf: *mut c_void, enc: c_int) -> *mut c_void;

    fn xmlNewParserCtxt() -> *mut c_void;
    fn xmlFreeParserCtxt(ctxt: *mut c_void);
    fn xmlCtxtReadMemory(
        ctxt: *mut c_void,
        buffer: *const c_char,
        size: c_int,
        url: *const c_char,
        encoding: *const c_char,
        options: c_int,
    ) -> *mut c_void;
    fn xmlCtxtGetLastError(ctxt: *mut c_void) -> *mut XmlError;
    fn xmlFreeDoc(doc: *mut c_void);

    fn xmlSchemaNewMemParserCtxt(buffer: *const c_char, size: c_int) -> *mut c_void;
    fn xmlSchemaSetParserStructuredErrors(
        ctxt: *mut c_void,
        handler: StructuredErrorFn,
        user: *mut c_void,
    );
    fn xmlSchemaParse(ctxt: *mut c_void) -> *mut c_void;
    fn xmlSchemaFreeParserCtxt(ctxt: *mut c_void);
    fn xmlSchemaFree(schema: *mut c_void);
    fn xmlSchemaNewValidCtxt(schema: *mut c_void) -> *mut c_void;
    fn xmlSchemaSetValidStructuredErrors(
        ctxt: *mut c_void,
        handler: StructuredErrorFn,
        user: *mut c_void,
    );
    fn xmlSchemaValidateDoc(ctxt: *mut c_void, doc: *mut c_void) -> c_int;
    fn xmlSchemaFreeValidCtxt(ctxt: *mut c_void);
}

const XML_PARSE_NOERROR: c_int = 1 << 5;
const XML_PARSE_NOWARNING: c_int = 1 << 6;
const XML_PARSE_NONET: c_int = 1 << 11;
/// No entity substitution, no DTD loading, no network, no reporting on stderr; libxml2's own
/// depth and size limits stay on (XML_PARSE_HUGE is never set).
const INSTANCE_OPTIONS: c_int = XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NONET;
const XML_ELEMENT_NODE: c_int = 1;
const XML_ATTRIBUTE_NODE: c_int = 2;

/// One problem reported by libxml2, copied out of its buffers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawIssue {
    pub code: i32,
    pub line: u32,
    pub message: String,
    /// Slash-separated local names from the root to the offending node, when libxml2 names one.
    pub path: Option<String>,
}

static INIT: Once = Once::new();

thread_local! {
    /// The files an in-progress schema compilation on this thread may import.
    static COMPILING: RefCell<Option<Arc<Bundle>>> = const { RefCell::new(None) };
    static QUIET: Once = const { Once::new() };
    /// This thread's parser context, reused from document to document (creating one costs more
    /// than parsing a small message) and renewed every `PARSER_REUSE` documents, or after a
    /// failed parse, so that its name dictionary cannot grow without bound.
    static PARSER: RefCell<Option<OwnedParser>> = const { RefCell::new(None) };
}

/// A parser context and how many documents it has read; freed with its thread.
struct OwnedParser(NonNull<c_void>, u32);

impl Drop for OwnedParser {
    fn drop(&mut self) {
        // SAFETY: the slot owns the context; nothing else refers to it.
        unsafe { xmlFreeParserCtxt(self.0.as_ptr()) }
    }
}

const PARSER_REUSE: u32 = 256;

/// Lends this thread's parser context.
struct ParserSlot;

impl ParserSlot {
    /// Takes this thread's parser context, or makes one (null when libxml2 cannot allocate).
    fn take() -> (*mut c_void, u32) {
        match PARSER.with(|p| p.borrow_mut().take()) {
            Some(owned) => {
                let taken = (owned.0.as_ptr(), owned.1);
                std::mem::forget(owned);
                taken
            }
            // SAFETY: a fresh context, owned by the caller until given back or freed.
            None => (unsafe { xmlNewParserCtxt() }, 0),
        }
    }

    /// Gives a context back for the next document, or frees it when it has served enough.
    fn give_back(ctxt: *mut c_void, uses: u32, reusable: bool) {
        let Some(nn) = NonNull::new(ctxt) else {
            return;
        };
        if reusable && uses + 1 < PARSER_REUSE {
            // A context already in the slot (none in practice) is freed by its drop.
            let _ = PARSER.with(|p| p.borrow_mut().replace(OwnedParser(nn, uses + 1)));
        } else {
            // SAFETY: `ctxt` is ours and no document refers to it any more.
            unsafe { xmlFreeParserCtxt(ctxt) }
        }
    }
}

/// Initialises libxml2 once per process and silences its per-thread default error output.
fn init() {
    INIT.call_once(|| {
        // SAFETY: called once, before any other libxml2 call made by this crate. libxml2 2.9
        // initialises its table of built-in schema types lazily and without a lock, so two
        // threads compiling their first schema at once could corrupt it (seen in tests: every
        // `xs:string` became `xs:gMonth`); initialising it here, under the `Once`, avoids that.
        unsafe {
            // libxml2 allocates a few hundred blocks per message from two threads at once:
            // mimalloc's per-thread heaps serve that far better than glibc's arenas. Set before
            // libxml2 allocates anything, as its documentation requires.
            xmlMemSetup(
                mi_free_hook,
                mi_malloc_hook,
                mi_realloc_hook,
                mi_strdup_hook,
            );
            xmlInitParser();
            xmlSchemaInitTypes();
            xmlSetExternalEntityLoader(bundle_loader);
        }
    });
    QUIET.with(|q| {
        q.call_once(|| {
            // SAFETY: sets this thread's structured handler to a function that ignores its input,
            // so nothing libxml2 reports outside our own contexts reaches stderr.
            unsafe { xmlSetStructuredErrorFunc(ptr::null_mut(), Some(ignore_error)) }
        })
    });
}

unsafe extern "C" fn mi_malloc_hook(size: usize) -> *mut c_void {
    // SAFETY: mimalloc's malloc, with C semantics.
    unsafe { libmimalloc_sys::mi_malloc(size) }
}

unsafe extern "C" fn mi_realloc_hook(p: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: `p` is null or came from these hooks.
    unsafe { libmimalloc_sys::mi_realloc(p, size) }
}

unsafe extern "C" fn mi_free_hook(p: *mut c_void) {
    // SAFETY: `p` is null or came from these hooks.
    unsafe { libmimalloc_sys::mi_free(p) }
}

unsafe extern "C" fn mi_strdup_hook(s: *const c_char) -> *mut c_char {
    if s.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: libxml2 passes a NUL-terminated string; the copy includes the terminator.
    unsafe {
        let len = CStr::from_ptr(s).to_bytes_with_nul().len();
        let copy = libmimalloc_sys::mi_malloc(len).cast::<c_char>();
        if !copy.is_null() {
            ptr::copy_nonoverlapping(s, copy, len);
        }
        copy
    }
}

unsafe extern "C" fn ignore_error(_user: *mut c_void, _err: *mut XmlError) {}

/// Resolves every external load (schema imports, DTDs, entities) from the bundle being compiled on
/// this thread, by file name; anything else is refused, so libxml2 never touches files or network.
unsafe extern "C" fn bundle_loader(
    url: *const c_char,
    _id: *const c_char,
    ctxt: *mut c_void,
) -> *mut c_void {
    if url.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: libxml2 passes a NUL-terminated URL that lives for the duration of the call.
    let url = unsafe { CStr::from_ptr(url) }.to_string_lossy();
    let bytes = COMPILING.with(|c| {
        c.borrow()
            .as_ref()
            .and_then(|b| b.get_by_location(&url).map(|f| f.to_vec()))
    });
    let Some(bytes) = bytes else {
        return ptr::null_mut();
    };
    let Ok(len) = c_int::try_from(bytes.len()) else {
        return ptr::null_mut();
    };
    // SAFETY: the memory buffer copies `bytes`; on failure of the stream we free the buffer ourselves.
    unsafe {
        let buf = xmlParserInputBufferCreateMem(bytes.as_ptr().cast(), len, 0);
        if buf.is_null() {
            return ptr::null_mut();
        }
        let input = xmlNewIOInputStream(ctxt, buf, 0);
        if input.is_null() {
            xmlFreeParserInputBuffer(buf);
        }
        input
    }
}

unsafe extern "C" fn collect_issue(user: *mut c_void, err: *mut XmlError) {
    if user.is_null() || err.is_null() {
        return;
    }
    // SAFETY: `user` is the `Vec<RawIssue>` registered by the caller for this context only, and
    // `err` points to libxml2's error record, valid for the duration of the callback.
    unsafe {
        let issues = &mut *user.cast::<Vec<RawIssue>>();
        if issues.len() >= 64 {
            return;
        }
        issues.push(issue_from(&*err));
    }
}

/// Copies a libxml2 error record into owned Rust data.
///
/// # Safety
/// `err` must be a live libxml2 error whose `node`, if set, belongs to a live document.
unsafe fn issue_from(err: &XmlError) -> RawIssue {
    let message = if err.message.is_null() {
        String::new()
    } else {
        // SAFETY: libxml2 messages are NUL-terminated C strings.
        unsafe { CStr::from_ptr(err.message) }
            .to_string_lossy()
            .trim_end()
            .to_owned()
    };
    RawIssue {
        code: err.code,
        line: u32::try_from(err.line).unwrap_or(0),
        message,
        // SAFETY: forwarded from the caller's contract.
        path: unsafe { node_path(err.node) },
    }
}

/// Builds `Envelope/Body/op/field` (local names, no prefixes) by walking parent links.
///
/// # Safety
/// `node` is null or points to a node of a live libxml2 document.
unsafe fn node_path(mut node: *mut XmlNodeHead) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    while !node.is_null() && parts.len() < 256 {
        // SAFETY: every node of a live tree starts with the common head; parent links stay in the tree.
        let head = unsafe { &*node };
        if head.kind != XML_ELEMENT_NODE && head.kind != XML_ATTRIBUTE_NODE {
            break;
        }
        if !head.name.is_null() {
            // SAFETY: node names are NUL-terminated strings owned by the document's dictionary.
            let name = unsafe { CStr::from_ptr(head.name) }.to_string_lossy();
            if head.kind == XML_ATTRIBUTE_NODE {
                parts.push(format!("@{name}"));
            } else {
                parts.push(name.into_owned());
            }
        }
        node = head.parent;
    }
    if parts.is_empty() {
        return None;
    }
    parts.reverse();
    Some(parts.join("/"))
}

/// A compiled schema owned by the thread that compiled it (libxml2 schemas are not shared across
/// threads here: the compiled form is cheap to rebuild per thread and that keeps us clear of its
/// dictionary's thread-safety rules).
pub struct CompiledSchema {
    ptr: NonNull<c_void>,
    /// A validation context for this schema, reused by every validation on this thread.
    vctxt: NonNull<c_void>,
}

impl CompiledSchema {
    /// Compiles `entry` from `bundle`; imports resolve inside the bundle only.
    pub fn compile(bundle: &Arc<Bundle>, entry: &str) -> Result<Self, Vec<RawIssue>> {
        init();
        let Some(main) = bundle.get(entry) else {
            return Err(vec![RawIssue {
                code: -1,
                line: 0,
                message: format!("schema file {entry} is not in the bundle"),
                path: None,
            }]);
        };
        let Ok(len) = c_int::try_from(main.len()) else {
            return Err(vec![RawIssue {
                code: -1,
                line: 0,
                message: format!("schema file {entry} is too large"),
                path: None,
            }]);
        };
        COMPILING.with(|c| *c.borrow_mut() = Some(bundle.clone()));
        let mut issues: Vec<RawIssue> = Vec::new();
        // SAFETY: the parser context reads `main` (alive for the whole block) and reports into
        // `issues`, which outlives the context; the context is freed before returning.
        let schema = unsafe {
            let pctxt = xmlSchemaNewMemParserCtxt(main.as_ptr().cast(), len);
            if pctxt.is_null() {
                ptr::null_mut()
            } else {
                xmlSchemaSetParserStructuredErrors(
                    pctxt,
                    collect_issue,
                    (&mut issues as *mut Vec<RawIssue>).cast(),
                );
                let s = xmlSchemaParse(pctxt);
                xmlSchemaFreeParserCtxt(pctxt);
                s
            }
        };
        COMPILING.with(|c| *c.borrow_mut() = None);
        // SAFETY: `schema` is a valid compiled schema when non-null.
        let vctxt = NonNull::new(schema)
            .and_then(|s| NonNull::new(unsafe { xmlSchemaNewValidCtxt(s.as_ptr()) }));
        match (NonNull::new(schema), vctxt) {
            (Some(ptr), Some(vctxt)) => Ok(Self { ptr, vctxt }),
            (Some(ptr), None) => {
                // SAFETY: compiled just above and not shared.
                unsafe { xmlSchemaFree(ptr.as_ptr()) };
                Err(vec![RawIssue {
                    code: -1,
                    line: 0,
                    message: "libxml2 could not allocate a validation context".into(),
                    path: None,
                }])
            }
            (None, _) => {
                if issues.is_empty() {
                    issues.push(RawIssue {
                        code: -1,
                        line: 0,
                        message: format!("libxml2 could not compile {entry}"),
                        path: None,
                    });
                }
                Err(issues)
            }
        }
    }

    /// Parses `xml` without entity expansion or external loads and validates it.
    /// `Err` carries the parse error or every schema violation (capped at 64).
    pub fn validate(&self, xml: &[u8]) -> Result<(), ValidationFailure> {
        init();
        let Ok(len) = c_int::try_from(xml.len()) else {
            return Err(ValidationFailure::NotWellFormed(RawIssue {
                code: -1,
                line: 0,
                message: "document too large".into(),
                path: None,
            }));
        };
        // SAFETY: the parser reads `xml` for the duration of the call and copies what it keeps;
        // the document is freed on every path; the parser and validation contexts belong to this
        // thread and hold nothing of this document once the call returns.
        unsafe {
            let (pctxt, uses) = ParserSlot::take();
            if pctxt.is_null() {
                return Err(ValidationFailure::NotWellFormed(RawIssue {
                    code: -1,
                    line: 0,
                    message: "libxml2 could not allocate a parser".into(),
                    path: None,
                }));
            }
            let doc = xmlCtxtReadMemory(
                pctxt,
                xml.as_ptr().cast(),
                len,
                // No base URL: nothing is resolved against it (and none is made up per call).
                ptr::null(),
                // The transport hands over UTF-8 whatever the XML declaration claims. Naming the
                // encoding runs every byte through a UTF-8 converter, so it is named only when a
                // declaration claims another one; otherwise UTF-8 is libxml2's default.
                if declares_other_than_utf8(xml) {
                    c"UTF-8".as_ptr()
                } else {
                    ptr::null()
                },
                INSTANCE_OPTIONS,
            );
            if doc.is_null() {
                let err = xmlCtxtGetLastError(pctxt);
                let issue = if err.is_null() {
                    RawIssue {
                        code: -1,
                        line: 0,
                        message: "documento XML non leggibile".into(),
                        path: None,
                    }
                } else {
                    RawIssue {
                        path: None,
                        ..issue_from(&*err)
                    }
                };
                // A context that failed mid-document is not worth keeping.
                ParserSlot::give_back(pctxt, uses, false);
                return Err(ValidationFailure::NotWellFormed(issue));
            }
            ParserSlot::give_back(pctxt, uses, true);
            let vctxt = self.vctxt.as_ptr();
            let mut issues: Vec<RawIssue> = Vec::new();
            xmlSchemaSetValidStructuredErrors(
                vctxt,
                collect_issue,
                (&mut issues as *mut Vec<RawIssue>).cast(),
            );
            let rc = xmlSchemaValidateDoc(vctxt, doc);
            // `issues` is about to go: the context must not point at it any more.
            xmlSchemaSetValidStructuredErrors(vctxt, collect_issue, ptr::null_mut());
            xmlFreeDoc(doc);
            match rc {
                0 => Ok(()),
                _ => {
                    if issues.is_empty() {
                        issues.push(RawIssue {
                            code: rc,
                            line: 0,
                            message: "schema validation failed".into(),
                            path: None,
                        });
                    }
                    Err(ValidationFailure::Invalid(issues))
                }
            }
        }
    }
}

impl Drop for CompiledSchema {
    fn drop(&mut self) {
        // SAFETY: both pointers came from libxml2 for this schema and are freed exactly once,
        // the validation context before the schema it refers to.
        unsafe {
            xmlSchemaFreeValidCtxt(self.vctxt.as_ptr());
            xmlSchemaFree(self.ptr.as_ptr());
        }
    }
}

/// Whether a leading XML declaration names an encoding other than UTF-8.
fn declares_other_than_utf8(xml: &[u8]) -> bool {
    let head = xml.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(xml);
    if !head.starts_with(b"<?xml") {
        return false;
    }
    // A declaration whose end the reader does not see: name the encoding, to be safe.
    if !head.iter().take(256).any(|b| *b == b'>') {
        return true;
    }
    crate::soap::tree::declared_encoding(xml)
        .is_some_and(|e| !matches!(e.as_str(), "utf-8" | "utf8"))
}

/// Why a document did not validate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationFailure {
    /// libxml2 could not parse it (not well-formed, bad characters, limits exceeded).
    NotWellFormed(RawIssue),
    /// It parsed, and broke the schema in these places.
    Invalid(Vec<RawIssue>),
}
