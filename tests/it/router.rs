//! The router over real sockets: dispatch on SOAPAction or Body, paths, router faults
//! (interfaces.md §7.2–7.3), charsets, body limits and WSDL publication.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::Full;

use crate::support;
use crate::support::ec::{self, TestEc};
use crate::support::{
    conformance_registry, point_stations_at, Answer, CatalogReq, Demand, TestGateway,
};

async fn gateway() -> (TestEc, TestGateway) {
    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    (
        ec,
        TestGateway::start(&registry, "[limits]\nmax_body_bytes = 65536\n").await,
    )
}

/// A router fault: status, SOAP 1.1 Fault with faultcode/faultstring/detail as the Node writes it.
fn assert_fault(a: &Answer, status: StatusCode, code: &str, string: &str, detail: &str) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.content_type, "text/xml; charset=UTF-8");
    let doc = roxmltree::Document::parse(&a.body).expect("well-formed fault");
    let fault = doc
        .descendants()
        .find(|n| n.has_tag_name(("http://schemas.xmlsoap.org/soap/envelope/", "Fault")))
        .expect("soap:Fault");
    let text = |name: &str| {
        fault
            .children()
            .find(|n| n.has_tag_name(name))
            .and_then(|n| n.text())
            .unwrap_or("")
    };
    assert_eq!(
        (text("faultcode"), text("faultstring"), text("detail")),
        (code, string, detail)
    );
    // The Node puts plain text in <detail>; SOAP 1.1's schema wants elements there. Everything
    // else of the fault is schema-valid, which we check by removing the detail.
    let without_detail = a
        .body
        .replace(&format!("<detail>{}</detail>", xml_escape(detail)), "");
    support::official::assert_valid_node_for_psp(&without_detail);
}

/// Character data as the gateway writes it (quotes are not escaped in text, as the Node writes).
fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[tokio::test]
async fn unreadable_xml_is_a_400_xml_stream_exc() {
    let (_ec, gw) = gateway().await;
    for body in ["", "not xml", "<soapenv:Envelope", "<a></b>", "<a/><b/>"] {
        let a = gw
            .post("/webservices/input", Some("demandPaymentNotice"), body)
            .await;
        assert_fault(
            &a,
            StatusCode::BAD_REQUEST,
            "soap:Client",
            "XML_STREAM_EXC",
            "Errore richiesta non leggibile",
        );
    }
}

#[tokio::test]
async fn no_operation_and_unknown_actions_are_400s() {
    let (_ec, gw) = gateway().await;
    let a = gw
        .post("/webservices/input", None, &support::nfp_envelope(""))
        .await;
    assert_fault(
        &a,
        StatusCode::BAD_REQUEST,
        "soap:Client",
        "NO_OPERATION",
        "Operazione non leggibile da SOAPAction o Body",
    );
    let a = gw
        .post(
            "/webservices/input",
            Some("activatePaymentNotice"),
            &Demand::default().xml(),
        )
        .await;
    assert_fault(
        &a,
        StatusCode::BAD_REQUEST,
        "PPT_SOAPACTION_ERRATA",
        "SOAPAction errata.",
        "SOAPAction \"activatePaymentNotice\" errata",
    );
    // Without SOAPAction, an unknown Body element is an unknown operation too.
    let a = gw
        .post(
            "/webservices/input",
            None,
            &support::nfp_envelope("<nod:verifyPaymentNoticeReq/>"),
        )
        .await;
    assert_fault(
        &a,
        StatusCode::BAD_REQUEST,
        "PPT_SOAPACTION_ERRATA",
        "SOAPAction errata.",
        "SOAPAction \"verifyPaymentNoticeReq\" errata",
    );
}

