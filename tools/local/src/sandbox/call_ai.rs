//! A call's Conversation Intelligence content as a test sets it ([`CallAi`]: its
//! [`Sentiment`] and transcript, [`TranscriptSegment`] by [`Speaker`]); what it leaves out is
//! derived from the call (see `cloudtalk_ai.rs`).

use serde::{Deserialize, Serialize};

/// A call's overall sentiment: the spec's enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sentiment {
    #[serde(rename = "very negative")]
    VeryNegative,
    #[serde(rename = "negative")]
    Negative,
    #[serde(rename = "neutral")]
    Neutral,
    #[serde(rename = "positive")]
    Positive,
    #[serde(rename = "very positive")]
    VeryPositive,
}

/// Who speaks in a transcription segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Agent,
    Contact,
}

/// One segment of a transcription: seconds from the call's start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TranscriptSegment {
    pub speaker: Speaker,
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// Conversation Intelligence content for one call, set by a test: each part left `None` is
/// derived from the call, as for a call whose content was never set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallAi {
    pub summary: Option<String>,
    pub overall_sentiment: Option<Sentiment>,
    pub action_items: Option<Vec<String>>,
    pub decisions_made: Option<Vec<String>>,
    pub open_questions: Option<Vec<String>>,
    pub transcript: Option<Vec<TranscriptSegment>>,
    /// Topic names; each comes with an even weight and no spans.
    pub topics: Option<Vec<String>>,
    /// The transcription's language (`en` unless set).
    pub language: Option<String>,
    /// How many requests for this call (on any AI path) are answered `404` before the content
    /// is there: 2 gives "not ready, not ready, ready".
    pub ready_after_requests: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn sentiments_are_the_spec_words() {
        let words: Vec<Value> = [
            Sentiment::VeryNegative,
            Sentiment::Negative,
            Sentiment::Neutral,
            Sentiment::Positive,
            Sentiment::VeryPositive,
        ]
        .iter()
        .map(|s| json!(s))
        .collect();
        assert_eq!(
            words,
            [
                "very negative",
                "negative",
                "neutral",
                "positive",
                "very positive"
            ]
        );
    }
}
