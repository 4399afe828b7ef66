//! Reference provider.
