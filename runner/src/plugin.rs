//! Placeholder: python3-fd semantics (definition parsing, loading, dispatch).
