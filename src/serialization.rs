//! Session (de)serialization, byte-compatible with Flask-Session 0.8 / msgspec 0.22.
//!
//! A session is held as a value tree in insertion order: a [`SessionMap`] of
//! `(key, value)` pairs of [`rmpv::Value`]. Keys are normally [`Value::String`], but
//! non-string keys written by a Python peer (`{1: "a"}` in msgpack) survive a round trip.
//! [`encode`] writes the tree exactly as msgspec's default `msgpack.Encoder()` /
//! `json.Encoder()` would write the equivalent Python dict, so a Python app and a Rust app
//! can share one store; [`decode`] reads what either side wrote.
//!
//! # MessagePack rules (msgspec `msgpack.Encoder()`)
//!
//! * integers in their smallest form, unsigned forms for non-negative values (`cc`..`cf`),
//!   signed forms only for negative values (negative fixint, `d0`..`d3`);
//! * floats always as float64 (`cb`): a [`Value::F32`] is widened to `f64` exactly, which is
//!   also what msgspec does when it reads a float32 (`0.1f32` becomes `0.10000000149011612`);
//! * strings `a0`-`bf` / `d9` / `da` / `db`, binary `c4` / `c5` / `c6`, arrays and maps with
//!   the smallest header, map entries in insertion order;
//! * datetimes are the timestamp extension type `-1`: see [`timestamp_value`]. The canonical
//!   (smallest) form is always written (`d6 ff` 32-bit when there are no nanoseconds and the
//!   seconds fit in a `u32`, else `d7 ff` 64-bit when the seconds fit in 34 bits, else
//!   `c7 0c ff` 96-bit), whatever form the tree holds, like msgspec re-encoding a datetime.
//!
//! Every form above is what [`rmp::encode`] already produces; this module only walks the
//! tree to widen floats, canonicalise timestamps and refuse what Python could not read.
//!
//! # JSON rules (msgspec `json.Encoder()`)
//!
//! * compact (no whitespace), UTF-8 output; only `"`, `\` and control characters
//!   (U+0000..U+001F) are escaped (`\b \t \n \f \r`, others as lowercase `\u00XX`);
//!   non-ASCII, U+2028/U+2029, DEL, `/` and `<` are written raw;
//! * floats as the shortest round-trip representation, with msgspec's layout: `1.0`, `0.1`,
//!   `0.00001`, `1e-6`, `1e16`, `1.5e300` (no `+` in the exponent; `serde_json` itself
//!   would write `1e+16`, so the float formatter is overridden); NaN and ±infinity → `null`;
//! * binary → standard base64 **with** padding (`"AP8="`);
//! * timestamp extension → RFC 3339 in UTC with `Z`: no fraction when the nanoseconds are
//!   zero, 6 digits when they are a multiple of 1000 (msgspec's microseconds), else 9;
//! * map keys: strings as is; integers, floats (`"1.5"`, `"nan"`, `"inf"`, `"-inf"`),
//!   binary (base64) and timestamps (RFC 3339) are stringified like msgspec does; nil,
//!   booleans, arrays, maps and other extension types are refused (msgspec refuses them too);
//! * other extension types cannot be written as JSON at all.
//!
//! # Decoding
//!
//! [`decode`] tries the configured format first, then the other one, like Flask-Session
//! (there is no ambiguity: msgpack maps start with `0x80`-`0x8f`, `0xde`, `0xdf`, JSON
//! objects with `{` after optional whitespace). The top level must be a map / object and
//! nothing may follow it. As in Python's `dict`, a repeated key keeps its first position and
//! takes its last value. Float32 values are widened to `f64` and timestamps are brought to
//! their canonical form. What msgspec refuses to decode
//! is refused too: strings that are not UTF-8, malformed or out-of-range timestamps (outside
//! years 1..=9999), maps used as map keys.
//!
//! # Known differences from msgspec / Python
//!
//! * Flask-Session falls back to `pickle` for data written by Flask-Session < 0.7; pickle is
//!   not read here ([`decode`] returns [`SerializationError::Decode`]).
//! * JSON integers outside the `i64`/`u64` range become `f64` (Python keeps an exact `int`),
//!   and so are written back as floats. JSON `-0` becomes the float `-0.0` (Python: int `0`).
//! * A session value may nest at most [`MAX_DEPTH`] (126) levels of arrays and maps, in
//!   both formats (what serde_json reads back); msgspec reads about 1000. The limit is
//!   applied by [`check_encodable`], [`encode`] and [`decode`] alike, so whatever is
//!   inserted can be stored and whatever is read can be written back; deeper data written
//!   by a Python peer is refused like corrupt data.
//! * Map keys are compared by exact value when removing duplicates (by hashing, so in time
//!   linear in the input); Python also treats `1`, `1.0` and `True` as the same key.
//! * Timestamps keep nanoseconds; Python's `datetime` only has microseconds, so a Python peer
//!   rounds them off when it rewrites the session.
//! * Python types that msgspec writes as strings (naive datetimes, dates, `Decimal`, `UUID`)
//!   arrive as strings, as they do in Python.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};
use std::io;

use base64::Engine as _;
use rmpv::Value;
use serde::ser::{Error as _, SerializeMap as _, SerializeSeq as _};
use serde::{Serialize, Serializer};
use serde_json::ser::{CompactFormatter, Formatter};
use time::OffsetDateTime;

use crate::config::SerializationFormat;
use crate::error::SerializationError;

/// A whole session: `(key, value)` pairs in insertion order.
///
/// Keys are normally [`Value::String`]; other keys written by a Python peer are kept.
pub type SessionMap = Vec<(Value, Value)>;

/// The MessagePack extension type of timestamps (msgpack spec, used by msgspec for aware
/// datetimes).
pub(crate) const TIMESTAMP_EXT_TYPE: i8 = -1;

/// Deepest nesting of arrays and maps inside one session value, in both formats: a value
/// that is an array (or map) of scalars is 1 level deep.
///
/// It is what both decoders read back: serde_json refuses a 128th nested array or object
/// and the session's own object is the first; rmpv is given a budget that fits any leaf at
/// this depth, and deeper msgpack is refused. [`check_encodable`] (so `insert`), [`encode`]
/// and [`decode`] apply the same limit, so whatever is inserted can be stored and read back,
/// in either format. It also keeps decoding within a thread's stack: rmpv takes about
/// 4 KiB of stack per level in a debug build (half a MiB at this depth).
pub(crate) const MAX_DEPTH: usize = 126;