/// SOAPAction bare or quoted (zeep quotes it), empty or absent (then the Body decides), on
/// every path the Node and its gateways use.
#[tokio::test]
async fn dispatch_on_soapaction_or_body_on_any_path() {
    let (_ec, gw) = gateway().await;
    let demand = Demand::default().xml();
    for path in [
        "/webservices/input",
        "/node-for-psp/v1",
        "/nodo-per-psp-richiesta-avvisi/v1",
        "/nodo/webservices/input/",
        "/",
    ] {
        for action in [
            Some("demandPaymentNotice"),
            Some("\"demandPaymentNotice\""),
            Some(" demandPaymentNotice "),
            Some("\"\""),
            Some(""),
            None,
        ] {
            let a = gw.post(path, action, &demand).await;
            let r = support::business(a, "demandPaymentNoticeResponse");
            assert_eq!(r.outcome, "OK", "{path} {action:?}: {}", r.raw);
        }
    }
    let a = gw
        .post("/webservices/input", None, &CatalogReq::default().xml())
        .await;
    assert_eq!(
        support::business(a, "nodoChiediCatalogoServiziV2Response").outcome,
        "OK"
    );
    let a = gw
        .post(
            "/webservices/input",
            None,
            &support::Legacy::default().xml(),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(
        a.body.contains("nodoChiediNumeroAvvisoRisposta>"),
        "{}",
        a.body
    );
    // A Body element named like the primitive (not its request element) is routed to it, then
    // fails its schema: a syntax KO, as the Node's primitive actor would answer.
    let misnamed = demand.replace("demandPaymentNoticeRequest", "demandPaymentNotice");
    let r = support::business(
        gw.post("/node-for-psp/v1", None, &misnamed).await,
        "demandPaymentNoticeResponse",
    );
    assert_eq!(r.fault().code, "PPT_SINTASSI_EXTRAXSD", "{}", r.raw);
}

/// A Body that does not match the SOAPAction is a syntax KO in the SOAPAction's response element.
#[tokio::test]
async fn body_not_matching_the_soapaction_is_a_syntax_ko() {
    let (ec, gw) = gateway().await;
    let a = gw
        .post(
            "/node-for-psp/v1",
            Some("demandPaymentNotice"),
            &CatalogReq::default().xml(),
        )
        .await;
    let r = support::business(a, "demandPaymentNoticeResponse");
    assert_eq!(r.fault().code, "PPT_SINTASSI_EXTRAXSD");
    let a = gw
        .post(
            "/node-for-psp/v1",
            Some("nodoChiediCatalogoServiziV2"),
            &Demand::default().xml(),
        )
        .await;
    let r = support::business(a, "nodoChiediCatalogoServiziV2Response");
    assert_eq!(r.fault().code, "PPT_SINTASSI_EXTRAXSD");
    assert!(ec.received().is_empty());
}

#[tokio::test]
async fn oversized_bodies_are_413_and_the_gateway_keeps_serving() {
    let (_ec, gw) = gateway().await;
    let big = Demand {
        data: "A".repeat(70_000),
        ..Demand::default()
    }
    .xml();
    let a = gw
        .post("/node-for-psp/v1", Some("demandPaymentNotice"), &big)
        .await;
    assert_fault(
        &a,
        StatusCode::PAYLOAD_TOO_LARGE,
        "soap:Client",
        "PAYLOAD_TOO_LARGE",
        "Richiesta oltre 65536 byte",
    );
    assert_eq!(gw.demand(&Demand::default().xml()).await.outcome, "OK");
}

/// A client still writing a body far over the cap reads its 413, not a connection reset: the
/// gateway reads and drops the rest for a bounded time (lingering close) before closing. Without
/// that, the gateway closes with the client's bytes unread, the kernel resets the connection,
/// and the client's next write fails before it ever reads the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_writing_an_oversized_body_reads_its_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (_ec, gw) = gateway().await;
    let addr = gw.url.trim_start_matches("http://").to_owned();
    let total = 4 * 1024 * 1024;
    let mut tcp = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /node-for-psp/v1 HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/xml; charset=UTF-8\r\nSOAPAction: demandPaymentNotice\r\nContent-Length: {total}\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.expect("headers");
    let chunk = vec![b'A'; 64 * 1024];
    tcp.write_all(&chunk).await.expect("first chunk");
    // The gateway has answered by now; the client, like a PSP's SOAP stack, is still sending.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut sent = chunk.len();
    while sent < total {
        tcp.write_all(&chunk)
            .await
            .unwrap_or_else(|e| panic!("after {sent} bytes the connection was reset: {e}"));
        sent += chunk.len();
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => answer.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
}

#[tokio::test]
async fn charsets_follow_the_content_type() {
    let (_ec, gw) = gateway().await;
    let send = |ct: &'static str, body: Vec<u8>| {
        Request::builder()
            .method(Method::POST)
            .uri(format!("{}/node-for-psp/v1", gw.url))
            .header("Content-Type", ct)
            .header("SOAPAction", "demandPaymentNotice")
            .body(Full::new(Bytes::from(body)))
            .expect("request")
    };
    // Latin-1 bytes declared as such are decoded: "è" is one character of idPSP.
    let latin1: Vec<u8> = Demand {
        psp: "PSP\u{e8}".into(),
        ..Demand::default()
    }
    .xml()
    .chars()
    .map(|c| c as u8)
    .collect();
    let a = gw
        .send(send("text/xml; charset=ISO-8859-1", latin1.clone()))
        .await;
    assert_eq!(
        support::business(a, "demandPaymentNoticeResponse")
            .fault()
            .code,
        "PPT_PSP_SCONOSCIUTO"
    );
    // The same bytes declared (or defaulted) as UTF-8 are not decodable.
    let a = gw.send(send("text/xml", latin1)).await;
    assert_fault(
        &a,
        StatusCode::BAD_REQUEST,
        "PPT_SYSTEM_ERROR",
        "Errore generico.",
        "Error, data encoding is not UTF-8",
    );
    let a = gw
        .send(send("application/xml; charset=utf-16", b"<a/>".to_vec()))
        .await;
    assert_fault(
        &a,
        StatusCode::BAD_REQUEST,
        "PPT_SYSTEM_ERROR",
        "Errore generico.",
        "Error, data encoding is not utf-16",
    );
    // application/xml (the Node's own test suite) is fine.
    let a = gw
        .send(send(
            "application/xml",
            Demand::default().xml().into_bytes(),
        ))
        .await;
    assert_eq!(
        support::business(a, "demandPaymentNoticeResponse").outcome,
        "OK"
    );
}

