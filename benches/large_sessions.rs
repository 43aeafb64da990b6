//! What a large session costs: one-shot decode times of 60 000-entry maps of each key kind,
//! decode rates by shape and size (to place the off-worker threshold), the cost of a hop to
//! tokio's blocking pool, and the latency of a request that does not use the session while
//! a large session is loaded on the same (single) worker.
//!
//! Run with `cargo bench --features testing --bench large_sessions` (prints a report; no criterion). Knobs:
//! `ROUNDS` (default 5) big-session loads while /hello is timed; `ONLY` = `decode`,
//! `rates`, `hop` or `worker` for one part.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use actix_flask_session::backends::cachelib::{CacheLibSessionInterface, SimpleCache};
use actix_flask_session::testing::internals::serialization::{SessionMap, decode, encode};
use actix_flask_session::{
    SerializationFormat, ServerSideSession, ServerSideSessionInterface, Session, SessionConfig,
    SessionStore, Value,
};
use actix_web::{App, HttpServer, web};

const N: usize = 60_000;
const SID: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

fn shapes() -> Vec<(&'static str, SessionMap)> {
    let ints: SessionMap = (0..N as u64)
        .map(|i| (Value::from(i), Value::from(i)))
        .collect();
    let strings: SessionMap = (0..N)
        .map(|i| (Value::from(format!("k{i}")), Value::from(i)))
        .collect();
    let mut ints_dup = ints.clone();
    ints_dup.push((Value::from(0), Value::from(1)));
    let mut strings_dup = strings.clone();
    strings_dup.push((Value::from("k0"), Value::from(1)));
    vec![
        ("int keys", ints),
        ("string keys", strings),
        ("int keys + 1 repeat", ints_dup),
        ("string keys + 1 repeat", strings_dup),
    ]
}

/// Median of `runs` timings of `f`.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn decode_times() {
    println!("## decode of 60 000-entry maps (median of 3, one-shot)\n");
    println!("| shape | format | bytes | decode |");
    println!("|---|---|---:|---:|");
    for (name, map) in shapes() {
        for format in [SerializationFormat::MsgPack, SerializationFormat::Json] {
            let Ok(bytes) = encode(&map, format) else {
                continue;
            };
            let t = median(3, || {
                std::hint::black_box(decode(&bytes, format).expect("decodes"));
            });
            println!("| {name} | {format} | {} | {:.2?} |", bytes.len(), t);
        }
    }
    println!();
}

/// Decode throughput by shape at a few sizes: where a decode takes 100 µs.
fn decode_rates() {
    println!("## decode rate by shape (msgpack, median of 21)\n");
    println!("| shape | entries | bytes | decode | MB/s |");
    println!("|---|---:|---:|---:|---:|");
    type Build = fn(usize) -> SessionMap;
    let builds: [(&str, Build); 4] = [
        ("int -> int", |n| {
            (0..n as u64)
                .map(|i| (Value::from(i), Value::from(i)))
                .collect()
        }),
        ("str -> int", |n| {
            (0..n)
                .map(|i| (Value::from(format!("k{i}")), Value::from(i)))
                .collect()
        }),
        ("list of nil", |n| {
            vec![(Value::from("v"), Value::Array(vec![Value::Nil; n]))]
        }),
        ("list of 1-char str", |n| {
            vec![(Value::from("v"), Value::Array(vec![Value::from("x"); n]))]
        }),
    ];
    for (name, build) in builds {
        for n in [500, 2_000, 8_000, 32_000] {
            let map = build(n);
            let bytes = encode(&map, SerializationFormat::MsgPack).expect("encodes");
            let t = median(21, || {
                std::hint::black_box(decode(&bytes, SerializationFormat::MsgPack).expect("ok"));
            });
            let rate = bytes.len() as f64 / t.as_secs_f64() / 1e6;
            println!("| {name} | {n} | {} | {t:.2?} | {rate:.0} |", bytes.len());
        }
    }
    println!();
}

/// A round trip to tokio's blocking pool from a current-thread runtime (as an actix worker).
fn blocking_hop() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // Warm the pool's thread.
        tokio::task::spawn_blocking(|| ()).await.expect("runs");
        let t = {
            let mut times = Vec::new();
            for _ in 0..2001 {
                let start = Instant::now();
                tokio::task::spawn_blocking(|| std::hint::black_box(1))
                    .await
                    .expect("runs");
                times.push(start.elapsed());
            }
            times.sort();
            (times[1000], times[1900])
        };
        println!(
            "## spawn_blocking round trip from a current-thread runtime\n\nmedian {:.1?}, p95 {:.1?}\n",
            t.0, t.1
        );
    });
}