/// The depth budget given to rmpv's reader for a whole session: it spends 2 units per map
/// or array, 3 on a string or extension value (2 on binary, 1 on other scalars), so the
/// session map, `max_depth` levels and any leaf fit. What it lets through one level
/// deeper (empty containers, small scalars) is refused by [`normalize`].
const fn rmpv_budget(max_depth: usize) -> usize {
    2 + 2 * max_depth + 3
}

/// Unix seconds of 0001-01-01T00:00:00Z, the earliest instant Python's `datetime` holds.
const PY_MIN_SECS: i64 = -62_135_596_800;
/// Unix seconds of 9999-12-31T23:59:59Z, the latest second Python's `datetime` holds.
const PY_MAX_SECS: i64 = 253_402_300_799;

/// Encodes the whole session map in the configured format, bytes identical to msgspec's
/// encoder for the equivalent Python dict.
///
/// Fails with [`SerializationError::Encode`] for values that Python could not read back:
/// strings that are not UTF-8, malformed or out-of-range timestamps, maps used as map keys,
/// nesting deeper than `MAX_DEPTH`; and, in JSON, extension types other than timestamps
/// and keys that JSON cannot hold (see the module docs).
pub fn encode(
    map: &[(Value, Value)],
    format: SerializationFormat,
) -> Result<Vec<u8>, SerializationError> {
    match format {
        SerializationFormat::MsgPack => encode_msgpack(map),
        SerializationFormat::Json => encode_json(map),
    }
}

/// The number of bytes [`encode`] writes for `map` in `format`, without writing them; fails
/// when [`encode`] fails.
#[cfg(any(test, feature = "testing"))]
pub fn encoded_len(
    map: &[(Value, Value)],
    format: SerializationFormat,
) -> Result<usize, SerializationError> {
    map.iter()
        .try_fold(frame_len(map.len(), format), |total, (k, v)| {
            Ok(total + entry_len(k, v, format)?)
        })
}

/// Decodes stored bytes: the configured format first, then the other one (Flask-Session
/// reads either).
///
/// The data must be a single msgpack map or JSON object with no trailing bytes; anything
/// else (a JSON array, truncated msgpack, garbage, empty input) is
/// [`SerializationError::Decode`], with both formats' reasons in the message. Values nested
/// deeper than `MAX_DEPTH` are refused in either format, so that whatever is read can be
/// written back. The work is linear in the input.
pub fn decode(
    bytes: &[u8],
    preferred: SerializationFormat,
) -> Result<SessionMap, SerializationError> {
    if bytes.is_empty() {
        return Err(SerializationError::Decode("empty input".to_owned()));
    }
    let (first, second) = match preferred {
        SerializationFormat::MsgPack => (SerializationFormat::MsgPack, SerializationFormat::Json),
        SerializationFormat::Json => (SerializationFormat::Json, SerializationFormat::MsgPack),
    };
    let limit = MAX_DEPTH;
    let first_err = match decode_as(bytes, first, limit) {
        Ok(map) => return Ok(map),
        Err(e) => e,
    };
    match decode_as(bytes, second, limit) {
        Ok(map) => Ok(map),
        Err(second_err) => Err(SerializationError::Decode(format!(
            "{}: {first_err}; {}: {second_err}",
            format_name(first),
            format_name(second)
        ))),
    }
}

/// Converts a typed value into a value tree.
///
/// Goes through [`rmp_serde::to_vec_named`], so structs become maps keyed by field names
/// (what a Python peer expects), `Option::None` becomes nil and unit enum variants become
/// strings. `f32` values are widened to `f64`, the only float Python has. Note that serde
/// writes `Vec<u8>` as an array of integers; use `serde_bytes` to get msgpack binary
/// (Python `bytes`).
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, SerializationError> {
    // Small values (the usual case) are written into a buffer on the stack; anything that
    // does not fit there (or fails) is written again into a growing one, which also gives
    // the real error. The first attempt stops as soon as the buffer is full, so what is
    // done twice is at most 128 bytes' worth.
    let mut small = [0u8; 128];
    let mut free = &mut small[..];
    let mut large = Vec::new();
    let bytes = if rmp_serde::encode::write_named(&mut free, value).is_ok() {
        let written = 128 - free.len();
        &small[..written]
    } else {
        rmp_serde::encode::write_named(&mut large, value).map_err(SerializationError::Serialize)?;
        &large[..]
    };
    let mut rd = bytes;
    // A budget for one level more than any format stores, so that a value too deep for the
    // configured format is refused by `check_encodable` with the depth in the message.
    let mut tree = rmpv::decode::read_value_with_max_depth(&mut rd, rmpv_budget(MAX_DEPTH + 1))
        .map_err(|e| SerializationError::Encode(format!("cannot read back the value: {e}")))?;
    widen_floats(&mut tree);
    Ok(tree)
}

/// Converts a value tree into a typed value, through [`rmp_serde`].
///
/// Maps deserialize into structs (by field name) and maps, arrays into sequences, nil into
/// `None`. Timestamps are extension values: read them with [`value_as_timestamp`].
pub fn from_value<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, SerializationError> {
    // Small values (the usual case) go through a buffer on the stack.
    let mut small = [0u8; 128];
    let mut free = &mut small[..];
    if rmpv::encode::write_value(&mut free, value).is_ok() {
        let written = 128 - free.len();
        return rmp_serde::from_slice(&small[..written]).map_err(SerializationError::Deserialize);
    }
    let mut buf = Vec::with_capacity(256);
    rmpv::encode::write_value(&mut buf, value)
        .map_err(|e| SerializationError::Encode(e.to_string()))?;
    rmp_serde::from_slice(&buf).map_err(SerializationError::Deserialize)
}

/// Checks that a value can be written in `format` and read back by a Python peer, so that a
/// bad value fails when it is inserted, not after the handler ran.
///
/// Refuses exactly what [`encode`] would refuse for this value in a session (it runs the
/// encoder without writing): strings that are not UTF-8, malformed or out-of-range
/// timestamps, maps used as map keys, nesting deeper than [`MAX_DEPTH`]; and for JSON also
/// extension types other than the timestamp and map keys that are not strings, numbers,
/// binary or timestamps.
#[cfg(test)]
pub fn check_encodable(
    value: &Value,
    format: SerializationFormat,
) -> Result<(), SerializationError> {
    value_len(value, format).map(drop)
}

