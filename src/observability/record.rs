//! The `metrics` calls (cargo feature `metrics`). Keys with fixed labels are built once.
//! The hot ones (loads, saves, store-call latencies) also keep the handle the recorder gave
//! for them, tagged with that recorder's address: the recorder is looked up at every call,
//! and the handle is reused only while it is the same one, so a recorder installed after
//! the interface was built (or a thread-local one in a test) still gets everything.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{Counter, Histogram, Key, Label, Level, Metadata, Recorder, Unit};

use super::names::{self, Kind};
use super::{Load, Save, Trigger};
use crate::error::StoreError;

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), Level::INFO, Some(module_path!()));

/// Registers the name, unit and meaning of every metric with the current recorder (the
/// `# HELP` lines of a Prometheus scrape).
pub(crate) fn describe() {
    metrics::with_recorder(|recorder| {
        for &(name, kind, _, meaning) in names::METRICS {
            match kind {
                Kind::Counter => recorder.describe_counter(name.into(), None, meaning.into()),
                Kind::Histogram => {
                    recorder.describe_histogram(name.into(), Some(Unit::Seconds), meaning.into())
                }
            }
        }
    });
}

fn increment(key: &Key, by: u64) {
    metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA).increment(by));
}

/// A handle registered with one recorder, kept for the next calls on that recorder.
#[derive(Debug)]
struct Cached<T>(OnceLock<(usize, T)>);

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached(OnceLock::new())
    }
}

impl<T> Cached<T> {
    /// Runs `f` on the handle for `key` from the current recorder: the kept one when it
    /// came from this recorder, else a fresh registration.
    fn with(&self, key: &Key, register: fn(&dyn Recorder, &Key) -> T, f: impl FnOnce(&T)) {
        metrics::with_recorder(|recorder| {
            let id = (recorder as *const dyn Recorder).cast::<()>() as usize;
            let (kept_id, handle) = self.0.get_or_init(|| (id, register(recorder, key)));
            if *kept_id == id {
                f(handle);
            } else {
                f(&register(recorder, key));
            }
        });
    }
}

fn register_counter(recorder: &dyn Recorder, key: &Key) -> Counter {
    recorder.register_counter(key, &METADATA)
}

fn register_histogram(recorder: &dyn Recorder, key: &Key) -> Histogram {
    recorder.register_histogram(key, &METADATA)
}

/// The load and save counters of one interface.
#[derive(Debug, Default)]
pub(crate) struct Handles {
    loads: [Cached<Counter>; 6],
    saves: [Cached<Counter>; 7],
}

macro_rules! outcome_keys {
    ($name:expr; $($outcome:literal),* $(,)?) => {
        [$({
            static LABELS: [Label; 1] = [Label::from_static_parts("outcome", $outcome)];
            Key::from_static_parts($name, &LABELS)
        }),*]
    };
}

static LOAD_KEYS: [Key; 6] =
    outcome_keys!(names::LOADS; "hit", "miss", "fresh", "corrupt", "bad_cookie", "error");
static SAVE_KEYS: [Key; 7] = outcome_keys!(names::SAVES; "created", "regenerated", "updated", "unchanged", "deleted", "gone", "error");

pub(crate) fn loaded(handles: &Handles, outcome: Load) {
    let index = match outcome {
        Load::Hit => 0,
        Load::Miss => 1,
        Load::Fresh => 2,
        Load::Corrupt => 3,
        Load::BadCookie => 4,
        Load::Error => 5,
    };
    debug_assert_eq!(
        LOAD_KEYS[index].labels().next().map(Label::value),
        Some(outcome.as_str())
    );
    handles.loads[index].with(&LOAD_KEYS[index], register_counter, |c| c.increment(1));
}

pub(crate) fn saved(handles: &Handles, outcome: Option<Save>) {
    let index = match outcome {
        Some(Save::Created) => 0,
        Some(Save::Regenerated) => 1,
        Some(Save::Updated) => 2,
        Some(Save::Unchanged) => 3,
        Some(Save::Deleted) => 4,
        Some(Save::Gone) => 5,
        None => 6,
    };
    debug_assert_eq!(
        SAVE_KEYS[index].labels().next().map(Label::value),
        Some(outcome.map_or("error", Save::as_str))
    );
    handles.saves[index].with(&SAVE_KEYS[index], register_counter, |c| c.increment(1));
}

pub(crate) fn cleaned(trigger: Trigger, result: &Result<u64, StoreError>) {
    let trigger = Label::from_static_parts("trigger", trigger.as_str());
    let outcome = if result.is_ok() { "ok" } else { "error" };
    increment(
        &Key::from_parts(
            names::CLEANUP_RUNS,
            vec![
                trigger.clone(),
                Label::from_static_parts("outcome", outcome),
            ],
        ),
        1,
    );
    if let Ok(deleted) = result {
        increment(
            &Key::from_parts(names::CLEANUP_DELETED, vec![trigger]),
            *deleted,
        );
    }
}

/// The latency keys of one store (its backend label), built once.
#[derive(Debug)]
pub(crate) struct StoreKeys {
    /// Indexed by operation, then by the operation's outcome (see `super::instrumented`).
    durations: Vec<Vec<(Key, Cached<Histogram>)>>,
}

impl StoreKeys {
    /// Keys for `backend`: for each operation, one per outcome it can have.
    pub(crate) fn new(
        backend: &'static str,
        operations: &[(&'static str, &[&'static str])],
    ) -> Self {
        let durations = operations
            .iter()
            .map(|(operation, outcomes)| {
                outcomes
                    .iter()
                    .map(|outcome| {
                        let key = Key::from_parts(
                            names::STORE_CALL_DURATION,
                            vec![
                                Label::from_static_parts("backend", backend),
                                Label::from_static_parts("operation", operation),
                                Label::from_static_parts("outcome", outcome),
                            ],
                        );
                        (key, Cached::default())
                    })
                    .collect()
            })
            .collect();
        StoreKeys { durations }
    }

    /// Records one store call.
    pub(crate) fn call(&self, operation: usize, outcome: usize, elapsed: Duration) {
        if let Some((key, cached)) = self
            .durations
            .get(operation)
            .and_then(|keys| keys.get(outcome))
        {
            cached.with(key, register_histogram, |h| h.record(elapsed.as_secs_f64()));
        }
    }
}

/// Records a failed store call.
pub(crate) fn store_error(backend: &'static str, operation: &'static str, error: &StoreError) {
    increment(
        &Key::from_parts(
            names::STORE_ERRORS,
            vec![
                Label::from_static_parts("backend", backend),
                Label::from_static_parts("operation", operation),
                Label::from_static_parts("kind", super::error_kind(error)),
            ],
        ),
        1,
    );
}
