//! The console's cue cards: the card each call got, newest first (time, call, title and
//! subtitle, CloudTalk's answer), its HTML shown as the agent would see it inside a sandboxed
//! frame (no script runs, nothing it links is followed in the page).

use maud::{html, Markup};

use super::state::CueCard;

/// Cards the console lists.
const SHOWN: usize = 10;

pub(crate) const STYLE: &str = r#"
.cue { border-left: 4px solid #3b7ddd; padding: 4px 8px; margin-bottom: 6px; background: #f3f8ff; font-size: 13px; }
.cue.over { border-color: #d4a72c; background: #fffbea; }
.cue iframe { width: 100%; height: 150px; border: 1px solid #dde; background: #fff; margin-top: 4px; }
"#;

/// The cards, newest first.
pub(crate) fn cue_cards_html(cards: &[CueCard]) -> Markup {
    html! {
        @for card in cards.iter().rev().take(SHOWN) {
            (card_html(card))
        }
        @if cards.len() > SHOWN {
            p.id { "… and " (cards.len() - SHOWN) " earlier" }
        }
        @if cards.is_empty() {
            p.empty { "no cue card yet" }
        }
    }
}

fn card_html(card: &CueCard) -> Markup {
    let (class, answer) = match card.status {
        200 => ("cue", "shown".to_string()),
        424 => ("cue over", "call over (424)".to_string()),
        s => ("cue over", format!("refused ({s})")),
    };
    html! {
        div class=(class) data-call-uuid=(card.call_uuid) data-status=(card.status) {
            span.id { (card.at.get(11..19).unwrap_or(&card.at)) " call " (card.call_uuid) }
            br;
            b { (card.title) }
            @if let Some(subtitle) = &card.subtitle {
                " · " (subtitle)
            }
            " · " span.outcome { (answer) }
            @if card.kind == "html" {
                iframe sandbox="" referrerpolicy="no-referrer" title="cue card" srcdoc=(card.content) {}
            } @else {
                pre.id { (card.content) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_is_shown_in_a_sandboxed_frame_and_escaped() {
        let card = CueCard {
            at: "2026-12-07T10:00:01.000Z".into(),
            call_uuid: "u-1".into(),
            kind: "html".into(),
            title: "<b>Mario</b>".into(),
            subtitle: Some("GoHighLevel contact".into()),
            content: r#"<p>x</p><script>alert("1")</script>"#.into(),
            status: 200,
        };
        let shown = cue_cards_html(std::slice::from_ref(&card)).into_string();
        assert!(shown.contains("<b>&lt;b&gt;Mario&lt;/b&gt;</b>"), "{shown}");
        assert!(shown.contains(r#"sandbox="""#), "{shown}");
        assert!(
            shown.contains("srcdoc=\"&lt;p&gt;x&lt;/p&gt;&lt;script&gt;alert(&quot;1&quot;)"),
            "{shown}"
        );
        assert!(!shown.contains("<script>"), "{shown}");
        assert!(cue_cards_html(&[])
            .into_string()
            .contains("no cue card yet"));
    }
}
