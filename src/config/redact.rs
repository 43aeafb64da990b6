//! The one policy for secrets in URLs shown in errors and logs: the scheme, user, hosts,
//! port and path stay (they say which server was meant); the password and the query string
//! (which may carry tokens or passwords) become `***`. Values of keys named `*SECRET*` are
//! never shown at all (see the extraction helpers).

/// `url` as errors and logs show it: `redis://user:***@host:6379/0`,
/// `mongodb://db:27017/x?***`. A string that is not a URL is shown as given. Stores use it
/// for every URL they put in an error or a log line.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, _)) => (rest, "?***"),
        None => (rest, ""),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{hosts}"),
            None => format!("{userinfo}@{hosts}"),
        },
        None => authority.to_owned(),
    };
    format!("{scheme}://{authority}{path}{query}")
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_and_queries_are_hidden_hosts_are_not() {
        for (given, shown) in [
            ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
            ("redis://:secret@host:6379/1", "redis://:***@host:6379/1"),
            ("rediss://user:pw@host", "rediss://user:***@host"),
            ("redis://p@ss:w@rd@host/0", "redis://p@ss:***@host/0"),
            (
                "mongodb://user:secret@a:27017,b:27017/x?authSource=admin",
                "mongodb://user:***@a:27017,b:27017/x?***",
            ),
            ("mongodb://db:27017", "mongodb://db:27017"),
            (
                "postgresql://app:tiger@db/app",
                "postgresql://app:***@db/app",
            ),
            ("not a url", "not a url"),
        ] {
            assert_eq!(redact_url(given), shown, "{given}");
        }
    }
}

/// The examples of this module's items, as unit tests (the items are crate-private).
#[cfg(test)]
mod doc_examples {
    #[test]
    fn redact_url_example() {
        use crate::config::redact_url;

        assert_eq!(
            redact_url("redis://app:s3cret@cache:6379/0"),
            "redis://app:***@cache:6379/0"
        );
    }
}
