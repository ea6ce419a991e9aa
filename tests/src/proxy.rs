//! A TCP proxy between the application and its database that a test can cut and restore,
//! to see what the server does while the database is unreachable and after it returns.
//!
//! Cutting closes the listening socket (new connections are refused, as by a stopped
//! server) and drops every open connection (as a network cut or a restart would).
//! Restoring listens on the same port again.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

/// A proxy to `upstream` (`host:port`) listening on `127.0.0.1:<free port>`.
pub struct TcpProxy {
    address: SocketAddr,
    upstream: String,
    /// The accept loop; `None` while cut.
    acceptor: Mutex<Option<JoinHandle<()>>>,
    /// Open connections, aborted by a cut.
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl TcpProxy {
    /// Starts forwarding to `upstream`. Needs a tokio runtime (not async, so it can run
    /// inside a configuration closure).
    pub fn start(upstream: &str) -> TcpProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap_or_else(|e| panic!("the proxy cannot listen: {e}"));
        let address = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("the proxy's address: {e}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|e| panic!("a non-blocking listener: {e}"));
        let listener =
            TcpListener::from_std(listener).unwrap_or_else(|e| panic!("the proxy's listener: {e}"));
        let proxy = TcpProxy {
            address,
            upstream: upstream.to_string(),
            acceptor: Mutex::new(None),
            connections: Arc::new(Mutex::new(Vec::new())),
        };
        proxy.serve(listener);
        proxy
    }

    /// Where to connect instead of the upstream.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let connections = self.connections.clone();
        let acceptor = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let forward = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let mut client = client;
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                if let Ok(mut open) = connections.lock() {
                    open.retain(|c| !c.is_finished());
                    open.push(forward);
                }
            }
        });
        if let Ok(mut slot) = self.acceptor.lock() {
            *slot = Some(acceptor);
        }
    }

    /// The database becomes unreachable: connections are refused and open ones dropped.
    pub async fn cut(&self) {
        let acceptor = self.acceptor.lock().ok().and_then(|mut slot| slot.take());
        if let Some(acceptor) = acceptor {
            acceptor.abort();
            // Wait until the listener is really closed before reporting the cut.
            let _ = acceptor.await;
        }
        let open: Vec<_> = self
            .connections
            .lock()
            .map(|mut open| open.drain(..).collect())
            .unwrap_or_default();
        for connection in open {
            connection.abort();
            let _ = connection.await;
        }
    }

    /// The database is reachable again, on the same address.
    pub fn restore(&self) {
        let socket = TcpSocket::new_v4().unwrap_or_else(|e| panic!("a socket: {e}"));
        socket
            .set_reuseaddr(true)
            .unwrap_or_else(|e| panic!("SO_REUSEADDR: {e}"));
        socket
            .bind(self.address)
            .unwrap_or_else(|e| panic!("the proxy cannot listen on {} again: {e}", self.address));
        let listener = socket
            .listen(128)
            .unwrap_or_else(|e| panic!("listening on {}: {e}", self.address));
        self.serve(listener);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.acceptor.lock() {
            if let Some(acceptor) = slot.take() {
                acceptor.abort();
            }
        }
        if let Ok(mut open) = self.connections.lock() {
            for connection in open.drain(..) {
                connection.abort();
            }
        }
    }
}

/// The `host:port` of a `postgres://user@host:port/db?…` URL.
pub fn authority_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let host_port = rest.split(['/', '?']).next().unwrap_or(rest);
    host_port
        .rsplit_once('@')
        .map_or(host_port, |(_, hp)| hp)
        .to_string()
}

/// `url` with its `host:port` replaced by `address` (user, database and query kept).
pub fn through(url: &str, address: SocketAddr) -> String {
    let authority = authority_of(url);
    url.replacen(&authority, &address.to_string(), 1)
}

#[cfg(test)]
mod tests {
    use super::authority_of;

    #[test]
    fn the_authority_is_the_host_and_port_after_the_user() {
        assert_eq!(
            authority_of("postgres://postgres@127.0.0.1:55432/minyi_test_1?sslmode=disable"),
            "127.0.0.1:55432"
        );
        assert_eq!(authority_of("postgres://h:5432"), "h:5432");
    }
}