// ---------------------------------------------------------------------------------------
// Encoded lengths, for the size cap: `encode(map).len()` is `frame_len(map.len())` plus the
// `entry_len` of every entry.

/// Counts the bytes written to it.
#[derive(Default)]
struct ByteCount(usize);

impl io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The bytes a session map of `entries` entries takes besides its keys and values: the
/// msgpack map header; JSON's braces, colons and commas.
pub(crate) fn frame_len(entries: usize, format: SerializationFormat) -> usize {
    match format {
        SerializationFormat::MsgPack => match entries {
            0..=15 => 1,
            16..=0xffff => 3,
            _ => 5,
        },
        SerializationFormat::Json => 2 + entries + entries.saturating_sub(1),
    }
}

/// The bytes [`encode`] writes for one session entry, key and value (JSON's colon is in
/// [`frame_len`]).
#[cfg(any(test, feature = "testing"))]
pub(crate) fn entry_len(
    key: &Value,
    value: &Value,
    format: SerializationFormat,
) -> Result<usize, SerializationError> {
    Ok(key_len(key, format)? + value_len(value, format)?)
}

/// The bytes [`encode`] writes for a string session key.
pub(crate) fn str_key_len(key: &str, format: SerializationFormat) -> usize {
    let mut count = ByteCount::default();
    // Writing to a counter cannot fail.
    let _ = match format {
        SerializationFormat::MsgPack => rmp::encode::write_str(&mut count, key).map_err(drop),
        SerializationFormat::Json => serde_json::to_writer(&mut count, key).map_err(drop),
    };
    count.0
}

/// The bytes [`encode`] writes for a session key of any kind.
pub(crate) fn key_len(
    key: &Value,
    format: SerializationFormat,
) -> Result<usize, SerializationError> {
    if let Some(text) = key.as_str() {
        return Ok(str_key_len(text, format));
    }
    let mut count = ByteCount::default();
    match format {
        SerializationFormat::MsgPack => {
            let limit = MAX_DEPTH;
            check_hashable_key(key, 0, limit)
                .and_then(|()| write_msgpack(&mut count, key, 0, limit))
                .map_err(SerializationError::Encode)?;
            Ok(count.0)
        }
        SerializationFormat::Json => {
            // As the only key of a map whose value is null: `{` key `:null}`.
            let entry = [(key.clone(), Value::Nil)];
            write_json(&mut count, &entry)?;
            Ok(count.0 - "{:null}".len())
        }
    }
}

/// The bytes [`encode`] writes for a session value (and the check that it can).
pub(crate) fn value_len(
    value: &Value,
    format: SerializationFormat,
) -> Result<usize, SerializationError> {
    let mut count = ByteCount::default();
    match format {
        SerializationFormat::MsgPack => {
            write_msgpack(&mut count, value, 0, MAX_DEPTH).map_err(SerializationError::Encode)?;
        }
        SerializationFormat::Json => {
            let mut ser = serde_json::Serializer::with_formatter(&mut count, MsgspecFormatter);
            JsonValue { value, depth: 0 }
                .serialize(&mut ser)
                .map_err(|e| SerializationError::Encode(e.to_string()))?;
        }
    }
    Ok(count.0)
}

/// Builds the msgpack timestamp (extension type `-1`, canonical form) of a date-time, as
/// msgspec writes a timezone-aware Python `datetime`.
///
/// The instant is kept and the offset dropped (the value is in UTC, as Python reads it
/// back). Nanoseconds are kept; a Python peer only sees microseconds.
pub fn timestamp_value(dt: OffsetDateTime) -> Value {
    Value::Ext(
        TIMESTAMP_EXT_TYPE,
        timestamp_bytes(dt.unix_timestamp(), dt.nanosecond()),
    )
}

/// Reads a msgpack timestamp (extension type `-1`, any of the 32/64/96-bit forms), e.g. a
/// timezone-aware `datetime` stored by a Python peer, as a UTC date-time.
///
/// Returns `None` for any other value, a malformed timestamp, or one out of the range of
/// [`OffsetDateTime`].
pub fn value_as_timestamp(v: &Value) -> Option<OffsetDateTime> {
    let (secs, nanos) = match v {
        Value::Ext(TIMESTAMP_EXT_TYPE, data) => parse_timestamp(data)?,
        _ => return None,
    };
    let total = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
    OffsetDateTime::from_unix_timestamp_nanos(total).ok()
}

// ---------------------------------------------------------------------------------------
// Timestamps

/// Parses the payload of a timestamp extension into (seconds, nanoseconds).
fn parse_timestamp(data: &[u8]) -> Option<(i64, u32)> {
    let (secs, nanos) = match data.len() {
        4 => (i64::from(u32::from_be_bytes(data.try_into().ok()?)), 0),
        8 => {
            let v = u64::from_be_bytes(data.try_into().ok()?);
            let nanos = u32::try_from(v >> 34).ok()?;
            let secs = i64::try_from(v & 0x3_ffff_ffff).ok()?;
            (secs, nanos)
        }
        12 => {
            let nanos = u32::from_be_bytes(data.get(..4)?.try_into().ok()?);
            let secs = i64::from_be_bytes(data.get(4..)?.try_into().ok()?);
            (secs, nanos)
        }
        _ => return None,
    };
    (nanos < 1_000_000_000).then_some((secs, nanos))
}

/// The canonical (smallest) timestamp payload for (seconds, nanoseconds).
fn timestamp_bytes(secs: i64, nanos: u32) -> Vec<u8> {
    if secs >> 34 == 0 {
        // 0 <= secs < 2^34: 32- or 64-bit form.
        if nanos == 0
            && let Ok(s) = u32::try_from(secs)
        {
            return s.to_be_bytes().to_vec();
        }
        // `secs` is non-negative here, so the cast is exact.
        let v = (u64::from(nanos) << 34) | secs as u64;
        v.to_be_bytes().to_vec()
    } else {
        let mut out = Vec::with_capacity(12);
        out.extend_from_slice(&nanos.to_be_bytes());
        out.extend_from_slice(&secs.to_be_bytes());
        out
    }
}