/// One HTTP/1.1 request on a new connection; the time to the whole response and whether
/// it was a 200.
fn get(addr: SocketAddr, path: &str, cookie: bool) -> (Duration, bool) {
    let start = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connects");
    let cookie = if cookie {
        format!("Cookie: session={SID}\r\n")
    } else {
        String::new()
    };
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: bench\r\n{cookie}Connection: close\r\n\r\n"
    )
    .expect("writes");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("reads");
    (start.elapsed(), response.starts_with(b"HTTP/1.1 200"))
}

/// Sorted times and the number of answers that were not 200 (actix answers 408 Request
/// Timeout to a request whose head its worker has not read within 5 s).
fn summary(results: Vec<(Duration, bool)>) -> (Vec<Duration>, usize) {
    let failed = results.iter().filter(|(_, ok)| !ok).count();
    let mut times: Vec<Duration> = results.into_iter().map(|(t, _)| t).collect();
    times.sort();
    (times, failed)
}

fn worker_blocking() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let store: Arc<dyn SessionStore> =
        Arc::new(CacheLibSessionInterface::new(SimpleCache::new(500)));
    let ints: SessionMap = (0..N as u64)
        .map(|i| (Value::from(i), Value::from(i)))
        .collect();
    let bytes = encode(&ints, SerializationFormat::MsgPack).expect("encodes");
    let interface =
        ServerSideSessionInterface::from_arc(Arc::clone(&store), SessionConfig::default())
            .expect("config");
    let session = Session::new(interface);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            store
                .create(&format!("session:{SID}"), &bytes, Duration::from_secs(3600))
                .await
                .expect("seeded");
            let server = HttpServer::new(move || {
                session.init_app(
                    App::new()
                        .route(
                            "/big",
                            web::get()
                                .to(|s: ServerSideSession| async move { s.len().to_string() }),
                        )
                        .route("/hello", web::get().to(|| async { "hello" })),
                )
            })
            .workers(1)
            .bind(("127.0.0.1", 0))
            .expect("binds");
            tx.send(server.addrs()[0]).expect("sends");
            server.run().await.expect("serves");
        });
    });
    let addr = rx.recv().expect("address");
    // Idle latency of /hello.
    let idle = summary((0..200).map(|_| get(addr, "/hello", false)).collect());
    // /hello, every 2 ms, while /big is loaded `rounds` times in a row.
    let busy = Arc::new(AtomicBool::new(true));
    let loader = {
        let busy = Arc::clone(&busy);
        std::thread::spawn(move || {
            let results: Vec<(Duration, bool)> =
                (0..rounds).map(|_| get(addr, "/big", true)).collect();
            busy.store(false, Ordering::SeqCst);
            results
        })
    };
    let mut during = Vec::new();
    while busy.load(Ordering::SeqCst) {
        during.push(get(addr, "/hello", false));
        std::thread::sleep(Duration::from_millis(2));
    }
    let big = summary(loader.join().expect("loader"));
    let during = summary(during);
    let pct = |v: &[Duration], p: usize| v[(v.len() - 1) * p / 100];
    println!("## /hello on the worker that loads a 60 000-int-key session ({rounds} loads)\n");
    println!("| | requests | not 200 | p50 | p99 | max |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, (times, failed)) in [
        ("/hello idle", idle),
        ("/hello during /big", during),
        ("/big (the load itself)", big),
    ] {
        println!(
            "| {name} | {} | {failed} | {:.2?} | {:.2?} | {:.2?} |",
            times.len(),
            pct(&times, 50),
            pct(&times, 99),
            times[times.len() - 1]
        );
    }
    println!();
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        // `cargo bench -- --list` (and cargo test --benches) expects no run.
        return;
    }
    // `ONLY=worker` (or `decode`, `rates`, `hop`) runs one part.
    let only = std::env::var("ONLY").unwrap_or_default();
    let run = |part: &str| only.is_empty() || only == part;
    if run("decode") {
        decode_times();
    }
    if run("rates") {
        decode_rates();
    }
    if run("hop") {
        blocking_hop();
    }
    if run("worker") {
        worker_blocking();
    }
}
