//! `cleanup`: Flask-Session's `flask session_cleanup`.

use actix_flask_session::Session;
use figment::Figment;

use crate::BoxError;

/// Builds the store as the application does and deletes its expired entries, or says
/// that the store expires them itself.
pub async fn run(figment: &Figment) -> Result<(), BoxError> {
    // One statement: one SQL connection, and no pool thread still connecting when the
    // process exits.
    let figment = figment.clone().merge(("SESSION_SQLALCHEMY_POOL_SIZE", 1));
    let session = Session::from_figment(&figment).await?;
    let store = session.interface().store();
    if store.has_native_ttl() {
        println!(
            "nothing to clean up: the {} store expires sessions itself",
            store.name()
        );
        return Ok(());
    }
    let deleted = session.interface().cleanup().await?;
    println!(
        "{deleted} expired session{} deleted from the {} store",
        if deleted == 1 { "" } else { "s" },
        store.name()
    );
    Ok(())
}
