//! Hostile input over real sockets, table-driven: every case gets its exact answer and counter,
//! nothing crashes, and the gateway serves a valid request right after each one.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support;
use crate::support::ec::{self, TestEc};
use crate::support::{conformance_registry, point_stations_at, Demand, TestGateway};

const LIMITS: &str = "[limits]\nmax_body_bytes = 65536\nmax_xml_depth = 32\nmax_xml_elements = 1000\nmax_xml_attributes = 16\n\
                      max_xml_name_bytes = 64\nmax_xml_text_bytes = 4096\nheader_read_timeout_ms = 300\nbody_read_timeout_ms = 300\n";

async fn gateway(extra: &str) -> (TestEc, TestGateway) {
    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    let gw = TestGateway::start(&registry, &format!("{LIMITS}{extra}")).await;
    (ec, gw)
}

fn port(gw: &TestGateway) -> u16 {
    gw.url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")
}

/// Sends raw bytes, returns (status line, body) of the answer or "" when the connection closed.
async fn raw(gw: &TestGateway, bytes: &[u8]) -> (String, String) {
    let mut tcp = TcpStream::connect(("127.0.0.1", port(gw)))
        .await
        .expect("connect");
    tcp.write_all(bytes).await.expect("send");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut out))
        .await
        .expect("answer in time");
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.lines().next().unwrap_or("").to_owned();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

fn post(ct: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "POST /node-for-psp/v1 HTTP/1.1\r\nHost: localhost\r\nContent-Type: {ct}\r\nSOAPAction: demandPaymentNotice\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    v.extend_from_slice(body);
    v
}

