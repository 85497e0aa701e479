//! The console's texts, as [`maud`] templates `console_page.rs` places: on a GHL contact's card
//! the SMS messages of its conversations (direction, text, status); on a CloudTalk contact's
//! card the texts CloudTalk sent to its numbers (with what CloudTalk answered) and received
//! from them; every text CloudTalk's API was asked to send, newest first; and two forms, "text
//! a contact from GHL" (`POST /sandbox/ghl/send-sms`) and "receive a text in CloudTalk"
//! (`POST /sandbox/cloudtalk/receive-sms`), which a card's button fills. The forms are outside
//! the live part, so what is typed survives its refreshes; [`SCRIPT`] posts them as JSON.

use maud::{html, Markup};

use super::sms::SentSms;
use super::state::{CtContact, GhlContact, Message, State};
use super::team::COMPANY_NUMBER;

/// The texts' styles.
pub(crate) const STYLE: &str = r#"
.texts li[data-status=failed], .texts li[data-sent=false] { color: #cf222e; }
button.fill { font-size: 11px; margin-top: 4px; padding: 1px 6px; border: 1px solid #ccd; background: #fafbff; border-radius: 4px; cursor: pointer; }
form.control { margin: 0 0 10px; }
form.control input { display: block; width: 100%; box-sizing: border-box; margin: 2px 0; font-size: 12px; }
"#;

/// Fills a form from a card's button, and posts the forms as JSON (empty fields left out).
pub(crate) const SCRIPT: &str = r#"
document.addEventListener('click', (event) => {
  const fill = event.target.closest('button.fill');
  if (!fill) return;
  const form = document.getElementById(fill.dataset.form);
  if (!form) return;
  form.elements[fill.dataset.field].value = fill.dataset.fill;
  form.querySelector('[data-focus]')?.focus();
});
document.addEventListener('submit', async (event) => {
  const form = event.target;
  if (!form.matches('form.control')) return;
  event.preventDefault();
  const body = {};
  for (const [name, value] of new FormData(form)) if (value.trim() !== '') body[name] = value.trim();
  status.textContent = form.dataset.what + '…';
  try {
    const r = await fetch(form.action, {method: 'POST', body: JSON.stringify(body),
      headers: {'content-type': 'application/json', accept: 'application/json'}});
    const a = await r.json();
    const bridge = a.bridge ? 'bridge ' + (a.bridge.status ?? a.bridge.error) : (a.message ?? 'no bridge configured');
    status.textContent = form.dataset.what + ' → ' + r.status + ' · ' + bridge;
  } catch (e) { status.textContent = form.dataset.what + ' failed: ' + e; }
  refresh();
});
"#;

fn digits(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// The two forms.
pub(crate) fn forms() -> Markup {
    html! {
        h2 { "Texts" }
        form.control #ghl-sms method="post" action="/sandbox/ghl/send-sms" data-what="text from GHL" {
            h3 { "text a contact from GHL" }
            input name="contactId" placeholder="GHL contact id (a card's button fills it)" required;
            input name="message" placeholder="message" data-focus required;
            input name="userId" placeholder="user id (optional)";
            button type="submit" { "send from GHL" }
        }
        form.control #ct-sms method="post" action="/sandbox/cloudtalk/receive-sms" data-what="text to CloudTalk" {
            h3 { "receive a text in CloudTalk" }
            input name="from" placeholder="from +39… (a card's button fills it)" required;
            input name="to" placeholder={ "to (else " (COMPANY_NUMBER) ")" };
            input name="text" placeholder="text" data-focus required;
            button type="submit" { "receive in CloudTalk" }
        }
    }
}

/// A button filling `field` of form `form` with `value`.
fn fill(form: &str, field: &str, value: &str, label: &str) -> Markup {
    html! {
        button.fill type="button" data-form=(form) data-field=(field) data-fill=(value) { (label) }
    }
}

/// `→ Hello · delivered`: a GHL text, its direction and status.
fn message_line(m: &Message) -> Markup {
    let arrow = if m.direction == "inbound" {
        "←"
    } else {
        "→"
    };
    let status = m.status.as_deref().unwrap_or(m.direction.as_str());
    let error = m.status_history.last().and_then(|c| c.error.as_ref());
    let error = error
        .and_then(|e| e.get("message"))
        .and_then(|e| e.as_str());
    html! {
        li data-status=(status) {
            (arrow) " " (m.body.as_deref().unwrap_or("(no text)"))
            @if !m.attachments.is_empty() {
                " (+" (m.attachments.len()) " attachment(s))"
            }
            " · " b { (status) }
            @if let Some(error) = error {
                " (" (error) ")"
            }
        }
    }
}

/// A GHL contact's texts, and the button to text it (when it has a phone).
pub(crate) fn ghl_texts(state: &State, c: &GhlContact) -> Markup {
    let texts: Vec<&Message> = state
        .messages
        .iter()
        .filter(|m| m.contact_id == c.id && m.kind == "SMS")
        .collect();
    html! {
        @if !texts.is_empty() {
            h3 { "texts" }
            ul.texts {
                @for m in &texts {
                    (message_line(m))
                }
            }
        }
        @if c.phone.is_some() {
            (fill("ghl-sms", "contactId", &c.id, "text from GHL"))
        }
    }
}

/// `→ Hello · sent`: a text CloudTalk's API was asked to send, and its answer.
fn sent_line(s: &SentSms) -> Markup {
    html! {
        li data-sent=(s.sent) title={ "from " (s.sender.as_deref().unwrap_or("?")) " · " (s.at) } {
            "→ " (s.message.as_deref().unwrap_or("(no text)"))
            @if !s.images.is_empty() {
                " (+" (s.images.len()) " image(s))"
            }
            " · " b { (s.result) }
            @if let Some(ms) = s.answered_late_ms {
                " (answered " (ms) " ms late)"
            }
        }
    }
}

/// A CloudTalk contact's texts (sent to and received from its numbers, oldest first), and the
/// button to receive one from it.
pub(crate) fn cloudtalk_texts(state: &State, c: &CtContact) -> Markup {
    let numbers: Vec<String> = c.numbers.iter().map(|n| digits(n)).collect();
    let ours = |n: &str| numbers.contains(&digits(n));
    let sms = &state.ct_sms;
    let mut lines: Vec<(&str, Markup)> = sms
        .sent
        .iter()
        .filter(|s| s.recipient.as_deref().is_some_and(ours))
        .map(|s| (s.at.as_str(), sent_line(s)))
        .collect();
    for r in sms.received.iter().filter(|r| ours(&r.from)) {
        lines.push((
            r.at.as_str(),
            html! { li { "← " (r.text) " · to " (r.to) } },
        ));
    }
    lines.sort_by(|a, b| a.0.get(..19).cmp(&b.0.get(..19)));
    html! {
        @if !lines.is_empty() {
            h3 { "texts" }
            ul.texts {
                @for (_, line) in lines {
                    (line)
                }
            }
        }
        @if let Some(number) = c.numbers.first() {
            (fill("ct-sms", "from", number, "receive a text from it"))
        }
    }
}

/// Texts the console lists, newest first.
const TEXTS_SHOWN: usize = 30;

/// Every text CloudTalk's API was asked to send, newest first: recipient, text, answer.
pub(crate) fn sent_texts(state: &State) -> Markup {
    let sent = &state.ct_sms.sent;
    html! {
        ul.texts {
            @for s in sent.iter().rev().take(TEXTS_SHOWN) {
                li data-sent=(s.sent) {
                    span.id { (s.at.get(11..19).unwrap_or(&s.at)) } " "
                    b { (s.recipient.as_deref().unwrap_or("(no number)")) } " "
                    (s.message.as_deref().unwrap_or("")) " · " (s.result) " "
                    span.id { (s.status) }
                }
            }
        }
        @if sent.len() > TEXTS_SHOWN {
            p.id { "… and " (sent.len() - TEXTS_SHOWN) " earlier" }
        }
        @if sent.is_empty() {
            p.empty { "no text sent yet" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::SandboxConfig;

    fn sent(recipient: &str, message: &str, result: &str) -> SentSms {
        SentSms {
            id: "1".into(),
            at: "2026-12-01T10:00:00.000Z".into(),
            sender: Some(COMPANY_NUMBER.into()),
            recipient: Some(recipient.into()),
            message: Some(message.into()),
            images: Vec::new(),
            status: 200,
            result: result.into(),
            sent: result == "sent",
            answered_late_ms: None,
        }
    }

    #[test]
    fn a_contacts_texts_are_shown_escaped_with_their_answers() {
        let mut state = State::new(&SandboxConfig::default());
        state
            .ct_sms
            .sent
            .push(sent("+39 350 1234567", "<b>Hi</b>", "sent"));
        state
            .ct_sms
            .sent
            .push(sent("+393501234567", "again", "SMS send failed"));
        state
            .ct_sms
            .sent
            .push(sent("+14155552671", "someone else", "sent"));
        let contact = CtContact {
            id: "1000001".into(),
            numbers: vec!["+393501234567".into()],
            ..CtContact::default()
        };
        let card = cloudtalk_texts(&state, &contact).into_string();
        assert!(
            card.contains("→ &lt;b&gt;Hi&lt;/b&gt; · <b>sent</b>"),
            "{card}"
        );
        assert!(card.contains("again · <b>SMS send failed</b>"), "{card}");
        assert!(!card.contains("someone else"), "{card}");
        assert!(card.contains(r#"data-fill="+393501234567""#), "{card}");
        let all = sent_texts(&state).into_string();
        assert!(
            all.find("someone else") < all.find("again"),
            "newest first: {all}"
        );
    }
}
