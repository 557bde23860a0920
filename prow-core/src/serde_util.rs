//! Helpers that give serde Go's `omitempty` behaviour.

/// `skip_serializing_if` for Go's `omitempty` on booleans.
pub(crate) fn is_false(value: &bool) -> bool {
    !*value
}

/// `skip_serializing_if` for Go's `omitempty` on integers.
pub(crate) fn is_zero(value: &i64) -> bool {
    *value == 0
}