/// (case, request body, HTTP status, faultstring, detail, counter reason)
type Row = (
    &'static str,
    Vec<u8>,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

fn envelope(body: &str) -> String {
    support::nfp_envelope(body)
}

/// Every XML-level hostility is a router fault (HTTP 400, `XML_STREAM_EXC`): the document cannot
/// be read safely, so no operation runs. Charset problems are `PPT_SYSTEM_ERROR`, as the Node's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_documents_get_router_faults_and_are_counted() {
    let (ec, gw) = gateway("").await;
    let demand = Demand::default().xml();
    let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
    let many = "<a/>".repeat(1200);
    let attrs: String = (0..20).map(|i| format!(" a{i}=\"1\"")).collect();
    let cases: Vec<Row> = vec![
        ("billion laughs", format!("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">]>{}", demand.replace("PSP_OK", "&lol2;")).into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "doctype"),
        ("external entity", format!("<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>{}", demand.replace("PSP_OK", "&xxe;")).into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "doctype"),
        ("undeclared entity reference", demand.replace("PSP_OK", "&psp;").into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "undefined_entity"),
        ("entity in an attribute", demand.replace("<soapenv:Header/>", "<soapenv:Header x=\"&e;\"/>").into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "undefined_entity"),
        ("processing instruction", format!("<?xml version=\"1.0\"?><?xml-stylesheet href=\"x\"?>{demand}").into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "processing_instruction"),
        ("nesting deeper than 32", envelope(&deep).into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "too_deep"),
        ("more than 1000 elements", envelope(&many).into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "too_many_elements"),
        ("more than 16 attributes", envelope(&format!("<nod:demandPaymentNoticeRequest{attrs}/>")).into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "too_many_attributes"),
        ("over-long element name", envelope(&format!("<{}/>", "n".repeat(100))).into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "name_too_long"),
        ("over-long text", Demand { data: "A".repeat(5000), ..Demand::default() }.xml().into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "text_too_long"),
        ("two roots", format!("{demand}{demand}").into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "content_after_root"),
        ("unclosed document", demand.replace("</soapenv:Body></soapenv:Envelope>", "").into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "unclosed"),
        ("undeclared prefix", demand.replace("<idPSP>", "<x:idPSP>").replace("</idPSP>", "</x:idPSP>").into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "undeclared_prefix"),
        ("control character", demand.replace("PSP_OK", "PSP\u{1}OK").into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "invalid_char"),
        ("reference to a control character", demand.replace("PSP_OK", "PSP&#27;OK").into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "invalid_char"),
        ("mismatched end tag", demand.replace("</idPSP>", "</idPsp>").into_bytes(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "malformed"),
        ("empty body", Vec::new(), "400", "XML_STREAM_EXC", "Errore richiesta non leggibile", "empty"),
    ];
    for (name, body, status, faultstring, detail, reason) in cases {
        let before = gw.metrics().router_refusals(reason);
        let (line, answer) = raw(&gw, &post("text/xml; charset=UTF-8", &body)).await;
        assert!(line.contains(status), "{name}: {line} {answer}");
        assert!(
            answer.contains(&format!("<faultstring>{faultstring}</faultstring>")),
            "{name}: {answer}"
        );
        assert!(
            answer.contains(&format!("<detail>{detail}</detail>")),
            "{name}: {answer}"
        );
        assert_eq!(
            gw.metrics().router_refusals(reason),
            before + 1,
            "{name}: counted as {reason}"
        );
        assert_eq!(
            gw.demand(&Demand::default().xml()).await.outcome,
            "OK",
            "{name}: still serving"
        );
    }
    let charset_cases: Vec<(&str, &str, Vec<u8>, &str, &str)> = vec![
        (
            "invalid UTF-8",
            "text/xml; charset=UTF-8",
            demand
                .replace("PSP_OK", "PSP\u{FFFD}")
                .replace('\u{FFFD}', "\u{1}")
                .into_bytes()
                .into_iter()
                .map(|b| if b == 1 { 0xff } else { b })
                .collect(),
            "Error, data encoding is not UTF-8",
            "charset",
        ),
        (
            "declaration disagrees with Content-Type",
            "text/xml; charset=UTF-8",
            format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{demand}").into_bytes(),
            "Error, data encoding is not utf-8 (the XML declaration says iso-8859-1)",
            "charset_mismatch",
        ),
        (
            "unsupported charset",
            "text/xml; charset=EBCDIC-US",
            demand.clone().into_bytes(),
            "Error, data encoding is not ebcdic-us",
            "unsupported_charset",
        ),
    ];
    for (name, ct, body, detail, reason) in charset_cases {
        let before = gw.metrics().router_refusals(reason);
        let (line, answer) = raw(&gw, &post(ct, &body)).await;
        assert!(line.contains("400"), "{name}: {line}");
        assert!(
            answer.contains("<faultcode>PPT_SYSTEM_ERROR</faultcode>"),
            "{name}: {answer}"
        );
        assert!(
            answer.contains(&format!("<detail>{detail}</detail>")),
            "{name}: {answer}"
        );
        assert_eq!(gw.metrics().router_refusals(reason), before + 1, "{name}");
        assert_eq!(
            gw.demand(&Demand::default().xml()).await.outcome,
            "OK",
            "{name}: still serving"
        );
    }
    // Without a Content-Type charset, the XML declaration decides.
    let latin1: Vec<u8> = format!(
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>{}",
        Demand {
            psp: "PSP\u{e8}".into(),
            ..Demand::default()
        }
        .xml()
    )
    .chars()
    .map(|c| c as u8)
    .collect();
    let (line, answer) = raw(&gw, &post("text/xml", &latin1)).await;
    assert!(line.contains("200"), "{line}");
    assert!(answer.contains("PPT_PSP_SCONOSCIUTO"), "{answer}");
    assert!(
        ec.received().len() >= 20,
        "the EC only saw the valid requests"
    );
}

/// Size and time limits: a body over the cap is 413 (declared or streamed), a body that trickles
/// is 408, headers that trickle get the connection closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size_and_time_limits_bound_every_request() {
    let _machine = support::serial::machine().await;
    let (_ec, gw) = gateway("").await;
    let big = vec![b'x'; 70_000];
    let (line, answer) = raw(&gw, &post("text/xml", &big)).await;
    assert!(line.contains("413"), "{line}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
    // Chunked, no Content-Length: the cap applies while streaming.
    let mut chunked = b"POST /node-for-psp/v1 HTTP/1.1\r\nHost: x\r\nSOAPAction: demandPaymentNotice\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..20 {
        chunked.extend_from_slice(b"1000\r\n");
        chunked.extend_from_slice(&[b'x'; 4096]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let (line, _) = raw(&gw, &chunked).await;
    assert!(line.contains("413"), "{line}");
    assert_eq!(gw.metrics().router_refusals("too_large"), 2);

    // Slow body: headers arrive, the body never completes.
    let mut tcp = TcpStream::connect(("127.0.0.1", port(&gw)))
        .await
        .expect("connect");
    tcp.write_all(b"POST /node-for-psp/v1 HTTP/1.1\r\nHost: x\r\nSOAPAction: demandPaymentNotice\r\nContent-Length: 1000\r\n\r\n<soapenv:Envelope").await.expect("send");
    let started = std::time::Instant::now();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut out))
        .await
        .expect("answered");
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("REQUEST_TIMEOUT"), "{text}");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(gw.metrics().router_refusals("body_timeout"), 1);

    // Slow headers (slowloris): the connection is closed after the header deadline.
    let mut tcp = TcpStream::connect(("127.0.0.1", port(&gw)))
        .await
        .expect("connect");
    tcp.write_all(b"POST /node-for-psp/v1 HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("send");
    let started = std::time::Instant::now();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut out))
        .await
        .expect("closed in time");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(!String::from_utf8_lossy(&out).contains("200 OK"));
    assert_eq!(gw.demand(&Demand::default().xml()).await.outcome, "OK");
}

/// Beyond `limits.max_connections`, clients wait; when a slot frees up they are served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_slot() {
    let (_ec, gw) = gateway("max_connections = 2\n").await;
    let hold = || async {
        let mut t = TcpStream::connect(("127.0.0.1", port(&gw)))
            .await
            .expect("connect");
        // An incomplete request keeps the connection (and its slot) busy until the header deadline.
        t.write_all(b"POST / HTTP/1.1\r\n").await.expect("send");
        t
    };
    let a = hold().await;
    let b = hold().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let waiting = tokio::time::timeout(
        Duration::from_millis(150),
        gw.demand(&Demand::default().xml()),
    )
    .await;
    assert!(
        waiting.is_err(),
        "a third connection is not served while two slots are busy"
    );
    drop((a, b));
    let r = tokio::time::timeout(Duration::from_secs(5), gw.demand(&Demand::default().xml()))
        .await
        .expect("served once a slot frees");
    assert_eq!(r.outcome, "OK");
}
