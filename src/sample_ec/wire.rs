//! One connection to the sample EC: optional TLS handshake (the gateway listener's code), HTTP/1.1
//! by hyper, and a real TCP reset when an answer asks for one.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::Station;

/// The TCP stream under everything, which sends RST instead of FIN on drop when asked.
struct Resettable {
    tcp: TcpStream,
    reset: Arc<AtomicBool>,
}

impl Drop for Resettable {
    fn drop(&mut self) {
        if self.reset.load(Ordering::Relaxed) {
            // Linger 0: closing discards unsent data and sends RST.
            let _ = self.tcp.set_zero_linger();
        }
    }
}

impl AsyncRead for Resettable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Resettable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// Serves one accepted connection until it ends.
pub(super) async fn connection(station: Station, tcp: TcpStream) {
    let reset = Arc::new(AtomicBool::new(false));
    let flag = reset.clone();
    let me = station.clone();
    let service = service_fn(move |req| {
        let me = me.clone();
        let flag = flag.clone();
        async move {
            super::answer(&me, req).await.map_err(|rst| {
                flag.store(rst, Ordering::Relaxed);
                std::io::Error::other("closed without an answer, as asked")
            })
        }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(std::time::Duration::from_secs(30));
    match &station.tls {
        None => {
            let io = Resettable { tcp, reset };
            let _ = http.serve_connection(TokioIo::new(io), service).await;
        }
        Some(tls) => {
            let Ok((stream, identity)) = tls.handshake(tcp).await else {
                return;
            };
            tracing::debug!(client = ?identity.map(|i| i.subject), "sample EC: TLS client");
            // Over TLS a reset is a plain close: the TLS stream owns the socket.
            let _ = http.serve_connection(TokioIo::new(stream), service).await;
        }
    }
}
