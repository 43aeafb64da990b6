//! The store-agnostic acceptance suite on the MongoDB store (SecantusDB from
//! `scripts/services.sh`; `MONGODB_URL` overrides mongodb://127.0.0.1:27017).
#![cfg(all(feature = "mongodb", feature = "testing"))]

use actix_flask_session::backends::mongodb::MongoDBSessionInterface;

actix_flask_session::acceptance_suite!(|| async {
    let url =
        std::env::var("MONGODB_URL").unwrap_or_else(|_| "mongodb://127.0.0.1:27017".to_owned());
    let client = MongoDBSessionInterface::connect(&url)
        .await
        .expect("client");
    match MongoDBSessionInterface::new(client, "afs_acceptance", "sessions").await {
        Ok(store) => store,
        Err(e) => panic!(
            "MongoDB is not reachable at {url}: {e}; start the services with scripts/test.sh"
        ),
    }
});
