//! What the failover drills share: a load of session writes running while a server is
//! killed, and the figures taken from it (how long requests failed, when they
//! recovered, which acknowledged writes are gone). The drills assert that recovery
//! happens (polled with a deadline) and that every failure was an outage (a 503); the
//! figures are printed (run with `--no-capture`), never asserted against a threshold.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_flask_session::{SessionStore, StoreError};

/// One write of the load.
#[derive(Debug, Clone)]
pub struct Op {
    pub key: String,
    pub started: Duration,
    pub ended: Duration,
    pub error: Option<String>,
    pub outage: bool,
}

/// A writer that creates `<prefix><n>` sessions one after the other until stopped.
pub struct Load {
    ops: Arc<Mutex<Vec<Op>>>,
    stop: Arc<AtomicBool>,
    task: Option<actix_rt::task::JoinHandle<()>>,
    pub start: Instant,
}

impl Load {
    pub fn start<S: SessionStore + Clone + 'static>(store: S, prefix: String) -> Self {
        let ops = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let task = {
            let (ops, stop) = (Arc::clone(&ops), Arc::clone(&stop));
            actix_rt::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Acquire) {
                    let key = format!("{prefix}{n}");
                    let started = start.elapsed();
                    let result = store.create(&key, b"drill", Duration::from_secs(600)).await;
                    let ended = start.elapsed();
                    let (error, outage) = match result {
                        Ok(true) => (None, false),
                        Ok(false) => (Some("key existed".to_owned()), false),
                        Err(e) => {
                            let outage = matches!(e, StoreError::Unavailable { .. });
                            (Some(e.to_string()), outage)
                        }
                    };
                    ops.lock().expect("ops").push(Op {
                        key,
                        started,
                        ended,
                        error,
                        outage,
                    });
                    n += 1;
                    // Pacing of the load (about 500 writes a second), not synchronisation.
                    actix_rt::time::sleep(Duration::from_millis(2)).await;
                }
            })
        };
        Load {
            ops,
            stop,
            task: Some(task),
            start,
        }
    }

    pub fn ops(&self) -> Vec<Op> {
        self.ops.lock().expect("ops").clone()
    }

    /// Polls until `enough(ops)` holds; panics after `timeout` saying `what`.
    pub async fn until(&self, timeout: Duration, what: &str, enough: impl Fn(&[Op]) -> bool) {
        let deadline = Instant::now() + timeout;
        while !enough(&self.ops()) {
            assert!(
                Instant::now() < deadline,
                "{what} did not happen within {timeout:?}"
            );
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Polls until the store has failed and then served `successes` writes started after
    /// its first failure (it recovered by itself); panics after `timeout` saying `what`.
    pub async fn until_recovered(&self, timeout: Duration, what: &str, successes: usize) {
        self.until(timeout, what, |ops| {
            let first_failure = ops
                .iter()
                .filter(|o| o.error.is_some())
                .map(|o| o.started)
                .min();
            first_failure.is_some_and(|f| {
                ops.iter()
                    .filter(|o| o.error.is_none() && o.started > f)
                    .count()
                    >= successes
            })
        })
        .await;
    }

    pub async fn stop(mut self) -> Vec<Op> {
        self.stop.store(true, Ordering::Release);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        self.ops()
    }
}

/// The figures of one drill.
#[derive(Debug)]
pub struct Figures {
    /// From the kill to the end of the first write that succeeded after the first failure.
    pub unavailable_for: Duration,
    /// Writes that failed (each a 503 to its request).
    pub failed: usize,
    /// Writes acknowledged in the second before the kill, and how many of them are gone.
    pub acked_last_second: usize,
    pub lost_last_second: usize,
    /// All writes acknowledged before the kill, and how many of them are gone.
    pub acked_before_kill: usize,
    pub lost_before_kill: usize,
}

/// Takes the figures from `ops` around `killed_at`; `exists` says whether a key is still
/// stored (asked after the recovery). Panics if any failure was not an outage.
pub async fn figures<F, Fut>(ops: &[Op], killed_at: Duration, exists: F) -> Figures
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let failures: Vec<&Op> = ops.iter().filter(|o| o.error.is_some()).collect();
    for op in &failures {
        assert!(
            op.outage,
            "a failure that is not an outage (not a 503): {op:?}"
        );
    }
    let first_failure = failures
        .iter()
        .map(|o| o.started)
        .min()
        .expect("the kill caused failures");
    let recovered = ops
        .iter()
        .filter(|o| o.error.is_none() && o.started > first_failure)
        .map(|o| o.ended)
        .min()
        .expect("a write succeeded after the failures");
    let mut figures = Figures {
        unavailable_for: recovered.saturating_sub(killed_at),
        failed: failures.len(),
        acked_last_second: 0,
        lost_last_second: 0,
        acked_before_kill: 0,
        lost_before_kill: 0,
    };
    for op in ops
        .iter()
        .filter(|o| o.error.is_none() && o.ended <= killed_at)
    {
        let gone = !exists(op.key.clone()).await;
        figures.acked_before_kill += 1;
        figures.lost_before_kill += usize::from(gone);
        if op.ended + Duration::from_secs(1) >= killed_at {
            figures.acked_last_second += 1;
            figures.lost_last_second += usize::from(gone);
        }
    }
    figures
}

/// The reply of one command to the Redis on `port` as text (`None`: no answer).
#[cfg(feature = "redis")]
pub fn ask(port: u16, args: &[&str]) -> Option<String> {
    use actix_flask_session::backends::redis::deadpool_redis::redis::{self, Value};
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).ok()?;
    let mut conn = client
        .get_connection_with_timeout(Duration::from_millis(300))
        .ok()?;
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    let text = |v: Value| match v {
        Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
        Value::SimpleString(s) => s,
        Value::VerbatimString { text, .. } => text,
        Value::Int(i) => i.to_string(),
        other => format!("{other:?}"),
    };
    Some(match cmd.query::<Value>(&mut conn).ok()? {
        Value::Array(items) => items.into_iter().map(text).collect::<Vec<_>>().join(" "),
        other => text(other),
    })
}

/// Polls `ready` every 50 ms; panics after `timeout` saying `what`.
pub async fn eventually(timeout: Duration, what: &str, ready: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    while !ready() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what} within {timeout:?}"
        );
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}
