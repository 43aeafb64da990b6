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
    // One collection per run (cases are told apart by their random key prefixes).
    static COLLECTION: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let collection = COLLECTION.get_or_init(|| format!("sessions_{:08x}", rand::random::<u32>()));
    match MongoDBSessionInterface::new(client, "afs_acceptance", collection).await {
        Ok(store) => store,
        Err(e) => panic!(
            "MongoDB is not reachable at {url}: {e}; start the services with scripts/test.sh"
        ),
    }
});
