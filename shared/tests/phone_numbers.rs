//! The bridge's libphonenumber (`vendor/phonenumber`: the `phonenumber` crate on `regex-lite`)
//! against the published `phonenumber` crate (on `regex`): every pattern of the metadata
//! compiles, and numbers parse, validate, format to E.164 and match each type's pattern alike.

use phonenumber::metadata::DATABASE;
use phonenumber::Mode;
use phonenumber_published as published;
use proptest::prelude::*;

/// The descriptors of the types the dial rules tell apart (`speed_to_lead::rules`), the
/// general one first, of either crate's metadata.
macro_rules! kinds {
    ($d:expr) => {
        [
            Some($d.general()),
            $d.fixed_line(),
            $d.mobile(),
            $d.toll_free(),
            $d.premium_rate(),
            $d.shared_cost(),
            $d.personal_number(),
            $d.voip(),
            $d.pager(),
            $d.uan(),
            $d.voicemail(),
        ]
    };
}

/// What each crate makes of `text` in `region`: None when it does not parse, else whether it
/// is valid and its E.164 form.
fn ours(region: Option<&str>, text: &str) -> Option<(bool, String)> {
    let region = region.and_then(|r| r.parse::<phonenumber::country::Id>().ok());
    let n = phonenumber::parse(region, text).ok()?;
    Some((n.is_valid(), n.format().mode(Mode::E164).to_string()))
}

fn theirs(region: Option<&str>, text: &str) -> Option<(bool, String)> {
    let region = region.and_then(|r| r.parse::<published::country::Id>().ok());
    let n = published::parse(region, text).ok()?;
    Some((
        n.is_valid(),
        n.format().mode(published::Mode::E164).to_string(),
    ))
}

#[test]
fn every_pattern_of_the_metadata_compiles_with_regex_lite() {
    let mut patterns = 0;
    let mut failed = Vec::new();
    for meta in DATABASE.iter() {
        let mut sources: Vec<&str> = kinds!(meta.descriptors())
            .into_iter()
            .flatten()
            .map(|d| d.national_number().as_str())
            .collect();
        sources.extend(meta.national_prefix_for_parsing().map(|r| r.as_str()));
        sources.extend(meta.international_prefix().map(|r| r.as_str()));
        sources.extend(meta.leading_digits().map(|r| r.as_str()));
        for format in meta.formats().iter().chain(meta.international_formats()) {
            sources.push(format.pattern().as_str());
            sources.extend(format.leading_digits().iter().map(|r| r.as_str()));
        }
        for source in sources {
            patterns += 1;
            let built = regex_lite::RegexBuilder::new(source)
                .ignore_whitespace(true)
                .build();
            if let Err(e) = built {
                failed.push(format!("{}: {source}: {e}", meta.id()));
            }
        }
    }
    assert!(patterns > 4_000, "{patterns} patterns");
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn every_example_number_parses_validates_and_matches_its_types_alike() {
    let mut checked = 0;
    for meta in DATABASE.iter() {
        let region = meta.id();
        let other = published::metadata::DATABASE
            .by_id(region)
            .unwrap_or_else(|| panic!("{region} is in both"));
        let (mine, their) = (kinds!(meta.descriptors()), kinds!(other.descriptors()));
        for example in mine.iter().flatten().filter_map(|d| d.example()) {
            for (i, (a, b)) in mine.iter().zip(their.iter()).enumerate() {
                let a = a.map(|d| d.is_match(example));
                let b = b.map(|d| d.is_match(example));
                assert_eq!(a, b, "{region} {example}: descriptor {i}");
            }
            let national = ours(Some(region), example);
            assert_eq!(
                national,
                theirs(Some(region), example),
                "{region} {example}"
            );
            let international = format!("+{}{example}", meta.country_code());
            assert_eq!(
                ours(None, &international),
                theirs(None, &international),
                "{region} {example}"
            );
            checked += 1;
        }
    }
    assert!(checked > 1_000, "{checked} examples");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn any_digits_parse_alike(
        region in prop::sample::select(vec!["IT", "US", "GB", "DE", "FR", "BR", "IN", "AR", "MX", "ES", "AU", "CN"]),
        plus in any::<bool>(),
        digits in "[0-9]{3,16}",
    ) {
        let text = if plus { format!("+{digits}") } else { digits };
        prop_assert_eq!(ours(Some(region), &text), theirs(Some(region), &text));
    }

    #[test]
    fn written_forms_parse_alike(
        region in prop::sample::select(vec!["IT", "US", "GB", "DE"]),
        text in "[+]?[0-9 ()./-]{3,24}",
    ) {
        prop_assert_eq!(ours(Some(region), &text), theirs(Some(region), &text));
    }
}
