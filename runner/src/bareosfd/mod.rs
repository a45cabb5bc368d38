//! Placeholder: the `bareosfd` Python module.
