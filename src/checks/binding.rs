//! The client certificate must be bound to the caller's broker (and PSP/channel when the binding
//! names them): settings `[[psp_bindings]]`, matched on fingerprint or issuer + serial, never on CN.

use super::CheckError;
use crate::message::Caller;
use crate::pki::ClientIdentity;
use crate::settings::Binding;

/// Checks `identity` against the bindings of `caller.broker`. Without client authentication
/// (`enforce == false`) there is nothing to check.
pub fn check_certificate(
    bindings: &[Binding],
    enforce: bool,
    identity: Option<&ClientIdentity>,
    caller: &Caller,
) -> Result<(), CheckError> {
    if !enforce {
        return Ok(());
    }
    let mismatch = || CheckError::CertificateNotBound {
        broker: caller.broker.clone(),
    };
    let id = identity.ok_or_else(mismatch)?;
    let bound = bindings.iter().any(|b| {
        b.broker == caller.broker
            && (b.psps.is_empty() || b.psps.contains(&caller.psp))
            && (b.channels.is_empty() || b.channels.contains(&caller.channel))
            && (b.sha256.contains(&id.sha256)
                || b.issuer_serial
                    .iter()
                    .any(|(issuer, serial)| *issuer == id.issuer && *serial == id.serial))
    });
    if bound {
        Ok(())
    } else {
        Err(mismatch())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn caller(psp: &str, broker: &str, channel: &str) -> Caller {
        Caller {
            psp: psp.into(),
            broker: broker.into(),
            channel: channel.into(),
            password: Secret::new("x"),
        }
    }

    #[test]
    fn matches_fingerprint_or_issuer_serial_within_the_binding_scope() {
        let id = ClientIdentity {
            sha256: [7; 32],
            issuer: "CN=CA".into(),
            serial: "1f".into(),
            subject: "CN=BROKER_OK".into(),
        };
        let by_fp = Binding {
            broker: "B".into(),
            psps: vec![],
            channels: vec!["C1".into()],
            sha256: vec![[7; 32]],
            issuer_serial: vec![],
        };
        let by_serial = Binding {
            broker: "B2".into(),
            psps: vec!["P".into()],
            channels: vec![],
            sha256: vec![],
            issuer_serial: vec![("CN=CA".into(), "1f".into())],
        };
        let b = [by_fp, by_serial];
        assert!(check_certificate(&b, true, Some(&id), &caller("P", "B", "C1")).is_ok());
        assert!(
            check_certificate(&b, true, Some(&id), &caller("P", "B", "C2")).is_err(),
            "channel out of scope"
        );
        assert!(check_certificate(&b, true, Some(&id), &caller("P", "B2", "C9")).is_ok());
        assert!(
            check_certificate(&b, true, Some(&id), &caller("Q", "B2", "C9")).is_err(),
            "PSP out of scope"
        );
        assert!(
            check_certificate(&b, true, Some(&id), &caller("P", "B3", "C1")).is_err(),
            "unbound broker"
        );
        let other = ClientIdentity {
            sha256: [8; 32],
            serial: "20".into(),
            ..id.clone()
        };
        assert!(check_certificate(&b, true, Some(&other), &caller("P", "B", "C1")).is_err());
        assert!(check_certificate(&b, true, None, &caller("P", "B", "C1")).is_err());
        assert!(check_certificate(&[], false, None, &caller("P", "B", "C1")).is_ok());
    }
}
