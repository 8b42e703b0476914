//! One SOAP exchange with a station, whatever the primitive: deadline, transport failures,
//! SOAP Faults and HTTP status classified the same way for every call.

use std::time::Duration;

use bytes::Bytes;
use http::Uri;

use super::client::{EcClients, SoapPost, TransportError};
use super::{station_url, AnswerDefect, UpstreamError};
use crate::observe::Metrics;
use crate::registry::{Proxy, Station};
use crate::settings::{EcSettings, StationService};
use crate::soap::{self, Envelope, Limits, SOAP11_NS};
use crate::xsd::Contract;

/// Everything a call needs besides what it sends.
pub struct CallContext<'a> {
    pub clients: &'a EcClients,
    pub settings: &'a EcSettings,
    pub contract: &'a Contract,
    pub limits: &'a Limits,
    pub metrics: &'a Metrics,
    /// Sent to the EC as `X-Request-Id`, so both sides' logs correlate.
    pub request_id: &'a str,
}

/// A delivered answer: HTTP 2xx, readable XML, not a SOAP Fault.
pub struct Delivered {
    pub envelope: Envelope,
    pub raw: Bytes,
    pub status: u16,
    /// The Content-Type as the station sent it.
    pub content_type: Option<String>,
}

/// Where one call goes and how: the endpoint, TLS profile, proxy and deadline the gateway uses.
pub struct Target<'a> {
    pub url: Uri,
    /// TLS profile name (`""` for the default one).
    pub profile: &'a str,
    pub proxy: Option<&'a Proxy>,
    pub timeout: Duration,
}

impl<'a> Target<'a> {
    /// The target of `station` for the endpoint `service`, with its per-station settings.
    pub fn of_station(
        settings: &EcSettings,
        station: &'a Station,
        service: StationService,
    ) -> Result<Self, UpstreamError> {
        Ok(Self {
            url: station_url(station, service)?,
            profile: settings.tls_profile_for(&station.code),
            // An unusable proxy was refused by `station_url` above.
            proxy: station.proxy.as_ref().ok().and_then(Option::as_ref),
            timeout: settings.timeout_for(&station.code),
        })
    }
}

/// POSTs `body` to `station` (endpoint chosen by `service`) and classifies what comes back,
/// recording the call's duration and failure kind.
pub async fn exchange(
    ctx: &CallContext<'_>,
    station: &Station,
    service: StationService,
    soap_action: &'static str,
    body: String,
) -> Result<Delivered, UpstreamError> {
    let started = tokio::time::Instant::now();
    let result = exchange_inner(ctx, station, service, soap_action, body).await;
    let kind = result.as_ref().err().map(crate::observe::labels::upstream);
    ctx.metrics
        .upstream_done(&station.code, soap_action, kind, started.elapsed());
    result
}

async fn exchange_inner(
    ctx: &CallContext<'_>,
    station: &Station,
    service: StationService,
    soap_action: &str,
    body: String,
) -> Result<Delivered, UpstreamError> {
    let target = Target::of_station(ctx.settings, station, service)?;
    exchange_to(ctx, &target, &station.code, soap_action, body).await
}

/// POSTs `body` to `target` within its deadline and classifies what comes back (no metrics):
/// the gateway's calls and the probe's share it. `label` names the station in logs.
pub async fn exchange_to(
    ctx: &CallContext<'_>,
    target: &Target<'_>,
    label: &str,
    soap_action: &str,
    body: String,
) -> Result<Delivered, UpstreamError> {
    let url = &target.url;
    let timeout = target.timeout;
    let exchange = ctx.clients.post_soap(SoapPost {
        profile: target.profile,
        proxy: target.proxy,
        url,
        soap_action,
        request_id: ctx.request_id,
        body,
        max_bytes: ctx.settings.max_response_bytes,
    });
    let answer = match tokio::time::timeout(timeout, exchange).await {
        Err(_) => return Err(UpstreamError::Timeout(timeout)),
        Ok(Err(TransportError::Unreachable { url, failure })) => {
            return Err(UpstreamError::Unreachable { url, failure })
        }
        Ok(Err(TransportError::Body(failure))) => {
            return Err(UpstreamError::Unreachable {
                url: url.to_string(),
                failure,
            })
        }
        Ok(Err(TransportError::TooLarge(n))) => return Err(UpstreamError::TooLarge(n)),
        Ok(Ok(a)) => a,
    };
    // Read as the EC labelled it: the Content-Type charset, else the XML declaration.
    let text = soap::charset::decode_answer(answer.body, answer.charset.as_deref()).map(|d| {
        if let Some(d) = &d.disagreement {
            tracing::warn!(
                request_id = ctx.request_id,
                station = label,
                declared = d.declared.as_str(),
                transport = d.transport.as_str(),
                same_text = d.same_text,
                "EC answer: XML declaration contradicts the Content-Type charset; read with the Content-Type's"
            );
        }
        d.text
    });
    let parsed = match &text {
        Ok(t) => soap::tree::parse(t, ctx.limits)
            .map(Envelope::new)
            .map_err(AnswerDefect::NotXml),
        Err(e) => Err(AnswerDefect::Charset(e.clone())),
    };
    // A SOAP Fault is "the station could not serve us", whatever the status code.
    if let Ok(env) = &parsed {
        if let Some(fault) = soap_fault(env) {
            return Err(fault);
        }
    }
    if !answer.status.is_success() {
        return Err(UpstreamError::HttpStatus(answer.status.as_u16()));
    }
    let envelope = parsed.map_err(UpstreamError::BadAnswer)?;
    let raw = text.map_err(|e| UpstreamError::BadAnswer(AnswerDefect::Charset(e)))?;
    Ok(Delivered {
        envelope,
        raw,
        status: answer.status.as_u16(),
        content_type: answer.content_type,
    })
}

fn soap_fault(env: &Envelope) -> Option<UpstreamError> {
    if !env.is_soap11() {
        return None;
    }
    let fault = env
        .body()?
        .children
        .first()
        .filter(|c| c.is(SOAP11_NS, "Fault"))?;
    Some(UpstreamError::SoapFault {
        code: fault
            .child_text("faultcode")
            .unwrap_or_default()
            .trim()
            .to_owned(),
        string: fault
            .child_text("faultstring")
            .unwrap_or_default()
            .to_owned(),
    })
}
