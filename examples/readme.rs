//! The README's "Five minutes" `main`, character for character (`tests/tools/readme.rs` checks
//! that the two agree, and runs this program against bad configurations).
//!
//! ```text
//! cargo run --example readme      # reads Session.toml in the current directory
//! ```

use actix_flask_session::{ServerSideSession, Session};
use actix_web::{App, HttpServer, get};

#[get("/")]
async fn index(session: ServerSideSession) -> actix_web::Result<String> {
    let visits: u64 = session.get("visits")?.unwrap_or(0);
    session.insert("visits", visits + 1)?;
    Ok(format!("visit {}", visits + 1))
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let session = Session::from_config().await?;
    HttpServer::new(move || session.init_app(App::new().service(index)))
        .bind(("127.0.0.1", 8080))?
        .run()
        .await?;
    Ok(())
}
