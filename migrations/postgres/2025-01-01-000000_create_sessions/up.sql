-- Flask-Session's SQLAlchemy table (interchangeable with the one it creates), plus an
-- index on expiry for the cleanup. Same DDL as actix_flask_session::backends::sql::migrate.
CREATE TABLE IF NOT EXISTS "sessions" (
    id SERIAL NOT NULL,
    session_id VARCHAR(255),
    data BYTEA,
    expiry TIMESTAMP WITHOUT TIME ZONE,
    PRIMARY KEY (id),
    UNIQUE (session_id)
);
CREATE INDEX IF NOT EXISTS "sessions_expiry_idx" ON "sessions" (expiry);
