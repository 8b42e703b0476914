//! Accepts connections (TLS or, when enabled, plain), bounds how many are served at once, serves
//! each with hyper, and on shutdown stops accepting and lets requests in flight finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
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

    /// Serves until `shutdown` resolves, then stops accepting, turns not-ready, and waits up to
    /// `limits.shutdown_timeout` for the requests in flight (keep-alive connections are closed
    /// after their current exchange). Returns whether everything finished in time.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> bool {
        tokio::pin!(shutdown);
        let gateway = self.gateway.clone();
        let limit = Arc::new(Semaphore::new(gateway.settings().limits.max_connections));
        let graceful = GracefulShutdown::new();
        gateway.set_ready(true);
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
            let gateway = gateway.clone();
            let watcher = graceful.watcher();
            tokio::spawn(async move {
                let _permit = permit;
                match &gateway.tls {
                    None => serve(gateway.clone(), tcp, peer, None, "http", watcher).await,
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
                                watcher,
                            )
                            .await
                        }
                        Err(failure) => {
                            gateway.metrics.handshake_failed(failure.as_str());
                            if failure.is_routine() {
                                tracing::debug!(%peer, reason = failure.as_str(), "TLS handshake failed");
                            } else {
                                tracing::warn!(%peer, reason = failure.as_str(), "TLS handshake failed");
                            }
                        }
                    },
                }
            });
        }
        gateway.set_ready(false);
        drop(self.listener);
        let deadline = gateway.settings().limits.shutdown_timeout;
        let in_flight = gateway.admission.in_flight();
        tracing::info!(
            in_flight,
            deadline_ms = deadline.as_millis() as u64,
            "stopped accepting; draining"
        );
        match tokio::time::timeout(deadline, graceful.shutdown()).await {
            Ok(()) => true,
            Err(_) => {
                tracing::warn!(
                    in_flight = gateway.admission.in_flight(),
                    "drain deadline passed; closing"
                );
                false
            }
        }
    }
}

async fn serve<S>(
    gateway: Arc<Gateway>,
    io: S,
    peer: SocketAddr,
    identity: Option<Arc<ClientIdentity>>,
    scheme: &'static str,
    watcher: hyper_util::server::graceful::Watcher,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let header_timeout = gateway.settings().limits.header_read_timeout;
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
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}
