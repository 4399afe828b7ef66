//! OpenAPI engine.