/// Parses a timestamp payload and checks that Python's `datetime` can hold it.
fn python_timestamp(data: &[u8]) -> Result<(i64, u32), String> {
    let (secs, nanos) = parse_timestamp(data).ok_or_else(|| {
        format!(
            "malformed msgpack timestamp (extension type -1 with {} bytes)",
            data.len()
        )
    })?;
    if !(PY_MIN_SECS..=PY_MAX_SECS).contains(&secs) {
        return Err(format!(
            "timestamp {secs} s is outside the years 1..=9999 that Python's datetime can hold"
        ));
    }
    Ok((secs, nanos))
}

/// RFC 3339 text of a timestamp payload, as msgspec writes an aware datetime in JSON.
fn timestamp_rfc3339(data: &[u8]) -> Result<String, String> {
    let (secs, nanos) = python_timestamp(data)?;
    let dt = OffsetDateTime::from_unix_timestamp(secs).map_err(|e| e.to_string())?;
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if nanos != 0 {
        if nanos % 1000 == 0 {
            s.push_str(&format!(".{:06}", nanos / 1000));
        } else {
            s.push_str(&format!(".{nanos:09}"));
        }
    }
    s.push('Z');
    Ok(s)
}

// ---------------------------------------------------------------------------------------
// Checks shared by encode and check_encodable

fn check_str(s: &rmpv::Utf8String) -> Result<&str, String> {
    s.as_str()
        .ok_or_else(|| "string is not valid UTF-8".to_owned())
}

/// Can Python hash this msgpack map key (msgspec decodes arrays in keys as tuples)? The
/// key's own containers start at `depth`.
fn check_hashable_key(key: &Value, depth: usize, limit: usize) -> Result<(), String> {
    match key {
        Value::Map(_) => {
            Err("a map cannot be a map key (Python dict keys must be hashable)".into())
        }
        Value::Ext(ty, _) if *ty != TIMESTAMP_EXT_TYPE => Err(format!(
            "extension type {ty} cannot be a map key (not hashable in Python)"
        )),
        Value::Array(items) => {
            if depth >= limit {
                return Err(depth_error(limit));
            }
            items
                .iter()
                .try_for_each(|k| check_hashable_key(k, depth + 1, limit))
        }
        _ => Ok(()),
    }
}

fn check_json_key(key: &Value) -> Result<(), String> {
    match key {
        Value::String(_)
        | Value::Integer(_)
        | Value::F32(_)
        | Value::F64(_)
        | Value::Binary(_)
        | Value::Ext(TIMESTAMP_EXT_TYPE, _) => Ok(()),
        other => Err(format!(
            "JSON map keys must be strings, numbers, bytes or timestamps, not {}",
            kind(other)
        )),
    }
}

fn depth_error(limit: usize) -> String {
    format!("value nested deeper than {limit} levels of arrays and maps")
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "a boolean",
        Value::Integer(_) => "an integer",
        Value::F32(_) | Value::F64(_) => "a float",
        Value::String(_) => "a string",
        Value::Binary(_) => "binary",
        Value::Array(_) => "an array",
        Value::Map(_) => "a map",
        Value::Ext(_, _) => "an extension value",
    }
}

fn format_name(format: SerializationFormat) -> &'static str {
    match format {
        SerializationFormat::MsgPack => "msgpack",
        SerializationFormat::Json => "json",
    }
}

// ---------------------------------------------------------------------------------------
// MessagePack

fn encode_msgpack(map: &[(Value, Value)]) -> Result<Vec<u8>, SerializationError> {
    let mut out = Vec::with_capacity(128);
    write_msgpack_entries(&mut out, map, 0, MAX_DEPTH).map_err(SerializationError::Encode)?;
    Ok(out)
}

fn len_u32(len: usize) -> Result<u32, String> {
    u32::try_from(len).map_err(|_| format!("{len} elements is too many for msgpack"))
}

/// Writes a map whose keys and values are at `depth` (0 for the session's own entries): a
/// map or array among them is refused when `depth` reaches `limit`.
fn write_msgpack_entries<W: io::Write>(
    out: &mut W,
    map: &[(Value, Value)],
    depth: usize,
    limit: usize,
) -> Result<(), String> {
    rmp::encode::write_map_len(out, len_u32(map.len())?).map_err(|e| e.to_string())?;
    for (k, v) in map {
        check_hashable_key(k, depth, limit)?;
        write_msgpack(out, k, depth, limit)?;
        write_msgpack(out, v, depth, limit)?;
    }
    Ok(())
}

