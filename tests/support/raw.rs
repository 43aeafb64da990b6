//! Raw clients for looking at a backend's store directly, shared by its store, interop and
//! outage tests. Each is compiled only with its backend's feature.

/// memcached: the server address and a raw meta-protocol `mg`.
#[cfg(feature = "memcached")]
pub mod memcached {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;

    /// `MEMCACHED_URL` (default 127.0.0.1:11211) as `host:port`.
    pub fn server() -> String {
        let url = std::env::var("MEMCACHED_URL").unwrap_or_else(|_| "127.0.0.1:11211".to_owned());
        url.trim_start_matches("memcache://")
            .trim_end_matches('/')
            .to_owned()
    }

    /// A raw `mg <key> v f t` on a fresh connection: (value, client flags, remaining TTL).
    pub fn raw_get(key: &str) -> Option<(Vec<u8>, u32, i64)> {
        let stream = TcpStream::connect(server()).unwrap_or_else(|e| {
            panic!(
                "memcached is not reachable at {}: {e}; start the services with scripts/test.sh",
                server()
            )
        });
        let mut conn = BufReader::new(stream);
        write!(conn.get_mut(), "mg {key} v f t\r\n").expect("write");
        let mut line = String::new();
        conn.read_line(&mut line).expect("read");
        if line == "EN\r\n" {
            return None;
        }
        let mut parts = line.trim_end().split(' ');
        assert_eq!(parts.next(), Some("VA"), "unexpected reply {line:?}");
        let len: usize = parts.next().and_then(|n| n.parse().ok()).expect("length");
        let (mut flags, mut ttl) = (None, None);
        for p in parts {
            match p.split_at(1) {
                ("f", v) => flags = Some(v.parse().expect("flags")),
                ("t", v) => ttl = Some(v.parse().expect("ttl")),
                _ => {}
            }
        }
        let mut data = vec![0; len + 2];
        conn.read_exact(&mut data).expect("value");
        data.truncate(len);
        Some((data, flags.expect("f flag"), ttl.expect("t flag")))
    }

    /// How far above the lifetime memcached may report the TTL of an entry sent with an
    /// absolute expiry. memcached turns a Unix time into its own clock with the wall clock
    /// read at start-up, but counts its clock from a monotonic clock read at another
    /// moment, each to the whole second (up to 1 s of error), and advances its clock only
    /// on a once-a-second tick (1 s more, 2 s if the tick runs late on a loaded machine).
    pub const ABSOLUTE_TTL_SLACK: i64 = 3;

    /// Asserts that `ttl`, as `raw_get` read it, is what an absolute expiry `lifetime`
    /// seconds ahead reads as: within a minute below (time spent getting here) and at most
    /// [`ABSOLUTE_TTL_SLACK`] above. A lifetime over 30 days sent as a relative TTL would
    /// instead have expired the entry at once.
    pub fn assert_absolute_ttl(ttl: i64, lifetime: i64) {
        assert!(
            (lifetime - 60..=lifetime + ABSOLUTE_TTL_SLACK).contains(&ttl),
            "an absolute expiry {lifetime} s ahead reads as TTL {ttl}"
        );
    }
}

/// DynamoDB (moto): the endpoint and an SDK client with moto's static credentials.
#[cfg(feature = "dynamodb")]
pub mod dynamodb {
    use aws_sdk_dynamodb::Client;
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};

    /// `DYNAMODB_ENDPOINT` (default http://127.0.0.1:8000).
    pub fn endpoint() -> String {
        std::env::var("DYNAMODB_ENDPOINT").unwrap_or_else(|_| "http://127.0.0.1:8000".to_owned())
    }

    /// A client of `endpoint` (region us-east-1, credentials test/test).
    pub fn client(endpoint: &str) -> Client {
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "static"))
            .endpoint_url(endpoint)
            .build();
        Client::from_conf(conf)
    }

    /// A client of [`endpoint`].
    pub fn raw() -> Client {
        client(&endpoint())
    }
}
