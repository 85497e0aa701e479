//! The retry and dead-letter queues on Amazon SQS (`RETRY_QUEUE_URL`, `DEAD_LETTER_QUEUE_URL`).
//! A parked message carries its reason in the body and in the `reason` message attribute.

use async_trait::async_trait;
use aws_sdk_sqs::error::DisplayErrorContext;
use aws_sdk_sqs::types::MessageAttributeValue;
use aws_sdk_sqs::Client;

use super::{QueuedEvent, RetryQueue};
use crate::store::StoreError;

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

    fn kind(&self) -> &'static str {
        "sqs"
    }
}
