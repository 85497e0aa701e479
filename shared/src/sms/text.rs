//! What a text may be: its length in SMS segments, the parts a long text is split into, the
//! pictures it may carry, and the opt-out and opt-in words of a reply.
//!
//! CloudTalk documents no length limit for `POST /sms/send.json`; carriers join up to about ten
//! segments into one message. So a text of at most [`MAX_SEGMENTS`] segments goes as one
//! request; a longer one is split at word boundaries into at most [`MAX_PARTS`] texts, each of at
//! most [`MAX_SEGMENTS`] segments; longer than that is refused with the reason. A segment is 153
//! characters of GSM-7 (an extension character such as `€` counts two) or 67 of UCS-2 when any
//! character is outside GSM-7 (a message of one segment: 160 or 70).

/// The most segments one text may take.
pub const MAX_SEGMENTS: usize = 10;
/// The most texts one message is split into.
pub const MAX_PARTS: usize = 3;
/// The most pictures a text carries (`images_by_url`: "can contain up to 5 urls").
pub const MAX_IMAGES: usize = 5;

const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM_EXTENSION: &str = "^{}\\[~]|€\u{c}";

/// How a text is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

/// The text's encoding and its length in that encoding's units.
fn measure(text: &str) -> (Encoding, usize) {
    let mut units = 0;
    for c in text.chars() {
        if GSM_BASIC.contains(c) {
            units += 1;
        } else if GSM_EXTENSION.contains(c) {
            units += 2;
        } else {
            // UTF-16 code units: a character outside the BMP (an emoji) takes two.
            return (Encoding::Ucs2, text.chars().map(char::len_utf16).sum());
        }
    }
    (Encoding::Gsm7, units)
}

/// The segments a text takes (one for an empty text).
pub fn segments(text: &str) -> usize {
    let (encoding, units) = measure(text);
    let (single, multi) = match encoding {
        Encoding::Gsm7 => (160, 153),
        Encoding::Ucs2 => (70, 67),
    };
    match units {
        u if u <= single => 1,
        u => u.div_ceil(multi),
    }
}

/// The texts a message is sent as: itself when it fits, else parts split at spaces (or inside
/// a word longer than a part); `Err` with the reason when it needs more than [`MAX_PARTS`].
pub fn parts(message: &str) -> Result<Vec<String>, String> {
    if segments(message) <= MAX_SEGMENTS {
        return Ok(vec![message.to_string()]);
    }
    let mut parts = Vec::new();
    let mut current = String::new();
    for word in message.split_inclusive(char::is_whitespace) {
        let joined = format!("{current}{word}");
        if segments(&joined) <= MAX_SEGMENTS {
            current = joined;
            continue;
        }
        if !current.is_empty() {
            parts.push(std::mem::take(&mut current));
        }
        for c in word.chars() {
            current.push(c);
            if segments(&current) > MAX_SEGMENTS {
                current.pop();
                parts.push(std::mem::take(&mut current));
                current.push(c);
            }
        }
    }
    if !current.trim().is_empty() {
        parts.push(current);
    }
    let parts: Vec<String> = parts.into_iter().map(|p| p.trim().to_string()).collect();
    match parts.len() {
        n if n <= MAX_PARTS => Ok(parts),
        _ => Err(format!(
            "the text takes {} SMS segments: at most {} texts of {MAX_SEGMENTS} segments are sent",
            segments(message),
            MAX_PARTS
        )),
    }
}

/// The pictures of a text, as CloudTalk takes them (`images_by_url`): https URLs, at most
/// [`MAX_IMAGES`]; `Err` with the reason otherwise.
pub fn images(attachments: &[String]) -> Result<Vec<String>, String> {
    if attachments.len() > MAX_IMAGES {
        return Err(format!(
            "{} attachments: CloudTalk sends at most {MAX_IMAGES} pictures with a text",
            attachments.len()
        ));
    }
    match attachments
        .iter()
        .find(|a| !a.trim().starts_with("https://"))
    {
        Some(_) => Err("an attachment is not an https URL CloudTalk can download".to_string()),
        None => Ok(attachments.iter().map(|a| a.trim().to_string()).collect()),
    }
}

/// What a received text asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// Stop texting me.
    Stop,
    /// Texts are welcome again.
    Start,
}

/// The keyword a received text is, if it is one: the whole text, one word (case and
/// punctuation aside), in `stop` or `start`.
pub fn keyword(text: &str, stop: &[String], start: &[String]) -> Option<Keyword> {
    let word: String = text
        .trim()
        .trim_matches(|c: char| c.is_ascii_punctuation())
        .to_uppercase();
    if word.is_empty() || word.contains(char::is_whitespace) {
        return None;
    }
    if stop.contains(&word) {
        Some(Keyword::Stop)
    } else if start.contains(&word) {
        Some(Keyword::Start)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_follow_gsm_and_ucs2() {
        assert_eq!(segments(""), 1);
        assert_eq!(segments(&"a".repeat(160)), 1);
        assert_eq!(segments(&"a".repeat(161)), 2);
        assert_eq!(segments(&"a".repeat(306)), 2);
        assert_eq!(
            segments(&"€".repeat(80)),
            1,
            "an extension character counts two"
        );
        assert_eq!(segments(&"€".repeat(81)), 2);
        assert_eq!(segments(&"ж".repeat(70)), 1);
        assert_eq!(segments(&"ж".repeat(71)), 2);
        assert_eq!(segments(&"😀".repeat(35)), 1, "an emoji is two UCS-2 units");
    }

    #[test]
    fn a_long_text_is_split_at_words_and_a_too_long_one_refused() {
        let short = "Ciao, ci sentiamo domani alle 10?";
        assert_eq!(parts(short).unwrap(), [short]);
        let long = "parola ".repeat(400); // 2,800 characters: 19 segments
        let split = parts(long.trim()).unwrap();
        assert_eq!(split.len(), 2);
        assert!(split.iter().all(|p| segments(p) <= MAX_SEGMENTS));
        assert!(split
            .iter()
            .all(|p| p.starts_with("parola") && p.ends_with("parola")));
        assert_eq!(split.join(" "), long.trim());
        let too_long = "x".repeat(153 * MAX_SEGMENTS * MAX_PARTS + 1);
        assert!(parts(&too_long).unwrap_err().contains("segments"));
    }

    #[test]
    fn pictures_are_https_urls_five_at_most() {
        let url = |i| format!("https://example.com/{i}.png");
        assert_eq!(images(&[url(1)]).unwrap(), [url(1)]);
        let six: Vec<String> = (0..6).map(url).collect();
        assert!(images(&six).unwrap_err().contains("at most 5"));
        assert!(images(&["http://example.com/a.png".into()]).is_err());
    }

    #[test]
    fn only_a_lone_keyword_is_one() {
        let stop = vec!["STOP".to_string(), "UNSUBSCRIBE".to_string()];
        let start = vec!["START".to_string()];
        assert_eq!(keyword(" stop ", &stop, &start), Some(Keyword::Stop));
        assert_eq!(keyword("Unsubscribe.", &stop, &start), Some(Keyword::Stop));
        assert_eq!(keyword("START", &stop, &start), Some(Keyword::Start));
        assert_eq!(keyword("please stop calling", &stop, &start), None);
        assert_eq!(keyword("", &stop, &start), None);
    }
}
