#!/usr/bin/env python3
"""Calls the gateway with zeep, an independent SOAP client, and prints what zeep parsed as JSON.

Usage:
    python scripts/zeep_client.py --wsdl WSDL [--address URL] OPERATION [JSON_ARGS]

WSDL is a file path or an http(s) URL (e.g. http://127.0.0.1:8080/node-for-psp/v1?wsdl).
URL, when given, overrides the WSDL's soap:address. OPERATION is demandPaymentNotice or
nodoChiediCatalogoServiziV2 (or the legacy nodoChiediNumeroAvviso and nodoChiediCatalogoServizi);
JSON_ARGS is an object of the operation's request fields. A key
ending in `_b64` is base64-decoded into bytes and passed without the suffix, since zeep wants
bytes for xsd:base64Binary (e.g. {"datiSpecificiServizio_b64": "PD94..."}).

Output (stdout, one JSON object):
    operation     the operation called
    soapAction    the SOAPAction header zeep sent (zeep quotes it: "\"demandPaymentNotice\"")
    http          status and content type of the gateway's answer to the POST
    result        zeep's parsed response; decimals and dates as strings, bytes as
                  {"base64": ..., "text": <UTF-8 text or null>}
    responseXml   the envelope as received, for diagnostics

Any failure (WSDL load, transport, SOAP Fault, zeep parse error) exits 1 with a message on stderr.
"""

import argparse
import base64
import datetime
import decimal
import json
import sys

# The binding each operation belongs to (SANP 3 nodeForPsp, or the legacy richiesta avvisi).
BINDINGS = {
    "demandPaymentNotice": "{http://pagopa-api.pagopa.gov.it/nodeForPsp}nodeForPspBinding",
    "nodoChiediCatalogoServiziV2": "{http://pagopa-api.pagopa.gov.it/nodeForPsp}nodeForPspBinding",
    "nodoChiediNumeroAvviso": "{http://PuntoAccessoPSP.spcoop.gov.it/servizi/RichiestaAvvisi}RichiestaAvvisibinding",
    "nodoChiediCatalogoServizi": "{http://PuntoAccessoPSP.spcoop.gov.it/servizi/RichiestaAvvisi}RichiestaAvvisibinding",
}
OPERATIONS = tuple(BINDINGS)


def jsonable(value):
    """Turns zeep's serialized objects into plain JSON values."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        try:
            text = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return {"base64": base64.b64encode(bytes(value)).decode("ascii"), "text": text}
    if isinstance(value, decimal.Decimal):
        # str keeps the scale zeep parsed ("120.50"), which a float would lose.
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    return value


def request_args(raw):
    args = json.loads(raw) if raw else {}
    if not isinstance(args, dict):
        raise ValueError("JSON_ARGS must be a JSON object")
    out = {}
    for key, value in args.items():
        if key.endswith("_b64"):
            out[key[: -len("_b64")]] = base64.b64decode(value, validate=True)
        else:
            out[key] = value
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wsdl", required=True, help="WSDL file path or URL")
    parser.add_argument("--address", help="endpoint URL (default: the WSDL's soap:address)")
    parser.add_argument("--cacert", help="PEM CA bundle trusted for an https:// gateway")
    parser.add_argument("--cert", help="PEM client certificate (mutual TLS)")
    parser.add_argument("--key", help="PEM private key of --cert")
    parser.add_argument("operation", choices=OPERATIONS)
    parser.add_argument("args", nargs="?", default="{}", help="request fields as a JSON object")
    opts = parser.parse_args()

    # Imported here so that a missing zeep is reported like any other failure.
    import requests
    from lxml import etree
    from zeep import Client, Plugin
    from zeep.helpers import serialize_object
    from zeep.transports import Transport

    class Capture(Plugin):
        """Keeps the SOAPAction zeep sent and the envelope it received."""

        soap_action = None
        response_xml = None

        def egress(self, envelope, http_headers, operation, binding_options):
            self.soap_action = http_headers.get("SOAPAction")
            return envelope, http_headers

        def ingress(self, envelope, http_headers, operation):
            self.response_xml = etree.tostring(envelope, encoding="unicode")
            return envelope, http_headers

    capture = Capture()
    http = {}

    def on_response(response, *args, **kwargs):
        # Only the SOAP POST matters; WSDL/XSD GETs are checked by zeep loading them.
        if response.request.method == "POST":
            http["status"] = response.status_code
            http["contentType"] = response.headers.get("Content-Type")

    session = requests.Session()
    # The machine's proxy and CA variables must not reroute calls to a local gateway.
    session.trust_env = False
    session.hooks["response"].append(on_response)
    if opts.cacert:
        session.verify = opts.cacert
    if opts.cert:
        session.cert = (opts.cert, opts.key) if opts.key else opts.cert
    transport = Transport(session=session, timeout=10, operation_timeout=10)
    client = Client(opts.wsdl, transport=transport, plugins=[capture])
    service = client.create_service(BINDINGS[opts.operation], opts.address) if opts.address else client.service

    result = getattr(service, opts.operation)(**request_args(opts.args))
    print(
        json.dumps(
            {
                "operation": opts.operation,
                "soapAction": capture.soap_action,
                "http": http,
                "result": jsonable(serialize_object(result, dict)),
                "responseXml": capture.response_xml,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - any failure must be a clear non-zero exit
        print(f"zeep_client: {type(e).__module__}.{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
