//! Accepts connections (TLS or, when enabled, plain), bounds how many are served at once, and
//! serves each with hyper until the listener is shut down.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::http::route;
use crate::app::Gateway;
use crate::pki::ClientIdentity;

/// A bound gateway listener.
pub struct Server {
    listener: TcpListener,
    gateway: Arc<Gateway>,
}

impl Server {
    pub fn new(listener: TcpListener, gateway: Arc<Gateway>) -> Self {
        Self { listener, gateway }
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves; connections already open finish their current exchange.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        let limit = Arc::new(Semaphore::new(self.gateway.settings.limits.max_connections));
        let reloader = tokio::spawn(reload_tls_files(self.gateway.clone()));
        loop {
            // Past the limit we stop accepting: new clients wait in the kernel's listen backlog.
            let permit = tokio::select! {
                _ = &mut shutdown => break,
                p = limit.clone().acquire_owned() => match p {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let accepted = tokio::select! {
                _ = &mut shutdown => break,
                a = self.listener.accept() => a,
            };
            let (tcp, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Typically EMFILE: back off briefly rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = tcp.set_nodelay(true);
            let gateway = self.gateway.clone();
            tokio::spawn(async move {
                let _permit = permit;
                match &gateway.tls {
                    None => serve(gateway.clone(), tcp, peer, None, "http").await,
                    Some(tls) => match tls.handshake(tcp).await {
                        Ok((stream, identity)) => {
                            if let Some(id) = &identity {
                                tracing::debug!(%peer, subject = id.subject, issuer = id.issuer, serial = id.serial, sha256 = id.fingerprint(), "client certificate");
                            }
                            serve(
                                gateway.clone(),
                                stream,
                                peer,
                                identity.map(Arc::new),
                                "https",
                            )
                            .await
                        }
                        Err(failure) => {
                            gateway.metrics.handshake_failed(failure.as_str());
                            tracing::warn!(%peer, reason = failure.as_str(), "TLS handshake failed");
                        }
                    },
                }
            });
        }
        reloader.abort();
    }
}

async fn serve<S>(
    gateway: Arc<Gateway>,
    io: S,
    peer: SocketAddr,
    identity: Option<Arc<ClientIdentity>>,
    scheme: &'static str,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let header_timeout = gateway.settings.limits.header_read_timeout;
    let service = service_fn(move |req| {
        let gateway = gateway.clone();
        let identity = identity.clone();
        async move {
            Ok::<_, std::convert::Infallible>(
                route(&gateway, req, scheme, identity.as_deref()).await,
            )
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(io), service);
    if let Err(e) = conn.await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}

/// Re-reads certificate, key, CA and CRL files when they change (both TLS sides); a broken file
/// is logged and the last good material stays in use.
async fn reload_tls_files(gateway: Arc<Gateway>) {
    let mut tick = tokio::time::interval(gateway.settings.tls_reload_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        if let Some(tls) = &gateway.tls {
            match tls.reload_if_changed() {
                Ok(true) => tracing::info!("listener TLS files reloaded"),
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "listener TLS files changed but are unusable; keeping the previous ones")
                }
            }
        }
        match gateway.ec.reload_if_changed() {
            Ok(true) => tracing::info!("station TLS files reloaded"),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(error = %e, "station TLS files changed but are unusable; keeping the previous ones")
            }
        }
    }
}

/// Binds `settings.listen` and serves until `shutdown`.
pub async fn serve_on_settings(
    gateway: Arc<Gateway>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let listener = TcpListener::bind(gateway.settings.listen).await?;
    Server::new(listener, gateway).run(shutdown).await;
    Ok(())
}