fn write_msgpack<W: io::Write>(
    out: &mut W,
    v: &Value,
    depth: usize,
    limit: usize,
) -> Result<(), String> {
    match v {
        Value::F32(f) => {
            rmp::encode::write_f64(out, f64::from(*f)).map_err(|e| e.to_string())?;
        }
        Value::String(s) => {
            rmp::encode::write_str(out, check_str(s)?).map_err(|e| e.to_string())?;
        }
        Value::Ext(TIMESTAMP_EXT_TYPE, data) => {
            let (secs, nanos) = python_timestamp(data)?;
            let payload = timestamp_bytes(secs, nanos);
            rmp::encode::write_ext_meta(out, len_u32(payload.len())?, TIMESTAMP_EXT_TYPE)
                .map_err(|e| e.to_string())?;
            out.write_all(&payload).map_err(|e| e.to_string())?;
        }
        Value::Array(items) => {
            if depth >= limit {
                return Err(depth_error(limit));
            }
            rmp::encode::write_array_len(out, len_u32(items.len())?).map_err(|e| e.to_string())?;
            for item in items {
                write_msgpack(out, item, depth + 1, limit)?;
            }
        }
        Value::Map(entries) => {
            if depth >= limit {
                return Err(depth_error(limit));
            }
            write_msgpack_entries(out, entries, depth + 1, limit)?;
        }
        Value::Binary(b) => {
            len_u32(b.len())?;
            rmp::encode::write_bin(out, b).map_err(|e| e.to_string())?;
        }
        Value::Ext(_, data) => {
            len_u32(data.len())?;
            rmpv::encode::write_value(out, v).map_err(|e| e.to_string())?;
        }
        Value::Nil | Value::Boolean(_) | Value::Integer(_) | Value::F64(_) => {
            rmpv::encode::write_value(out, v).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn decode_as(
    bytes: &[u8],
    format: SerializationFormat,
    limit: usize,
) -> Result<SessionMap, String> {
    match format {
        SerializationFormat::MsgPack => decode_msgpack(bytes, limit),
        // serde_json itself refuses anything deeper than MAX_DEPTH.
        SerializationFormat::Json => decode_json(bytes),
    }
}

fn decode_msgpack(bytes: &[u8], limit: usize) -> Result<SessionMap, String> {
    let mut rd = bytes;
    let value = rmpv::decode::read_value_with_max_depth(&mut rd, rmpv_budget(limit))
        .map_err(|e| e.to_string())?;
    if !rd.is_empty() {
        return Err(format!("{} trailing byte(s) after the map", rd.len()));
    }
    match value {
        Value::Map(mut map) => {
            normalize_map(&mut map, 0, limit)?;
            Ok(map)
        }
        other => Err(format!("the top level is {}, not a map", kind(&other))),
    }
}

/// Brings a freshly decoded msgpack tree to what msgspec would have read: float32 widened,
/// UTF-8 checked, timestamps checked and in their canonical form (so that one instant is
/// one key), maps with hashable keys and no repeated keys, no map or array at `limit`
/// levels or deeper (`depth` levels are above `v`).
fn normalize(v: &mut Value, depth: usize, limit: usize) -> Result<(), String> {
    match v {
        Value::F32(f) => *v = Value::F64(f64::from(*f)),
        Value::String(s) => {
            check_str(s)?;
        }
        Value::Ext(TIMESTAMP_EXT_TYPE, data) => {
            let (secs, nanos) = python_timestamp(data)?;
            let canonical = timestamp_bytes(secs, nanos);
            if *data != canonical {
                *data = canonical;
            }
        }
        Value::Array(items) => {
            if depth >= limit {
                return Err(depth_error(limit));
            }
            items
                .iter_mut()
                .try_for_each(|item| normalize(item, depth + 1, limit))?;
        }
        Value::Map(entries) => {
            if depth >= limit {
                return Err(depth_error(limit));
            }
            normalize_map(entries, depth + 1, limit)?;
        }
        Value::Nil
        | Value::Boolean(_)
        | Value::Integer(_)
        | Value::F64(_)
        | Value::Binary(_)
        | Value::Ext(_, _) => {}
    }
    Ok(())
}

/// Normalizes a map whose keys and values are at `depth`.
fn normalize_map(map: &mut Vec<(Value, Value)>, depth: usize, limit: usize) -> Result<(), String> {
    for (k, v) in map.iter_mut() {
        check_hashable_key(k, depth, limit)?;
        normalize(k, depth, limit)?;
        normalize(v, depth, limit)?;
    }
    dedup_keys(map);
    Ok(())
}

/// Maps up to this many entries look for repeated keys pairwise, without allocating.
const PAIRWISE_MAX: usize = 16;

/// Applies Python `dict` semantics to repeated keys: the first position, the last value.
/// Linear in the number of entries (keys are hashed), whatever their kind.
fn dedup_keys(map: &mut Vec<(Value, Value)>) {
    // (index of a repeated key, index of its first occurrence), in increasing order.
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    if map.len() <= PAIRWISE_MAX {
        for (i, (k, _)) in map.iter().enumerate().skip(1) {
            if let Some(first) = map[..i].iter().position(|(other, _)| keys_equal(other, k)) {
                repeats.push((i, first));
            }
        }
    } else {
        let mut firsts: HashMap<HashedKey<'_>, usize> = HashMap::with_capacity(map.len());
        for (i, (k, _)) in map.iter().enumerate() {
            // A key holding a NaN equals no key, itself included (as in Python, where each
            // decoded NaN is a distinct object): it is never a repeat.
            if contains_nan(k) {
                continue;
            }
            match firsts.entry(HashedKey(k)) {
                Entry::Occupied(first) => repeats.push((i, *first.get())),
                Entry::Vacant(slot) => {
                    slot.insert(i);
                }
            }
        }
    }
    if repeats.is_empty() {
        return;
    }
    for &(repeat, first) in &repeats {
        let value = std::mem::replace(&mut map[repeat].1, Value::Nil);
        map[first].1 = value;
    }
    let mut repeated = repeats.iter().map(|&(repeat, _)| repeat).peekable();
    let mut index = 0;
    map.retain(|_| {
        let keep = repeated.peek() != Some(&index);
        if !keep {
            repeated.next();
        }
        index += 1;
        keep
    });
}

#[cfg(test)]
thread_local! {
    /// Key comparisons made by `dedup_keys` on this thread (the unit tests count them).
    static KEY_COMPARISONS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// `a == b`, counted in tests.
fn keys_equal(a: &Value, b: &Value) -> bool {
    #[cfg(test)]
    KEY_COMPARISONS.with(|n| n.set(n.get() + 1));
    a == b
}

fn contains_nan(key: &Value) -> bool {
    match key {
        Value::F32(f) => f.is_nan(),
        Value::F64(f) => f.is_nan(),
        Value::Array(items) => items.iter().any(contains_nan),
        Value::Map(entries) => entries
            .iter()
            .any(|(k, v)| contains_nan(k) || contains_nan(v)),
        _ => false,
    }
}

/// A map key hashed consistently with `Value`'s `==` (equal values hash alike: `0.0` and
/// `-0.0` too). Keys holding a NaN are kept out, so that `==` is an equivalence here.
struct HashedKey<'a>(&'a Value);

impl PartialEq for HashedKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        keys_equal(self.0, other.0)
    }
}

impl Eq for HashedKey<'_> {}

impl Hash for HashedKey<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_value(self.0, state);
    }
}

fn hash_float<H: Hasher>(f: f64, state: &mut H) {
    // 0.0 == -0.0: both hash as +0.0.
    let f = if f == 0.0 { 0.0 } else { f };
    f.to_bits().hash(state);
}

