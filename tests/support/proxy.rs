//! A TCP proxy in front of a server, for tests that must control *when* a client's bytes
//! reach the server: [`hold`](Proxy::hold) stops forwarding client → server bytes (they
//! wait in the proxy, in order), [`release`](Proxy::release) lets them through; every
//! server → client byte is recorded ([`replies`](Proxy::replies)). Blocking threads, no
//! runtime needed.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread;

#[derive(Default)]
struct Shared {
    held: Mutex<bool>,
    released: Condvar,
    replies: Mutex<Vec<u8>>,
    /// Client → server chunks that reached the gate.
    sent: Mutex<Vec<u8>>,
}

/// The proxy; it stops accepting when dropped (open connections end with their peers).
pub struct Proxy {
    port: u16,
    shared: Arc<Shared>,
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards every connection to `upstream`
    /// (`host:port`).
    pub fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let shared = Arc::new(Shared::default());
        let upstream = upstream.to_owned();
        let accept_shared = Arc::clone(&shared);
        thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                let (c2, s2) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                let up = Arc::clone(&accept_shared);
                thread::spawn(move || pump(client, server, &up, Direction::ToServer));
                let down = Arc::clone(&accept_shared);
                thread::spawn(move || pump(s2, c2, &down, Direction::ToClient));
            }
        });
        Proxy { port, shared }
    }

    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// From now on, client bytes wait in the proxy.
    pub fn hold(&self) {
        *self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
    }

    /// Forwards the waiting client bytes, and all later ones.
    pub fn release(&self) {
        *self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = false;
        self.shared.released.notify_all();
    }

    /// Every byte the server sent to clients so far.
    pub fn replies(&self) -> String {
        let bytes = self
            .shared
            .replies
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Every byte clients sent so far (forwarded or held).
    pub fn requests(&self) -> String {
        let bytes = self
            .shared
            .sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[derive(Clone, Copy)]
enum Direction {
    ToServer,
    ToClient,
}

fn pump(mut from: TcpStream, mut to: TcpStream, shared: &Shared, direction: Direction) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        match direction {
            Direction::ToServer => {
                shared
                    .sent
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend_from_slice(&buf[..n]);
                let mut held = shared.held.lock().unwrap_or_else(PoisonError::into_inner);
                while *held {
                    held = shared
                        .released
                        .wait(held)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
            Direction::ToClient => {
                // Recorded before the client can see it: a reply the client acted on is
                // always in the log.
                shared
                    .replies
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend_from_slice(&buf[..n]);
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
