//! The retry and dead-letter queues on Amazon SQS (`RETRY_QUEUE_URL`, `DEAD_LETTER_QUEUE_URL`).
//! A parked message carries its reason in the body and in the `reason` message attribute.

use async_trait::async_trait;
use aws_sdk_sqs::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_sqs::types::{ChangeMessageVisibilityBatchRequestEntry, MessageAttributeValue};
use aws_sdk_sqs::Client;

use super::{QueuedEvent, RetryQueue};
use crate::store::StoreError;

/// Receipt handles in one `ChangeMessageVisibilityBatch` (SQS's most).
const LEASE_BATCH: usize = 10;
/// SQS's longest visibility timeout (12 hours).
const MAX_VISIBILITY_SECS: u32 = 43_200;

#[derive(Debug, Clone)]
pub struct SqsRetryQueue {
    client: crate::aws::Lazy<Client>,
    retry_url: String,
    dead_letter_url: Option<String>,
}

impl SqsRetryQueue {
    pub fn new(
        client: impl Into<crate::aws::Lazy<Client>>,
        retry_url: impl Into<String>,
        dead_letter_url: Option<String>,
    ) -> Self {
        Self {
            client: client.into(),
            retry_url: retry_url.into(),
            dead_letter_url,
        }
    }
}

fn attribute(value: &str) -> Result<MessageAttributeValue, StoreError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value.chars().take(256).collect::<String>())
        .build()
        .map_err(|e| StoreError::new(format!("message attribute: {e}")))
}

#[async_trait]
impl RetryQueue for SqsRetryQueue {
    async fn enqueue(&self, event: &QueuedEvent, delay_secs: u32) -> Result<(), StoreError> {
        let body = serde_json::to_string(event).map_err(|e| StoreError::new(e.to_string()))?;
        self.client
            .get()
            .send_message()
            .queue_url(&self.retry_url)
            .message_body(body)
            .delay_seconds(delay_secs.min(900) as i32)
            .message_attributes("function", attribute(event.endpoint.name())?)
            .send()
            .await
            .map_err(|e| StoreError::new(format!("SendMessage: {}", DisplayErrorContext(&e))))?;
        Ok(())
    }

    async fn park(&self, event: &QueuedEvent, reason: &str) -> Result<(), StoreError> {
        let Some(url) = &self.dead_letter_url else {
            return Err(StoreError::new("DEAD_LETTER_QUEUE_URL is not configured"));
        };
        let mut parked = event.clone();
        parked.last_error = Some(reason.to_string());
        parked.parked_at =
            Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let body = serde_json::to_string(&parked).map_err(|e| StoreError::new(e.to_string()))?;
        self.client
            .get()
            .send_message()
            .queue_url(url)
            .message_body(body)
            .message_attributes("function", attribute(event.endpoint.name())?)
            .message_attributes("reason", attribute(reason)?)
            .send()
            .await
            .map_err(|e| StoreError::new(format!("SendMessage: {}", DisplayErrorContext(&e))))?;
        Ok(())
    }

    async fn park_raw(&self, body: &str, reason: &str) -> Result<(), StoreError> {
        let Some(url) = &self.dead_letter_url else {
            return Err(StoreError::new("DEAD_LETTER_QUEUE_URL is not configured"));
        };
        self.client
            .get()
            .send_message()
            .queue_url(url)
            .message_body(body)
            .message_attributes("reason", attribute(reason)?)
            .send()
            .await
            .map_err(|e| StoreError::new(format!("SendMessage: {}", DisplayErrorContext(&e))))?;
        Ok(())
    }

    /// `ChangeMessageVisibilityBatch`, ten handles a request. An error names how many handles
    /// were not leased and the first error's code only: SQS's messages repeat the handle.
    async fn lease(&self, receipt_handles: &[String], secs: u32) -> Result<(), StoreError> {
        let secs = i32::try_from(secs.min(MAX_VISIBILITY_SECS)).unwrap_or(0);
        let mut failed = 0;
        let mut first_error: Option<String> = None;
        for chunk in receipt_handles.chunks(LEASE_BATCH) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, handle)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(handle)
                        .visibility_timeout(secs)
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StoreError::new(format!("ChangeMessageVisibilityBatch: {e}")))?;
            let sent = self
                .client
                .get()
                .change_message_visibility_batch()
                .queue_url(&self.retry_url)
                .set_entries(Some(entries))
                .send()
                .await;
            match sent {
                Ok(answer) => {
                    for entry in answer.failed() {
                        failed += 1;
                        first_error.get_or_insert_with(|| entry.code().to_string());
                    }
                }
                Err(e) => {
                    failed += chunk.len();
                    first_error.get_or_insert_with(|| match e.code() {
                        Some(code) => code.to_string(),
                        None => DisplayErrorContext(&e).to_string(),
                    });
                }
            }
        }
        match first_error {
            None => Ok(()),
            Some(error) => Err(StoreError::new(format!(
                "ChangeMessageVisibilityBatch: {failed} of {} not leased ({error})",
                receipt_handles.len()
            ))),
        }
    }

    fn kind(&self) -> &'static str {
        "sqs"
    }
}