fn hash_value<H: Hasher>(v: &Value, state: &mut H) {
    std::mem::discriminant(v).hash(state);
    match v {
        Value::Nil => {}
        Value::Boolean(b) => b.hash(state),
        Value::Integer(i) => (i.as_u64(), i.as_i64()).hash(state),
        Value::F32(f) => hash_float(f64::from(*f), state),
        Value::F64(f) => hash_float(*f, state),
        Value::String(s) => s.as_bytes().hash(state),
        Value::Binary(b) => b.hash(state),
        Value::Array(items) => {
            items.len().hash(state);
            items.iter().for_each(|item| hash_value(item, state));
        }
        Value::Map(entries) => {
            entries.len().hash(state);
            entries.iter().for_each(|(k, val)| {
                hash_value(k, state);
                hash_value(val, state);
            });
        }
        Value::Ext(ty, data) => {
            ty.hash(state);
            data.hash(state);
        }
    }
}

fn widen_floats(v: &mut Value) {
    match v {
        Value::F32(f) => *v = Value::F64(f64::from(*f)),
        Value::Array(items) => items.iter_mut().for_each(widen_floats),
        Value::Map(entries) => entries.iter_mut().for_each(|(k, val)| {
            widen_floats(k);
            widen_floats(val);
        }),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// JSON

/// serde_json's compact formatter with msgspec's float layout (no `+` in exponents).
struct MsgspecFormatter;

impl Formatter for MsgspecFormatter {
    fn write_f64<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        write_float(writer, value)
    }

    fn write_f32<W: ?Sized + io::Write>(&mut self, writer: &mut W, value: f32) -> io::Result<()> {
        write_float(writer, f64::from(value))
    }
}

/// Writes a finite float the way msgspec does: serde_json's shortest round-trip digits and
/// layout, minus the `+` of positive exponents (checked equal on 220 000 values).
fn write_float<W: ?Sized + io::Write>(writer: &mut W, value: f64) -> io::Result<()> {
    let mut buf = [0u8; 40];
    let mut cursor = io::Cursor::new(&mut buf[..]);
    CompactFormatter.write_f64(&mut cursor, value)?;
    let len = usize::try_from(cursor.position()).unwrap_or(0);
    let text = &buf[..len];
    match text.iter().position(|&b| b == b'+') {
        Some(p) => {
            writer.write_all(&text[..p])?;
            writer.write_all(&text[p + 1..])
        }
        None => writer.write_all(text),
    }
}

/// A float map key as msgspec stringifies it.
fn float_key(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let mut out = Vec::with_capacity(24);
    // Writing into a Vec cannot fail, and the digits are ASCII.
    let _ = write_float(&mut out, value);
    String::from_utf8(out).unwrap_or_default()
}

fn encode_json(map: &[(Value, Value)]) -> Result<Vec<u8>, SerializationError> {
    let mut out = Vec::with_capacity(128);
    write_json(&mut out, map)?;
    Ok(out)
}

fn write_json<W: io::Write>(out: W, map: &[(Value, Value)]) -> Result<(), SerializationError> {
    let mut ser = serde_json::Serializer::with_formatter(out, MsgspecFormatter);
    JsonMap {
        entries: map,
        depth: 0,
    }
    .serialize(&mut ser)
    .map_err(|e| SerializationError::Encode(e.to_string()))
}

/// Serializes a value tree as msgspec's JSON without copying it. `depth` levels are above
/// the value (0 for a session value); a map or array at `MAX_DEPTH` is refused.
struct JsonValue<'a> {
    value: &'a Value,
    depth: usize,
}

/// A map whose values are at `depth`.
struct JsonMap<'a> {
    entries: &'a [(Value, Value)],
    depth: usize,
}

struct JsonKey<'a>(&'a Value);

impl Serialize for JsonValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.value {
            Value::Nil => s.serialize_unit(),
            Value::Boolean(b) => s.serialize_bool(*b),
            Value::Integer(i) => match (i.as_u64(), i.as_i64()) {
                (Some(u), _) => s.serialize_u64(u),
                (None, Some(n)) => s.serialize_i64(n),
                (None, None) => Err(S::Error::custom("integer out of range")),
            },
            Value::F32(f) => s.serialize_f64(f64::from(*f)),
            Value::F64(f) => s.serialize_f64(*f),
            Value::String(text) => s.serialize_str(check_str(text).map_err(S::Error::custom)?),
            Value::Binary(b) => {
                s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b))
            }
            Value::Ext(TIMESTAMP_EXT_TYPE, data) => {
                s.serialize_str(&timestamp_rfc3339(data).map_err(S::Error::custom)?)
            }
            Value::Ext(ty, _) => Err(S::Error::custom(format!(
                "msgpack extension type {ty} cannot be written as JSON"
            ))),
            Value::Array(items) => {
                if self.depth >= MAX_DEPTH {
                    return Err(S::Error::custom(depth_error(MAX_DEPTH)));
                }
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&JsonValue {
                        value: item,
                        depth: self.depth + 1,
                    })?;
                }
                seq.end()
            }
            Value::Map(entries) => {
                if self.depth >= MAX_DEPTH {
                    return Err(S::Error::custom(depth_error(MAX_DEPTH)));
                }
                JsonMap {
                    entries,
                    depth: self.depth + 1,
                }
                .serialize(s)
            }
        }
    }
}

impl Serialize for JsonMap<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.entries.len()))?;
        for (k, v) in self.entries {
            map.serialize_entry(
                &JsonKey(k),
                &JsonValue {
                    value: v,
                    depth: self.depth,
                },
            )?;
        }
        map.end()
    }
}

impl Serialize for JsonKey<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::String(text) => s.serialize_str(check_str(text).map_err(S::Error::custom)?),
            // serde_json's key serializer quotes integers: 1 -> "1".
            Value::Integer(i) => match (i.as_u64(), i.as_i64()) {
                (Some(u), _) => s.serialize_u64(u),
                (None, Some(n)) => s.serialize_i64(n),
                (None, None) => Err(S::Error::custom("integer out of range")),
            },
            Value::F32(f) => s.serialize_str(&float_key(f64::from(*f))),
            Value::F64(f) => s.serialize_str(&float_key(*f)),
            Value::Binary(b) => {
                s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b))
            }
            Value::Ext(TIMESTAMP_EXT_TYPE, data) => {
                s.serialize_str(&timestamp_rfc3339(data).map_err(S::Error::custom)?)
            }
            other => Err(S::Error::custom(
                check_json_key(other).err().unwrap_or_default(),
            )),
        }
    }
}

