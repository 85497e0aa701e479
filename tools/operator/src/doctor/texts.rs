//! The `texts` line: CloudTalk's numbers as GHL's SMS provider, set up where the APIs can tell.
//!
//! Texts are set up when the subject names a sender number or the app's SMS provider
//! (`SMS_SENDER_NUMBER`, `GHL_SMS_PROVIDER_ID`, or a tenant's options of the same names). Then:
//! the settings parse (else a `fail`: texts run on their defaults); the provider's id is set
//! (GHL adds received texts to a conversation under it: a `warn` without); the sender is one of
//! the CloudTalk account's numbers (`GET /numbers/index.json`; a `fail` when it is not, as
//! CloudTalk would refuse every text with "Unknown number"). Whether the provider is the
//! location's default cannot be read through GHL's API; the fix says where to look.

use bridge::sms::SmsOptions;

use super::check::{id, Check};
use super::deployment::{Context, Subject, Whose};

/// The most pages of numbers read (1000 a page).
const MAX_NUMBER_PAGES: u32 = 5;

fn options(subject: &Subject, cx: &Context) -> Result<SmsOptions, String> {
    match &subject.whose {
        Whose::Own => SmsOptions::parse(|n| (cx.lookup)(n)),
        Whose::Tenant(t) => SmsOptions::from_settings(&t.record.options.sms),
    }
}

/// How to change one of the subject's text settings.
fn set(subject: &Subject, cx: &Context, variable: &str, flag: &str, value: &str) -> String {
    subject.set_setting(&cx.place, variable, flag, value)
}

/// The CloudTalk account's numbers, in E.164.
async fn account_numbers(subject: &Subject) -> Result<Vec<String>, String> {
    let mut numbers = Vec::new();
    for page in 1..=MAX_NUMBER_PAGES {
        let listed = subject
            .deps
            .cloudtalk
            .list_numbers(page)
            .await
            .map_err(|e| e.to_string())?;
        let more = listed.has_more();
        numbers.extend(listed.items);
        if !more {
            break;
        }
    }
    Ok(numbers)
}

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// The `texts` line of one location.
pub async fn check(subject: &Subject, cx: &Context) -> Check {
    let tenant = subject.tenant();
    let options = match options(subject, cx) {
        Ok(options) => options,
        Err(e) => {
            return Check::fail(
                id::TEXTS,
                tenant,
                format!("the texts' settings are invalid: {e}"),
            )
            .fix("correct the setting the message names")
        }
    };
    if options.sender.is_none() && options.provider_id.is_none() {
        return Check::ok(id::TEXTS, tenant, "texts are not set up");
    }
    let Some(provider) = options.provider_id.as_deref() else {
        return Check::warn(
            id::TEXTS,
            tenant,
            "texts are set up without the SMS provider's id: received texts are not added to GHL",
        )
        .fix(set(
            subject,
            cx,
            "GHL_SMS_PROVIDER_ID",
            "--sms-provider",
            "<provider id>",
        ));
    };
    let Some(sender) = options.sender.as_deref() else {
        return Check::warn(
            id::TEXTS,
            tenant,
            format!("SMS provider {provider}; no sender number: only GHL users whose CloudTalk agent has a default number can text"),
        )
        .fix(set(subject, cx, "SMS_SENDER_NUMBER", "--sms-sender", "+<E.164>"));
    };
    if !subject.deps.cloudtalk_configured() {
        return Check::warn(
            id::TEXTS,
            tenant,
            "the sender number is not checked: no CloudTalk key (see secrets)",
        );
    }
    let masked = bridge::telemetry::mask_phone(sender);
    match account_numbers(subject).await {
        Ok(numbers) if numbers.iter().any(|n| digits(n) == digits(sender)) => Check::ok(
            id::TEXTS,
            tenant,
            format!("SMS provider {provider}; texts from {masked}, one of the CloudTalk account's {} number(s)", numbers.len()),
        )
,
        Ok(numbers) => Check::fail(
            id::TEXTS,
            tenant,
            format!("the sender number {masked} is none of the CloudTalk account's {} number(s): CloudTalk refuses its texts", numbers.len()),
        )
        .fix(set(subject, cx, "SMS_SENDER_NUMBER", "--sms-sender", "<a number of CloudTalk's Numbers page>")),
        Err(e) => Check::warn(
            id::TEXTS,
            tenant,
            format!("the CloudTalk account's numbers could not be read: {e}"),
        )
        .fix("run `bridge doctor` again later"),
    }
}
