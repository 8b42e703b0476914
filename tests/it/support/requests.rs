//! Request builders: SOAP envelopes and the SANP 3 and legacy requests, one field at a time.

pub const NFP_NS: &str = "http://pagopa-api.pagopa.gov.it/node/nodeForPsp.xsd";
pub const PPT_NS: &str = "http://ws.pagamenti.telematici.gov/";
pub const PAY_I_NS: &str = "http://www.digitpa.gov.it/schemas/2011/Pagamenti/";

/// A SOAP 1.1 envelope around a nodeForPsp payload, the way SoapUI writes it.
pub fn nfp_envelope(payload: &str) -> String {
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:nod=\"{NFP_NS}\"><soapenv:Header/><soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>"
    )
}

/// A SOAP 1.1 envelope around a legacy `ppt` payload.
pub fn ppt_envelope(payload: &str) -> String {
    format!(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:ppt=\"{PPT_NS}\"><soapenv:Header/><soapenv:Body>{payload}</soapenv:Body></soapenv:Envelope>"
    )
}

pub const PASSWORD: &str = "Password01";

/// base64 of a valid TassaAutomobilistica_1_1_0 document for `plate`.
pub fn tassa_auto(plate: &str) -> String {
    use base64::Engine as _;
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ta:tassaAuto xmlns:ta=\"http://PuntoAccessoPSP.spcoop.gov.it/TassaAuto\"><ta:veicoloConTarga><ta:tipoVeicoloTarga>1</ta:tipoVeicoloTarga><ta:veicoloTarga>{plate}</ta:veicoloTarga></ta:veicoloConTarga></ta:tassaAuto>"
    );
    base64::engine::general_purpose::STANDARD.encode(xml)
}

/// Fields of a demandPaymentNoticeRequest, to vary one at a time.
#[derive(Debug, Clone)]
pub struct Demand {
    pub psp: String,
    pub broker: String,
    pub channel: String,
    pub password: String,
    pub subject_service: String,
    pub data: String,
}

impl Default for Demand {
    fn default() -> Self {
        Self {
            psp: "PSP_OK".into(),
            broker: "BROKER_OK".into(),
            channel: "CH_OK".into(),
            password: PASSWORD.into(),
            subject_service: "00042".into(),
            data: tassa_auto("AB345CD"),
        }
    }
}

impl Demand {
    pub fn payload(&self) -> String {
        format!(
            "<nod:demandPaymentNoticeRequest><idPSP>{}</idPSP><idBrokerPSP>{}</idBrokerPSP><idChannel>{}</idChannel><password>{}</password><idSoggettoServizio>{}</idSoggettoServizio><datiSpecificiServizio>{}</datiSpecificiServizio></nod:demandPaymentNoticeRequest>",
            self.psp, self.broker, self.channel, self.password, self.subject_service, self.data
        )
    }

    pub fn xml(&self) -> String {
        nfp_envelope(&self.payload())
    }
}

/// Fields of a nodoChiediCatalogoServiziV2Request.
#[derive(Debug, Clone)]
pub struct CatalogReq {
    pub psp: String,
    pub broker: String,
    pub channel: String,
    pub password: String,
    pub domain: Option<String>,
    pub category: Option<String>,
    pub fee: Option<String>,
}

impl Default for CatalogReq {
    fn default() -> Self {
        Self {
            psp: "PSP_OK".into(),
            broker: "BROKER_OK".into(),
            channel: "CH_OK".into(),
            password: PASSWORD.into(),
            domain: None,
            category: None,
            fee: None,
        }
    }
}

impl CatalogReq {
    pub fn xml(&self) -> String {
        let opt = |name: &str, v: &Option<String>| {
            v.as_ref()
                .map(|v| format!("<{name}>{v}</{name}>"))
                .unwrap_or_default()
        };
        nfp_envelope(&format!(
            "<nod:nodoChiediCatalogoServiziV2Request><identificativoPSP>{}</identificativoPSP><identificativoIntermediarioPSP>{}</identificativoIntermediarioPSP><identificativoCanale>{}</identificativoCanale><password>{}</password>{}{}{}</nod:nodoChiediCatalogoServiziV2Request>",
            self.psp,
            self.broker,
            self.channel,
            self.password,
            opt("identificativoDominio", &self.domain),
            opt("categoria", &self.category),
            opt("commissione", &self.fee)
        ))
    }
}

/// Fields of a legacy nodoChiediNumeroAvviso, to vary one at a time.
#[derive(Debug, Clone)]
pub struct Legacy {
    pub psp: String,
    pub broker: String,
    pub channel: String,
    pub password: String,
    pub service: String,
    pub domain: String,
    pub data: String,
}

impl Default for Legacy {
    fn default() -> Self {
        Self {
            psp: "PSP_OK".into(),
            broker: "BROKER_OK".into(),
            channel: "CH_OK".into(),
            password: PASSWORD.into(),
            service: "60001".into(),
            domain: "77777777777".into(),
            data: tassa_auto("AB345CD"),
        }
    }
}

impl Legacy {
    pub fn payload(&self) -> String {
        format!(
            "<ppt:nodoChiediNumeroAvviso><identificativoPSP>{}</identificativoPSP><identificativoIntermediarioPSP>{}</identificativoIntermediarioPSP><identificativoCanale>{}</identificativoCanale><password>{}</password><idServizio>{}</idServizio><idDominioErogatoreServizio>{}</idDominioErogatoreServizio><datiSpecificiServizio>{}</datiSpecificiServizio></ppt:nodoChiediNumeroAvviso>",
            self.psp, self.broker, self.channel, self.password, self.service, self.domain, self.data
        )
    }

    pub fn xml(&self) -> String {
        ppt_envelope(&self.payload())
    }
}