fn decode_json(bytes: &[u8]) -> Result<SessionMap, String> {
    // preserve_order: objects keep their key order; a repeated key keeps its first position
    // and takes its last value, like a Python dict.
    match serde_json::from_slice::<serde_json::Value>(bytes).map_err(|e| e.to_string())? {
        serde_json::Value::Object(obj) => Ok(json_object_to_map(obj)),
        other => Err(format!(
            "the top level is {}, not an object",
            json_kind(&other)
        )),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn json_object_to_map(obj: serde_json::Map<String, serde_json::Value>) -> SessionMap {
    obj.into_iter()
        .map(|(k, v)| (Value::from(k), json_to_value(v)))
        .collect()
}

fn json_to_value(v: serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Boolean(b),
        serde_json::Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::from(u)
            } else if let Some(i) = n.as_i64() {
                Value::from(i)
            } else {
                Value::F64(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::from(s),
        serde_json::Value::Array(items) => {
            Value::Array(items.into_iter().map(json_to_value).collect())
        }
        serde_json::Value::Object(obj) => Value::Map(json_object_to_map(obj)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MP: SerializationFormat = SerializationFormat::MsgPack;
    const JSON: SerializationFormat = SerializationFormat::Json;

    fn s(text: &str) -> Value {
        Value::from(text)
    }

    fn mp_hex(v: Value) -> String {
        let bytes = encode(&[(s("k"), v)], MP).expect("encodes");
        // Strip the `81 a1 6b` envelope.
        bytes[3..].iter().map(|b| format!("{b:02x}")).collect()
    }

    fn json_text(v: Value) -> String {
        let bytes = encode(&[(s("k"), v)], JSON).expect("encodes");
        let text = String::from_utf8(bytes).expect("utf-8");
        text["{\"k\":".len()..text.len() - 1].to_owned()
    }

    #[test]
    fn floats_are_float64() {
        assert_eq!(mp_hex(Value::F32(1.0)), "cb3ff0000000000000");
        assert_eq!(mp_hex(Value::F64(f64::NAN)), "cb7ff8000000000000");
    }

    #[test]
    fn json_floats_use_msgspec_layout() {
        // Expected texts were produced by msgspec 0.22.0.
        let cases = [
            (1e20, "1e20"),
            (1e16, "1e16"),
            (1e15, "1000000000000000.0"),
            (1e-5, "0.00001"),
            (1e-6, "1e-6"),
            (1.5e300, "1.5e300"),
            (5e-324, "5e-324"),
            (-0.0, "-0.0"),
            (123456789012345678.0, "1.2345678901234568e17"),
            (f64::INFINITY, "null"),
        ];
        for (f, want) in cases {
            assert_eq!(json_text(Value::F64(f)), want, "{f:?}");
        }
    }

    #[test]
    fn json_float_keys() {
        assert_eq!(float_key(1e20), "1e20");
        assert_eq!(float_key(f64::NAN), "nan");
        assert_eq!(float_key(f64::NEG_INFINITY), "-inf");
        assert_eq!(float_key(1.5), "1.5");
    }

    #[test]
    fn timestamp_forms() {
        assert_eq!(timestamp_bytes(0x65937d25, 0), vec![0x65, 0x93, 0x7d, 0x25]);
        assert_eq!(timestamp_bytes(1 << 32, 0).len(), 8);
        assert_eq!(timestamp_bytes(-1, 999_999_000).len(), 12);
        assert_eq!(timestamp_bytes(1 << 34, 0).len(), 12);
        for (secs, nanos) in [
            (0, 0),
            (1, 5),
            (-1, 999_999_999),
            (1 << 33, 7),
            (i64::MAX, 1),
        ] {
            assert_eq!(
                parse_timestamp(&timestamp_bytes(secs, nanos)),
                Some((secs, nanos))
            );
        }
        assert_eq!(parse_timestamp(&[0; 5]), None);
    }

    #[test]
    fn non_canonical_timestamp_is_rewritten_canonically() {
        // 64-bit form with zero nanoseconds -> 32-bit form.
        let v = Value::Ext(-1, vec![0, 0, 0, 0, 0x65, 0x93, 0x7d, 0x25]);
        assert_eq!(mp_hex(v), "d6ff65937d25");
    }

    #[test]
    fn duplicate_keys_follow_python_dict() {
        // {'a': 1, 'b': 2, 'a': 3} -> {'a': 3, 'b': 2}
        let bytes = [0x83, 0xa1, b'a', 1, 0xa1, b'b', 2, 0xa1, b'a', 3];
        let map = decode(&bytes, MP).expect("decodes");
        assert_eq!(
            map,
            vec![(s("a"), Value::from(3)), (s("b"), Value::from(2))]
        );
    }

    #[test]
    fn timestamps_are_read_in_canonical_form_so_one_instant_is_one_key() {
        // {<epoch+1 s, 64-bit form>: 1, <epoch+1 s, 32-bit form>: 2}
        let bytes = [
            0x82, 0xd7, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0xd6, 0xff, 0, 0, 0, 1, 2,
        ];
        let map = decode(&bytes, MP).expect("decodes");
        assert_eq!(
            map,
            vec![(Value::Ext(-1, vec![0, 0, 0, 1]), Value::from(2))]
        );
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(matches!(
            decode(&[0x81, 0xa2, 0xff, 0xfe, 0x01], MP),
            Err(SerializationError::Decode(_))
        ));
        let mut rd: &[u8] = &[0xa2, 0xff, 0xfe];
        let bad = rmpv::decode::read_value(&mut rd).expect("rmpv keeps invalid strings");
        assert!(check_encodable(&bad, MP).is_err());
        assert!(check_encodable(&bad, JSON).is_err());
        assert!(encode(&[(s("k"), bad.clone())], MP).is_err());
        assert!(encode(&[(s("k"), bad)], JSON).is_err());
    }

    #[test]
    fn map_keys_must_be_hashable() {
        let v = Value::Map(vec![(Value::Map(vec![]), Value::Nil)]);
        assert!(check_encodable(&v, MP).is_err());
        assert!(encode(&[(Value::Map(vec![]), Value::Nil)], MP).is_err());
        let tuple_key = Value::Map(vec![(Value::Array(vec![1.into(), 2.into()]), s("x"))]);
        assert!(check_encodable(&tuple_key, MP).is_ok());
        assert!(check_encodable(&tuple_key, JSON).is_err());
    }

    #[test]
    fn depth_limit() {
        for format in [MP, JSON] {
            let limit = MAX_DEPTH;
            let mut v = Value::Nil;
            for _ in 0..limit {
                v = Value::Array(vec![v]);
            }
            assert!(check_encodable(&v, format).is_ok());
            let bytes = encode(&[(s("k"), v.clone())], format).expect("at the limit");
            assert_eq!(
                decode(&bytes, format).expect("reads back"),
                [(s("k"), v.clone())]
            );
            let v = Value::Array(vec![v]);
            assert!(check_encodable(&v, format).is_err());
            assert!(encode(&[(s("k"), v)], format).is_err());
        }
    }

    /// Keys the counter saw compared while decoding `bytes`.
    fn comparisons_decoding(bytes: &[u8]) -> (usize, SessionMap) {
        KEY_COMPARISONS.with(|n| n.set(0));
        let map = decode(bytes, MP).expect("decodes");
        (KEY_COMPARISONS.with(std::cell::Cell::get), map)
    }

    #[test]
    fn repeated_keys_are_found_in_linear_work() {
        const N: usize = 60_000;
        type KeyOf = fn(usize) -> Value;
        let kinds: [(&str, KeyOf); 4] = [
            ("integer", |i| Value::from(i)),
            ("string", |i| Value::from(format!("key{i}"))),
            ("float", |i| Value::F64(i as f64 + 0.5)),
            ("tuple", |i| Value::Array(vec![Value::from(i), Value::Nil])),
        ];
        for (name, key) in kinds {
            let mut map: SessionMap = (0..N).map(|i| (key(i), Value::from(i))).collect();
            let (comparisons, decoded) = comparisons_decoding(&encode(&map, MP).unwrap());
            assert_eq!(decoded, map, "{name}");
            // Hashing compares only keys whose hashes collide (never N^2/2 = 1.8e9 times).
            assert!(comparisons <= N / 4, "{name}: {comparisons} comparisons");
            // One repeat at the end: the first key takes the last value.
            map.push((key(0), s("last")));
            let (comparisons, decoded) = comparisons_decoding(&encode(&map, MP).unwrap());
            map.pop();
            map[0].1 = s("last");
            assert_eq!(decoded, map, "{name}");
            assert!(
                comparisons <= N / 4 + 1,
                "{name}: {comparisons} comparisons"
            );
        }
    }

    #[test]
    fn nan_keys_are_never_repeats_and_signed_zeros_are() {
        let mut map: SessionMap = (0..40).map(|i| (Value::from(i), Value::Nil)).collect();
        map.push((Value::F64(f64::NAN), Value::from(1)));
        map.push((Value::F64(f64::NAN), Value::from(2)));
        map.push((Value::F64(0.0), Value::from(3)));
        map.push((Value::F64(-0.0), Value::from(4)));
        let decoded = decode(&encode(&map, MP).unwrap(), MP).unwrap();
        assert_eq!(decoded.len(), 43);
        assert!(matches!(decoded[40], (Value::F64(f), Value::Integer(_)) if f.is_nan()));
        assert!(matches!(decoded[41], (Value::F64(f), Value::Integer(_)) if f.is_nan()));
        assert_eq!(decoded[42], (Value::F64(0.0), Value::from(4)));
    }

    #[test]
    fn lengths_add_up_to_the_encoding() {
        let ts = timestamp_value(OffsetDateTime::UNIX_EPOCH);
        let entries: Vec<(Value, Value)> = vec![
            (s("a"), Value::from(1)),
            (s("quote\"\u{1}é"), s("x\ny")),
            (Value::from(-7), Value::F64(1e16)),
            (Value::F64(1.5), Value::Binary(vec![0, 255])),
            (ts.clone(), ts),
            (
                Value::Binary(vec![1; 40]),
                Value::Array(vec![Value::Nil; 20]),
            ),
        ];
        for format in [MP, JSON] {
            for n in [0, 1, 2, 6, 16, 17] {
                let map: SessionMap = entries.iter().cycle().take(n).cloned().collect();
                let bytes = encode(&map, format).unwrap();
                assert_eq!(
                    encoded_len(&map, format).unwrap(),
                    bytes.len(),
                    "{format} {n}"
                );
                let sum: usize = map
                    .iter()
                    .map(|(k, v)| entry_len(k, v, format).unwrap())
                    .sum();
                assert_eq!(frame_len(n, format) + sum, bytes.len(), "{format} {n}");
            }
            assert_eq!(
                str_key_len("quote\"\u{1}é", format),
                key_len(&s("quote\"\u{1}é"), format).unwrap()
            );
        }
    }
}

/// Byte-exact vectors: msgspec's own output and the recorded Flask-Session sessions.
#[cfg(test)]
mod flask_vectors;
/// Property tests of what reads untrusted input (the codec, the cookie reader, the signer).
#[cfg(test)]
mod properties;

/// The examples of this module's items, as unit tests (the items are crate-private).
#[cfg(test)]
mod doc_examples {
    #[test]
    fn max_depth_example() {
        use crate::SerializationFormat;
        use crate::Value;
        use crate::serialization::{MAX_DEPTH, check_encodable};

        let mut value = Value::Nil;
        for _ in 0..MAX_DEPTH {
            value = Value::Array(vec![value]);
        }
        assert!(check_encodable(&value, SerializationFormat::MsgPack).is_ok());
        let deeper = Value::Array(vec![value]);
        assert!(check_encodable(&deeper, SerializationFormat::MsgPack).is_err());
    }

    #[test]
    fn encoded_len_example() {
        use crate::serialization::{encode, encoded_len};
        use crate::{SerializationFormat, Value};

        let map = vec![(Value::from("n"), Value::from(1))];
        let bytes = encode(&map, SerializationFormat::Json).unwrap();
        assert_eq!(bytes, b"{\"n\":1}");
        assert_eq!(
            encoded_len(&map, SerializationFormat::Json).unwrap(),
            bytes.len()
        );
    }
}
