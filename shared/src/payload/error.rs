//! Why an inbound body cannot be read as an event. Parsing knows nothing of HTTP; the pipeline
//! maps these to 400, 413 and 422 answers ([`crate::error::BridgeError`]).

/// A body that is not an event the bridge can apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not a JSON object at all (empty, not UTF-8, malformed), or a field far out of bounds.
    #[error("{0}")]
    Malformed(String),
    #[error("request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// None of the fields that carry something the event needs is present.
    #[error("{message}")]
    Missing {
        message: String,
        missing: Vec<String>,
    },
    /// A field is present but unusable (a tag too long, a phone number that cannot be parsed).
    #[error("{0}")]
    Invalid(String),
}

impl PayloadError {
    /// Names the fields that would have carried `what`.
    pub fn missing_fields(what: &str, fields: &[&str]) -> Self {
        PayloadError::Missing {
            message: format!(
                "{what}: none of these fields is present: {}",
                fields.join(", ")
            ),
            missing: fields.iter().map(|f| f.to_string()).collect(),
        }
    }
}