/// A SOAP path reached with the wrong method is a 405 SOAP Fault (so SOAP tooling shows it) whose
/// `Allow` says what the target takes: POST, and GET/HEAD too where the query asks for a contract.
#[tokio::test]
async fn wrong_methods_are_405_soap_faults_with_allow() {
    let (_ec, gw) = gateway().await;
    let send = |method: Method, path: &str| {
        Request::builder()
            .method(method)
            .uri(format!("{}{path}", gw.url))
            .body(Full::new(Bytes::new()))
            .expect("request")
    };
    let cases = [
        (Method::GET, "/node-for-psp/v1", "POST"),
        (Method::GET, "/webservices/input?foo=bar", "POST"),
        (Method::PUT, "/node-for-psp/v1", "POST"),
        (Method::DELETE, "/nodo-per-psp-richiesta-avvisi/v1", "POST"),
        (Method::DELETE, "/node-for-psp/v1?wsdl", "POST, GET, HEAD"),
        (
            Method::PATCH,
            "/node-for-psp/v1?xsd=nodeForPsp.xsd",
            "POST, GET, HEAD",
        ),
    ];
    for (method, path, allow) in &cases {
        let a = gw.send(send(method.clone(), path)).await;
        assert_eq!(a.header("allow"), Some(*allow), "{method} {path}");
        assert!(a.header("x-request-id").is_some(), "{method} {path}");
        assert_fault(
            &a,
            StatusCode::METHOD_NOT_ALLOWED,
            "soap:Client",
            "METHOD_NOT_ALLOWED",
            &format!(
                "Metodo {method} non ammesso: le richieste SOAP usano POST, GET ?wsdl pubblica il contratto"
            ),
        );
    }
    assert_eq!(
        gw.metrics().router_refusals("method_not_allowed"),
        cases.len() as u64
    );
    // HEAD mirrors GET: the same status and headers, no body.
    let a = gw.send(send(Method::HEAD, "/node-for-psp/v1")).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(a.header("allow"), Some("POST"));
    assert_eq!(a.content_type, "text/xml; charset=UTF-8");
    assert_eq!(a.body, "");
    let a = gw.send(send(Method::HEAD, "/node-for-psp/v1?wsdl")).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type, "text/xml; charset=UTF-8");
    // GET with a contract query still publishes it, and POST still carries SOAP on that path.
    assert_eq!(gw.get("/node-for-psp/v1?wsdl").await.status, StatusCode::OK);
    assert_eq!(gw.demand(&Demand::default().xml()).await.outcome, "OK");
}

