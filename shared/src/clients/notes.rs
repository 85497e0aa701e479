//! The one bound on every GHL note the bridge writes: at most [`MAX_NOTE_CHARS`] characters,
//! headers and the trailing `[ref …]` marker included. Long content is split by its writer
//! (a transcript into numbered parts, see
//! [`crate::handlers::cloudtalk::insights::transcript_notes`]); [`fit`] is the last guard, in
//! the GHL client, for anything else (an agent's note, a summary): it shortens the text and
//! keeps the marker, so a retry still finds the note.

/// The longest GHL note the bridge writes, in characters.
pub const MAX_NOTE_CHARS: usize = 8_000;

/// The marker's shape: `\n[ref ` and ten hex digits and `]` (see `Steps::marked`).
pub const MARKER_CHARS: usize = "\n[ref 0123456789]".len();

/// Where the text's trailing `[ref …]` line starts, if it has one.
fn marker_start(text: &str) -> Option<usize> {
    let start = text.rfind("\n[ref ")?;
    let tail = &text[start + 1..];
    (tail.ends_with(']') && !tail.contains('\n')).then_some(start)
}

/// `text` within [`MAX_NOTE_CHARS`]: unchanged when it fits; else shortened, ending with `…`,
/// before its trailing marker (kept whole).
pub fn fit(text: &str) -> String {
    if text.chars().count() <= MAX_NOTE_CHARS {
        return text.to_string();
    }
    let (body, marker) = match marker_start(text) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let room = MAX_NOTE_CHARS.saturating_sub(marker.chars().count() + 1);
    let kept: String = body.chars().take(room).collect();
    format!("{kept}…{marker}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_long_note_is_shortened_and_keeps_its_marker() {
        let text = format!("{}\n[ref 0a1b2c3d4e]", "x".repeat(9_000));
        let fitted = fit(&text);
        assert_eq!(fitted.chars().count(), MAX_NOTE_CHARS);
        assert!(
            fitted.ends_with("…\n[ref 0a1b2c3d4e]"),
            "{}",
            &fitted[7_900..]
        );
        assert_eq!(fit("short\n[ref 0a1b2c3d4e]"), "short\n[ref 0a1b2c3d4e]");
        assert_eq!(MARKER_CHARS, 17);
    }

    proptest! {
        #[test]
        fn no_note_is_ever_longer_than_the_limit(
            body in "(?s).{0,9000}",
            marked in any::<bool>(),
        ) {
            let text = match marked {
                true => format!("{body}\n[ref 0a1b2c3d4e]"),
                false => body.clone(),
            };
            let fitted = fit(&text);
            prop_assert!(fitted.chars().count() <= MAX_NOTE_CHARS);
            if marked {
                prop_assert!(fitted.ends_with("\n[ref 0a1b2c3d4e]"));
            }
            if text.chars().count() <= MAX_NOTE_CHARS {
                prop_assert_eq!(fitted, text);
            }
        }
    }
}
