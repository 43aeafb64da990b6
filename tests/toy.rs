//! Scratch: the toy backend of CONTRIBUTING.md works end to end.
use actix_flask_session::Session;
use figment::Figment;
use figment::providers::{Format, Toml};

#[actix_rt::test]
async fn toy_backend_is_selected_and_reads_its_key() {
    let ok = Figment::from(Toml::string("SESSION_TYPE = \"Toy\"\nSESSION_TOY_THRESHOLD = 3"));
    assert!(Session::from_figment(&ok).await.is_ok());
    let bad = Figment::from(Toml::string("SESSION_TYPE = \"toy\"\nSESSION_TOY_THRESHOLD = \"x\""));
    let err = Session::from_figment(&bad).await.unwrap_err().to_string();
    assert!(err.contains("SESSION_TOY_THRESHOLD"), "{err}");
    let typo = Figment::from(Toml::string("SESSION_TYPE = \"toy\"\nSESSION_TOY_TRESHOLD = 3"));
    let err = Session::from_figment(&typo).await.unwrap_err().to_string();
    assert!(err.contains("did you mean SESSION_TOY_THRESHOLD"), "{err}");
    let none = Figment::from(Toml::string("SESSION_TYPE = \"nope\""));
    let err = Session::from_figment(&none).await.unwrap_err().to_string();
    assert!(err.contains("dynamodb, toy (any case)"), "{err}");
}