/// Behind a TLS-terminating balancer the published addresses are the configured public ones.
#[tokio::test]
async fn wsdl_addresses_follow_public_url_behind_a_proxy() {
    let ec = TestEc::start(ec::reply(ec::ok_answer())).await;
    let mut registry = conformance_registry();
    point_stations_at(&mut registry, ec.port());
    let gw = TestGateway::start(&registry, "public_url = \"https://sanp.psp.example/gw/\"\n").await;
    let a = gw.get("/node-for-psp/v1?wsdl").await;
    assert_eq!(a.status, StatusCode::OK);
    let doc = roxmltree::Document::parse(&a.body).expect("WSDL is XML");
    let address = doc
        .descendants()
        .find(|n| n.has_tag_name(("http://schemas.xmlsoap.org/wsdl/soap/", "address")))
        .and_then(|n| n.attribute("location"));
    assert_eq!(address, Some("https://sanp.psp.example/gw/node-for-psp/v1"));
    let imports: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("schemaLocation"))
        .collect();
    assert_eq!(
        imports,
        ["https://sanp.psp.example/gw/node-for-psp/v1?xsd=nodeForPsp.xsd"]
    );
    assert!(!a.body.contains(&gw.url), "{}", a.body);
}

/// `?wsdl` serves the project's WSDL addressed to this gateway; its schemas resolve from there.
#[tokio::test]
async fn wsdl_and_schemas_are_published_with_this_gateways_address() {
    let (_ec, gw) = gateway().await;
    let a = gw.get("/node-for-psp/v1?wsdl").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.content_type, "text/xml; charset=UTF-8");
    let doc = roxmltree::Document::parse(&a.body).expect("WSDL is XML");
    let address = doc
        .descendants()
        .find(|n| n.has_tag_name(("http://schemas.xmlsoap.org/wsdl/soap/", "address")))
        .and_then(|n| n.attribute("location"))
        .expect("soap:address");
    assert_eq!(address, format!("{}/node-for-psp/v1", gw.url));
    let ops: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name(("http://schemas.xmlsoap.org/wsdl/soap/", "operation")))
        .filter_map(|n| n.attribute("soapAction"))
        .collect();
    assert_eq!(ops, ["demandPaymentNotice", "nodoChiediCatalogoServiziV2"]);
    // Follow every schemaLocation transitively: each must resolve on the gateway.
    let mut todo: Vec<String> = vec![a.body];
    let mut fetched = Vec::new();
    while let Some(text) = todo.pop() {
        let doc = roxmltree::Document::parse(&text).expect("XML");
        for loc in doc
            .descendants()
            .filter_map(|n| n.attribute("schemaLocation"))
        {
            let rel = loc
                .strip_prefix(&gw.url)
                .unwrap_or_else(|| panic!("absolute location on the gateway: {loc}"));
            if fetched.iter().any(|f: &String| f == rel) {
                continue;
            }
            let x = gw.get(rel).await;
            assert_eq!(x.status, StatusCode::OK, "{rel}");
            fetched.push(rel.to_owned());
            todo.push(x.body);
        }
    }
    fetched.sort();
    assert_eq!(
        fetched,
        [
            "/node-for-psp/v1?xsd=nodeForPsp.xsd",
            "/node-for-psp/v1?xsd=sac-common-types-1.0.xsd"
        ]
    );
    let pa = gw.get("/webservices/input?wsdl=paForNode").await;
    assert!(pa.body.contains("soapAction=\"paDemandPaymentNotice\""));
    // The EC implements paForNode: its address is not rewritten to the gateway.
    assert!(
        !pa.body.contains(&format!("location=\"{}", gw.url)),
        "{}",
        pa.body
    );
    assert_eq!(
        gw.get("/node-for-psp/v1?xsd=../../etc/passwd").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        gw.get("/node-for-psp/v1?wsdl=nope").await.status,
        StatusCode::NOT_FOUND
    );
}
