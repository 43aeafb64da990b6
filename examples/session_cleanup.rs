//! Deletes expired sessions once and exits: Flask-Session's `flask session_cleanup`, for a
//! cron job when `SESSION_CLEANUP_N_REQUESTS` is not set. Reads the same configuration
//! as the application (`Session.toml` or `ACTIX_FLASK_SESSION_CONFIG`, plus environment
//! variables); runs `DELETE FROM <table> WHERE expiry <= now OR expiry IS NULL` on the
//! SQL store (stores with native expiry have nothing to do).
//!
//! ```text
//! # crontab: every 10 minutes
//! */10 * * * *  cd /srv/app && ./session_cleanup
//! cargo run --example session_cleanup --features postgres
//! ```

use actix_flask_session::{Session, SessionConfig};

#[actix_rt::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = Session::from_figment(&SessionConfig::figment()).await?;
    let deleted = session.interface().cleanup().await?;
    println!("{deleted} expired sessions deleted");
    Ok(())
}
