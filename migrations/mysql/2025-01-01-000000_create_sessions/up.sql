-- Flask-Session's SQLAlchemy table (interchangeable with the one it creates; data is
-- LONGBLOB instead of BLOB so sessions over 64 KiB fit), plus an index on expiry for the
-- cleanup. Same DDL as actix_flask_session::backends::sql::migrate, which also adds the
-- index to a table Flask-Session created first.
CREATE TABLE IF NOT EXISTS `sessions` (
    id INTEGER NOT NULL AUTO_INCREMENT,
    session_id VARCHAR(255),
    data LONGBLOB,
    expiry DATETIME,
    PRIMARY KEY (id),
    UNIQUE (session_id),
    INDEX `sessions_expiry_idx` (expiry)
);
