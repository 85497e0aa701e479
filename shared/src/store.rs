//! The one error type of the bridge's storage: the contact map, the state table, idempotency
//! records, the local store file and the queues.

/// A storage operation that did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store could not be reached or refused the operation.
    #[error("{0}")]
    Unavailable(String),
    /// Another writer holds what this operation needed (a lock that did not come in time, a
    /// contended conditional write); trying again later can succeed.
    #[error("{0}")]
    Contended(String),
}

impl StoreError {
    pub fn new(message: impl Into<String>) -> Self {
        StoreError::Unavailable(message.into())
    }

    pub fn contended(message: impl Into<String>) -> Self {
        StoreError::Contended(message.into())
    }

    pub fn message(&self) -> &str {
        match self {
            StoreError::Unavailable(m) | StoreError::Contended(m) => m,
        }
    }
}
