//! The portal's pages, server-rendered in Italian: the catalog, a service's form, the notice (or
//! the refusal), with labels bound to inputs, visible focus and a layout that fits a phone.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::form::{Field, FieldKind, Form, Node};
use super::gateway::{Ko, NoticeOk, Offer};
use super::qr;

const CSS: &str = r#"
:root{--fg:#17191c;--muted:#4d5560;--accent:#0047a3;--bg:#fff;--soft:#f2f5f9;--err:#a4000f}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:var(--accent);color:#fff;padding:.75rem 1rem}
header a{color:#fff}
main{max-width:48rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
a{color:var(--accent)}
:focus-visible{outline:3px solid #ff9900;outline-offset:2px}
label{display:block;font-weight:600;margin-top:.75rem}
.hint{display:block;font-weight:400;color:var(--muted);font-size:.9rem}
input,select,button{font:inherit;padding:.5rem;border:1px solid #5c6670;border-radius:4px;width:100%;max-width:32rem}
input[readonly]{background:var(--soft)}
button{background:var(--accent);color:#fff;border:0;width:auto;padding:.6rem 1.2rem;margin-top:1rem;cursor:pointer}
fieldset{border:1px solid #c5cdd6;border-radius:6px;margin:1rem 0;padding:.5rem 1rem 1rem}
legend{font-weight:700;padding:0 .25rem}
.offer{border:1px solid #c5cdd6;border-radius:6px;padding:.75rem 1rem;margin:.5rem 0}
.offer p{margin:.25rem 0}
.muted{color:var(--muted)}
.error{color:var(--err);font-weight:600}
.result{background:var(--soft);border-radius:6px;padding:1rem}
.result dt{font-weight:600}.result dd{margin:0 0 .5rem}
.code{font-family:ui-monospace,monospace;font-size:1.2rem;letter-spacing:.05em}
.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem}
.filters>div{flex:1 1 14rem}
"#;

/// Hides the alternatives of a choice that are not chosen (their inputs disabled, so the browser
/// checks only the chosen one), and filters the catalog as the citizen types.
const SCRIPT: &str = r#"
document.querySelectorAll('[data-choice]').forEach(function(group){
  function sync(){
    var chosen=group.querySelector('input[type=radio]:checked');
    group.querySelectorAll('[data-option]').forEach(function(opt){
      var on=chosen&&opt.getAttribute('data-option')===chosen.value;
      opt.hidden=!on;
      opt.querySelectorAll('input,select').forEach(function(i){i.disabled=!on;});
    });
  }
  group.addEventListener('change',sync);sync();
});
document.querySelectorAll('input[data-msg]').forEach(function(i){
  i.addEventListener('invalid',function(){i.setCustomValidity(i.validity.valueMissing?'Campo obbligatorio.':i.getAttribute('data-msg'));});
  i.addEventListener('input',function(){i.setCustomValidity('');});
});
var q=document.getElementById('cerca'),ec=document.getElementById('ente');
function filter(){
  var text=(q&&q.value||'').toLowerCase(),who=ec&&ec.value||'';
  document.querySelectorAll('.offer').forEach(function(o){
    o.hidden=!(o.getAttribute('data-name').indexOf(text)>=0&&(!who||o.getAttribute('data-ec')===who));
  });
  document.querySelectorAll('section[data-category]').forEach(function(s){
    s.hidden=!s.querySelector('.offer:not([hidden])');
  });
}
if(q){q.addEventListener('input',filter);}if(ec){ec.addEventListener('change',filter);}
"#;

fn layout(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="it" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Pagamenti spontanei" }
                style { (PreEscaped(CSS)) }
            }
            body {
                header { a href="/" { "Pagamenti spontanei pagoPA" } }
                main { (body) }
                script { (PreEscaped(SCRIPT)) }
            }
        }
    }
}

/// The catalog: services grouped by category, searchable by name, filterable by EC. `query` and
/// `ec` also filter on the server, so the page works without the script.
pub fn catalog(offers: &[Offer], query: &str, ec: &str) -> Markup {
    let mut ecs: BTreeMap<&str, &str> = BTreeMap::new();
    for o in offers {
        ecs.insert(&o.ec_code, &o.ec_name);
    }
    let q = query.to_lowercase();
    let mut by_category: BTreeMap<&str, Vec<&Offer>> = BTreeMap::new();
    for o in offers
        .iter()
        .filter(|o| o.service.to_lowercase().contains(&q) && (ec.is_empty() || o.ec_code == ec))
    {
        by_category
            .entry(o.category.as_deref().unwrap_or("Altri servizi"))
            .or_default()
            .push(o);
    }
    layout(
        "Catalogo dei servizi",
        html! {
            h1 { "Catalogo dei servizi" }
            form method="get" action="/" class="filters" role="search" {
                div {
                    label for="cerca" { "Cerca un servizio" }
                    input id="cerca" name="q" type="search" value=(query) autocomplete="off";
                }
                div {
                    label for="ente" { "Ente creditore" }
                    select id="ente" name="ente" {
                        option value="" { "Tutti gli enti" }
                        @for (code, name) in &ecs {
                            option value=(code) selected[*code == ec] { (name) }
                        }
                    }
                }
                div { button type="submit" { "Filtra" } }
            }
            @if by_category.is_empty() {
                p { "Nessun servizio corrisponde alla ricerca." }
            }
            @for (category, list) in &by_category {
                section data-category=(category) {
                    h2 { (category) }
                    @for o in list {
                        div class="offer" data-name=(o.service.to_lowercase()) data-ec=(o.ec_code) {
                            p { a href={ "/servizio/" (o.subject_service_id) } { strong { (o.service) } } }
                            p class="muted" { (o.ec_name) " (codice fiscale " (o.ec_code) ")" }
                            p class="muted" {
                                "Valido dal " (o.valid_from)
                                @if let Some(to) = &o.valid_to { " al " (to) }
                            }
                        }
                    }
                }
            }
        },
    )
}

/// A service's form; `errors` by field path (and `""` for the whole form), `values` as sent.
pub fn form(
    offer: &Offer,
    form: &Form,
    values: &HashMap<String, String>,
    errors: &HashMap<String, String>,
) -> Markup {
    layout(
        &offer.service,
        html! {
            h1 { (offer.service) }
            p class="muted" { (offer.ec_name) " (codice fiscale " (offer.ec_code) ")" }
            @if let Some(e) = errors.get("") {
                p class="error" role="alert" id="errore-modulo" { (e) }
            }
            form method="post" action={ "/servizio/" (offer.subject_service_id) } {
                @for n in &form.nodes { (node(n, values, errors)) }
                button type="submit" { "Richiedi l'avviso di pagamento" }
            }
            p { a href="/" { "Torna al catalogo" } }
        },
    )
}

fn node(n: &Node, values: &HashMap<String, String>, errors: &HashMap<String, String>) -> Markup {
    match n {
        Node::Field(f) => field(f, values, errors),
        Node::Section {
            label,
            hint,
            children,
            required,
            ..
        } => html! {
            fieldset {
                legend { (label) @if !*required { " (facoltativo)" } }
                @if let Some(h) = hint { p class="hint" { (h) } }
                @for c in children { (node(c, values, errors)) }
            }
        },
        Node::Choice { path, options, .. } => {
            let key = format!("choice:{path}");
            let chosen = values.get(&key).map(String::as_str).unwrap_or("0");
            html! {
                fieldset data-choice {
                    legend { "Scegli una delle alternative" }
                    @for (i, (label, _)) in options.iter().enumerate() {
                        @let id = format!("{}-{i}", id_of(&key));
                        div {
                            input type="radio" id=(id) name=(key) value=(i) checked[chosen == i.to_string()] style="width:auto";
                            label for=(id) style="display:inline;margin-left:.5rem" { (label) }
                        }
                    }
                    @for (i, (_, nodes)) in options.iter().enumerate() {
                        div data-option=(i) {
                            @for c in nodes { (node(c, values, errors)) }
                        }
                    }
                }
            }
        }
    }
}

fn id_of(path: &str) -> String {
    format!(
        "f-{}",
        path.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    )
}

fn field(f: &Field, values: &HashMap<String, String>, errors: &HashMap<String, String>) -> Markup {
    let id = id_of(&f.path);
    let hint_id = format!("{id}-hint");
    let err_id = format!("{id}-errore");
    let value = values.get(&f.path).map(String::as_str).unwrap_or("");
    let error = errors.get(&f.path);
    let msg = format!("Formato non valido: ad esempio {}.", f.example);
    let described = match error {
        Some(_) => format!("{hint_id} {err_id}"),
        None => hint_id.clone(),
    };
    html! {
        label for=(id) {
            (f.label)
            @if !f.required { " (facoltativo)" }
            span class="hint" id=(hint_id) {
                @if let Some(h) = &f.hint { (h) ". " }
                @match &f.kind {
                    FieldKind::Fixed(_) => "Valore stabilito dal servizio.",
                    FieldKind::Date => "Data.",
                    FieldKind::Select(_) => "Scegli un valore.",
                    FieldKind::Text | FieldKind::Decimal => { "Esempio: " (f.example) }
                }
            }
        }
        @match &f.kind {
            FieldKind::Select(options) => {
                select id=(id) name=(f.path) required[f.required] aria-describedby=(described) aria-invalid=[error.map(|_| "true")] {
                    option value="" { "— scegli —" }
                    @for o in options { option value=(o) selected[o == value] { (o) } }
                }
            }
            FieldKind::Fixed(v) => {
                input id=(id) name=(f.path) type="text" value=(v) readonly aria-describedby=(described);
            }
            FieldKind::Date => {
                input id=(id) name=(f.path) type="date" value=(value) required[f.required] aria-describedby=(described) aria-invalid=[error.map(|_| "true")];
            }
            FieldKind::Text | FieldKind::Decimal => {
                input id=(id) name=(f.path) type="text" value=(value)
                    inputmode=[matches!(f.kind, FieldKind::Decimal).then_some("decimal")]
                    required[f.required] pattern=[f.pattern.as_deref()]
                    minlength=[f.min_length] maxlength=[f.max_length]
                    placeholder=(f.example) data-msg=(msg)
                    aria-describedby=(described) aria-invalid=[error.map(|_| "true")];
            }
        }
        @if let Some(e) = error {
            p class="error" id=(err_id) role="alert" { (e) }
        }
    }
}

/// The notice created: number as printed, EC, amount, description, due date, and its QR code.
pub fn notice(offer: &Offer, n: &NoticeOk) -> Markup {
    let cents = qr::cents(&n.amount);
    let payload = qr::payload(&n.notice_number, &n.fiscal_code, &n.amount);
    let image = payload.as_deref().and_then(|p| qr::png(p).ok()).map(|png| {
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(png)
        )
    });
    layout(
        "Avviso di pagamento",
        html! {
            h1 { "Avviso di pagamento creato" }
            div class="result" id="esito" data-outcome="OK" {
                dl {
                    dt { "Codice avviso" }
                    dd class="code" id="codice-avviso" data-notice=(n.notice_number) { (qr::notice_number_printed(&n.notice_number)) }
                    dt { "Ente creditore" }
                    dd { (n.company_name) " — codice fiscale " span id="codice-ente" { (n.fiscal_code) } }
                    dt { "Importo" }
                    dd id="importo" data-amount=(n.amount) {
                        @match cents { Some(c) => (qr::euros(c)), None => (n.amount) }
                    }
                    dt { "Causale" }
                    dd { (n.description) }
                    @if let Some(d) = &n.due_date { dt { "Scadenza" } dd { (d) } }
                    dt { "Servizio" }
                    dd { (offer.service) }
                }
                @if let (Some(src), Some(p)) = (&image, &payload) {
                    img id="qr" src=(src) alt={ "Codice QR pagoPA dell'avviso: " (p) } width="240" height="240" style="width:240px;height:auto;image-rendering:pixelated";
                }
            }
            p { "Paga l'avviso presso qualsiasi prestatore di servizi di pagamento aderente a pagoPA." }
            p { a href="/" { "Torna al catalogo" } }
        },
    )
}

/// A refusal in plain words for the citizen, with the code for the developer.
pub fn refused(offer: &Offer, ko: &Ko) -> Markup {
    layout(
        "Richiesta non accolta",
        html! {
            h1 { "Richiesta non accolta" }
            div class="result" id="esito" data-outcome="KO" data-fault=(ko.code) role="alert" {
                p { (plain_words(&ko.code)) }
                p class="muted" {
                    "Dettaglio tecnico: " code { (ko.code) } " — " (ko.string)
                    @if let Some(d) = &ko.description { " " (d) }
                }
            }
            p { a href={ "/servizio/" (offer.subject_service_id) } { "Modifica i dati" } " · " a href="/" { "Torna al catalogo" } }
        },
    )
}

/// A page for an error of the portal itself (gateway unreachable, unknown service).
pub fn problem(title: &str, text: &str) -> Markup {
    layout(
        title,
        html! {
            h1 { (title) }
            p role="alert" { (text) }
            p { a href="/" { "Torna al catalogo" } }
        },
    )
}

/// What a fault code means for a citizen.
fn plain_words(code: &str) -> &'static str {
    match code {
        "PPT_ERRORE_EMESSO_DA_PAA" => {
            "L'ente creditore non ha potuto creare l'avviso con i dati inseriti. Controlla i dati o contatta l'ente."
        }
        "PPT_SINTASSI_XSD" | "PPT_SINTASSI_EXTRAXSD" => {
            "I dati inseriti non sono nel formato richiesto dal servizio."
        }
        "PPT_SERVIZIO_SCONOSCIUTO" | "PPT_SERVIZIO_NONATTIVO" | "PPT_VERSIONE_SERVIZIO" => {
            "Il servizio non è disponibile in questo momento."
        }
        "PPT_STAZIONE_INT_PA_IRRAGGIUNGIBILE"
        | "PPT_STAZIONE_INT_PA_TIMEOUT"
        | "PPT_STAZIONE_INT_PA_ERRORE_RESPONSE" => {
            "Il sistema dell'ente creditore non risponde. Riprova più tardi."
        }
        "PPT_SUPERAMENTOSOGLIA" => "Il servizio è molto richiesto in questo momento. Riprova tra poco.",
        _ => "La richiesta non è stata accolta dal sistema pagoPA.",
    }
}
