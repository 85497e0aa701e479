//! The manual, checked offline: README.md and every Markdown file under docs/ link only to files
//! that exist and to anchors that a heading of the target file makes (GitHub's slugs); README.md
//! stays the short front door with the two commands on its first screen; docs/'s SUMMARY.md lists
//! every chapter, and every entry of it exists; the two reference tables are marked for code to
//! read. External `http(s)://` links are not fetched.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The most lines README.md may have.
const README_MAX_LINES: usize = 220;
/// The two commands must appear within this many lines of README.md's top.
const FIRST_SCREEN_LINES: usize = 30;
const COMMANDS: [&str; 2] = ["scripts/local.sh", "scripts/test.sh"];
/// The tables code reads, each between `<!-- NAME:begin -->` and `<!-- NAME:end -->`.
const MARKED_TABLES: [&str; 2] = ["endpoint-table", "config-table"];

fn repo() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    here.canonicalize().unwrap_or(here)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn markdown_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            markdown_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

/// README.md and every Markdown file under docs/.
fn manual_files() -> Vec<PathBuf> {
    let mut files = vec![repo().join("README.md")];
    markdown_under(&repo().join("docs"), &mut files);
    files.sort();
    files
}

/// The book's source folder, as `docs/book.toml` names it (mdBook's default is `src`).
fn book_src() -> PathBuf {
    let toml = read(&repo().join("docs/book.toml"));
    let src = toml
        .lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == "src")
        .map_or("src".to_string(), |(_, v)| {
            v.trim().trim_matches('"').to_string()
        });
    repo().join("docs").join(src)
}

// --- Markdown, as far as links and headings need it --------------------------------------------

/// A fence that opens a code block (```` ``` ```` or `~~~`, any indentation): its character and
/// length.
fn fence(line: &str) -> Option<(char, usize)> {
    let t = line.trim_start();
    let c = t.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = t.chars().take_while(|x| *x == c).count();
    (n >= 3).then_some((c, n))
}

/// The text with fenced code blocks emptied (their lines kept, blank): what is left is prose.
fn without_fenced_code(text: &str) -> Vec<String> {
    let mut open: Option<(char, usize)> = None;
    let mut lines = Vec::new();
    for line in text.lines() {
        match (open, fence(line)) {
            (None, Some(f)) => {
                open = Some(f);
                lines.push(String::new());
            }
            (Some((c, n)), Some((c2, n2))) if c == c2 && n2 >= n && line.trim().len() == n2 => {
                open = None;
                lines.push(String::new());
            }
            (Some(_), _) => lines.push(String::new()),
            (None, None) => lines.push(line.to_string()),
        }
    }
    lines
}

/// The length of the run of `c` starting at `i`.
fn run_of(chars: &[char], i: usize, c: char) -> usize {
    chars[i..].iter().take_while(|x| **x == c).count()
}

/// Whether the line that starts after the newline at `i` is blank (a paragraph ends there).
fn blank_line_follows(chars: &[char], i: usize) -> bool {
    chars[i + 1..]
        .iter()
        .take_while(|c| **c != '\n')
        .all(|c| c.is_whitespace())
}

/// Where the code span opened by the backtick run at `i` closes: a run of the same length,
/// within the paragraph.
fn code_span_end(chars: &[char], i: usize) -> Option<usize> {
    let open = run_of(chars, i, '`');
    let mut j = i + open;
    while j < chars.len() {
        match chars[j] {
            '`' => {
                let run = run_of(chars, j, '`');
                if run == open {
                    return Some(j + run);
                }
                j += run;
            }
            '\n' if blank_line_follows(chars, j) => return None,
            _ => j += 1,
        }
    }
    None
}

/// The prose of a Markdown text, as characters: fenced code blocks and code spans blanked
/// (newlines kept, so positions still give line numbers).
fn prose(text: &str) -> Vec<char> {
    let chars: Vec<char> = without_fenced_code(text).join("\n").chars().collect();
    let mut out = chars.clone();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '`' => match code_span_end(&chars, i) {
                Some(end) => {
                    for c in &mut out[i..end] {
                        if *c != '\n' {
                            *c = ' ';
                        }
                    }
                    i = end;
                }
                None => i += run_of(&chars, i, '`'),
            },
            _ => i += 1,
        }
    }
    out
}

// --- Headings and their anchors ----------------------------------------------------------------

/// The text of an ATX heading line (`## Title ##`), if it is one.
fn atx_heading(line: &str) -> Option<String> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let t = line.trim_start_matches(' ');
    let level = run_of(&t.chars().collect::<Vec<_>>(), 0, '#');
    if indent > 3 || !(1..=6).contains(&level) {
        return None;
    }
    let rest = &t[level..];
    if !rest.is_empty() && !rest.starts_with([' ', '\t']) {
        return None;
    }
    let rest = rest.trim();
    let closed = rest.trim_end_matches('#');
    let text = if closed.is_empty() || closed.ends_with([' ', '\t']) {
        closed
    } else {
        rest
    };
    Some(text.trim().to_string())
}

/// Whether `line` underlines the paragraph line before it into a (setext) heading.
fn setext_underline(line: &str, previous: &str) -> bool {
    let t = line.trim();
    let p = previous.trim_start();
    let underline = !t.is_empty() && (t.chars().all(|c| c == '=') || t.chars().all(|c| c == '-'));
    let paragraph = !p.is_empty()
        && !p.starts_with(['|', '-', '*', '+', '>', '#'])
        && !p.starts_with(|c: char| c.is_ascii_digit())
        && previous.len() - p.len() < 4;
    underline && line.len() - line.trim_start().len() < 4 && paragraph
}

/// The headings of a Markdown text, in order (none inside code blocks).
fn headings(text: &str) -> Vec<String> {
    let lines = without_fenced_code(text);
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(h) = atx_heading(line) {
            found.push(h);
        } else if i > 0
            && setext_underline(line, &lines[i - 1])
            && atx_heading(&lines[i - 1]).is_none()
        {
            found.push(lines[i - 1].trim().to_string());
        }
    }
    found
}

/// A heading's text as rendered: links and images give their text, not their target.
fn rendered_text(heading: &str) -> String {
    let mut out = String::new();
    let mut rest = heading;
    while let Some(at) = rest.find("](") {
        let Some(close) = rest[at..].find(')') else {
            break;
        };
        out.push_str(&rest[..at]);
        rest = &rest[at + close + 1..];
    }
    out.push_str(rest);
    out
}

/// GitHub's anchor for a heading: lower-case; letters, digits, `-` and `_` kept; each space a
/// `-`; everything else dropped.
fn slug(heading: &str) -> String {
    rendered_text(heading)
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            '-' | '_' => Some(c),
            c if c.is_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// Every anchor the headings of a text make: a repeated slug gets `-1`, `-2`… in order.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for h in headings(text) {
        let base = slug(&h);
        let mut candidate = base.clone();
        while out.contains(&candidate) {
            let n = seen.entry(base.clone()).or_insert(0);
            *n += 1;
            candidate = format!("{base}-{n}");
        }
        out.insert(candidate);
    }
    out
}

// --- Links -------------------------------------------------------------------------------------

/// A link found in a file: its line (1-based) and its target as written.
#[derive(Debug, PartialEq)]
struct Link {
    line: usize,
    target: String,
}

/// A reference label as Markdown compares them: case and runs of whitespace do not count.
fn label_key(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether the line holding `i` is a reference definition (`[label]: target`) that starts there.
fn starts_definition(chars: &[char], i: usize) -> bool {
    let line_start = chars[..i]
        .iter()
        .rposition(|c| *c == '\n')
        .map_or(0, |p| p + 1);
    let indent = i - line_start;
    indent <= 3
        && chars[line_start..i].iter().all(|c| *c == ' ')
        && closing(chars, i, '[', ']').is_some_and(|end| chars.get(end + 1) == Some(&':'))
}

/// The reference definitions of a text's prose (`[label]: target`), by label.
fn definitions(prose: &str) -> BTreeMap<String, String> {
    let mut defs = BTreeMap::new();
    for line in prose.lines() {
        let t = line.trim_start();
        if line.len() - t.len() > 3 || !t.starts_with('[') {
            continue;
        }
        let Some(close) = t.find(']') else {
            continue;
        };
        if let Some(rest) = t[close + 1..].strip_prefix(':') {
            let (label, target) = (&t[1..close], rest.split_whitespace().next().unwrap_or(""));
            defs.entry(label_key(label))
                .or_insert_with(|| target.trim_matches(['<', '>']).to_string());
        }
    }
    defs
}

/// Where the bracket opened at `i` closes (nested brackets counted), within the paragraph.
fn closing(chars: &[char], i: usize, open: char, close: char) -> Option<usize> {
    let mut depth = 0;
    let mut j = i;
    while j < chars.len() {
        match chars[j] {
            '\\' => j += 1,
            '\n' if blank_line_follows(chars, j) => return None,
            c if c == open => depth += 1,
            c if c == close => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
        j += 1;
    }
    None
}

/// The destination of an inline link whose `(` is at `i`: `<…>`, or up to whitespace; a title
/// after it is left out.
fn destination(chars: &[char], i: usize) -> Option<String> {
    let end = closing(chars, i, '(', ')')?;
    let inside: String = chars[i + 1..end].iter().collect();
    let inside = inside.trim();
    let target = match inside.strip_prefix('<') {
        Some(rest) => rest.split('>').next().unwrap_or(""),
        None => inside.split_whitespace().next().unwrap_or(""),
    };
    Some(target.to_string())
}

/// A link whose text opens at some `[`: its target, and the span of what follows the text (the
/// destination or the label), if anything does.
type Found = (String, Option<(usize, usize)>);

/// The link whose text opens at `i`, if one starts there: inline (`[text](target)`), full or
/// collapsed reference (`[text][label]`, `[text][]`) or shortcut (`[label]`, only when defined).
/// An undefined full reference is reported as broken.
fn link_at(chars: &[char], i: usize, defs: &BTreeMap<String, String>) -> Option<Found> {
    let text_end = closing(chars, i, '[', ']')?;
    let text: String = chars[i + 1..text_end].iter().collect();
    match chars.get(text_end + 1) {
        Some('(') => {
            let end = closing(chars, text_end + 1, '(', ')')?;
            Some((destination(chars, text_end + 1)?, Some((text_end + 1, end))))
        }
        Some('[') => {
            let label_end = closing(chars, text_end + 1, '[', ']')?;
            let label: String = chars[text_end + 2..label_end].iter().collect();
            let key = label_key(if label.trim().is_empty() {
                &text
            } else {
                &label
            });
            let target = defs
                .get(&key)
                .cloned()
                .unwrap_or_else(|| format!("[undefined reference: {key}]"));
            Some((target, Some((text_end + 1, label_end))))
        }
        _ => defs.get(&label_key(&text)).map(|t| (t.clone(), None)),
    }
}

/// Every link of a Markdown text (images included), outside code: each reference definition
/// (line 0), then each link where it is used.
fn links(text: &str) -> Vec<Link> {
    let chars = prose(text);
    let defs = definitions(&String::from_iter(&chars));
    let mut found: Vec<Link> = defs
        .values()
        .map(|target| Link {
            line: 0,
            target: target.clone(),
        })
        .collect();
    // The destinations and labels of the links found: no link starts inside them. (A link's
    // text may hold one: an image.)
    let mut not_text: Vec<(usize, usize)> = Vec::new();
    let mut line = 1;
    for i in 0..chars.len() {
        match chars[i] {
            '\n' => line += 1,
            '[' if (i == 0 || chars[i - 1] != '\\')
                && !not_text.iter().any(|(a, b)| (*a..=*b).contains(&i))
                && !starts_definition(&chars, i) =>
            {
                if let Some((target, after_text)) = link_at(&chars, i, &defs) {
                    found.push(Link { line, target });
                    not_text.extend(after_text);
                }
            }
            _ => {}
        }
    }
    found
}

/// `%xx` escapes decoded (a space in a path is `%20`).
fn percent_decoded(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = s
            .get(i + 1..i + 3)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Why a link from `from` to `target` is broken, if it is: a file that does not exist, or an
/// anchor no heading of the target Markdown file makes. External links are not fetched.
fn broken(from: &Path, target: &str) -> Option<String> {
    if target.is_empty() {
        return Some("an empty target".into());
    }
    if target.starts_with("[undefined reference") {
        return Some(target.into());
    }
    let scheme = target.split_once(':').map(|(s, _)| s);
    if scheme.is_some_and(|s| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    }) {
        return None;
    }
    let (path, anchor) = target
        .split_once('#')
        .map_or((target, None), |(p, a)| (p, Some(a)));
    let path = percent_decoded(path);
    let file = match path.as_str() {
        "" => from.to_path_buf(),
        p if p.starts_with('/') => repo().join(p.trim_start_matches('/')),
        p => from.parent().expect("a file's folder").join(p),
    };
    if !file.exists() {
        return Some(format!("{} does not exist", file.display()));
    }
    let anchor = percent_decoded(anchor?);
    let is_markdown = file.extension().is_some_and(|e| e == "md");
    (is_markdown && !anchors(&read(&file)).contains(&anchor))
        .then(|| format!("no heading of {} makes #{anchor}", file.display()))
}

fn relative(file: &Path) -> String {
    file.strip_prefix(repo())
        .unwrap_or(file)
        .display()
        .to_string()
}

// --- The checks --------------------------------------------------------------------------------

#[test]
fn every_link_and_anchor_of_the_manual_resolves() {
    let files = manual_files();
    assert!(
        files.len() > 10,
        "the manual's chapters are missing: {files:?}"
    );
    let mut problems = BTreeSet::new();
    let mut checked = 0;
    for file in &files {
        for link in links(&read(file)) {
            checked += 1;
            if let Some(why) = broken(file, &link.target) {
                let at = match link.line {
                    0 => "definition".to_string(),
                    n => format!("line {n}"),
                };
                problems.insert(format!("{}, {at}: ({}) {why}", relative(file), link.target));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} links found: the parser lost them"
    );
    assert!(
        problems.is_empty(),
        "{} broken link(s):\n{}",
        problems.len(),
        problems.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_readme_is_the_short_front_door() {
    let readme = read(&repo().join("README.md"));
    let lines: Vec<&str> = readme.lines().collect();
    assert!(
        lines.len() <= README_MAX_LINES,
        "README.md has {} lines, more than {README_MAX_LINES}: move the detail into docs/",
        lines.len()
    );
    let first_screen = lines[..lines.len().min(FIRST_SCREEN_LINES)].join("\n");
    for command in COMMANDS {
        assert!(
            first_screen.contains(command),
            "README.md's first {FIRST_SCREEN_LINES} lines do not give `{command}`"
        );
    }
    // CI runs the test command the README gives.
    let ci = read(&repo().join(".ci/run"));
    assert!(
        ci.lines().any(|l| l.trim() == "scripts/test.sh"),
        ".ci/run does not run scripts/test.sh"
    );
}

/// The chapters SUMMARY.md lists (its links, anchors left out), as files.
fn summary_entries(src: &Path) -> Vec<(String, PathBuf)> {
    links(&read(&src.join("SUMMARY.md")))
        .into_iter()
        .map(|l| {
            let path = l.target.split('#').next().unwrap_or("").to_string();
            let file = src.join(percent_decoded(&path));
            (l.target, file.canonicalize().unwrap_or(file))
        })
        .collect()
}

#[test]
fn the_summary_lists_every_chapter_and_every_entry_exists() {
    let src = book_src();
    assert!(
        src.join("SUMMARY.md").is_file(),
        "{} has no SUMMARY.md",
        src.display()
    );
    let entries = summary_entries(&src);
    let missing: Vec<String> = entries
        .iter()
        .filter(|(target, file)| target.is_empty() || !file.is_file())
        .map(|(target, _)| format!("({target})"))
        .collect();
    assert!(
        missing.is_empty(),
        "SUMMARY.md lists chapters that do not exist: {missing:?}"
    );
    let listed: BTreeSet<PathBuf> = entries.into_iter().map(|(_, f)| f).collect();
    let mut chapters = Vec::new();
    markdown_under(&src, &mut chapters);
    let unlisted: Vec<String> = chapters
        .iter()
        .filter(|c| c.file_name().is_some_and(|n| n != "SUMMARY.md"))
        .filter(|c| !listed.contains(&c.canonicalize().unwrap_or_else(|_| c.to_path_buf())))
        .map(|c| relative(c))
        .collect();
    assert!(
        unlisted.is_empty(),
        "chapters SUMMARY.md does not list: {unlisted:?}"
    );
}

#[test]
fn the_reference_tables_are_marked_once_each() {
    let mut chapters = Vec::new();
    markdown_under(&book_src(), &mut chapters);
    for name in MARKED_TABLES {
        let (begin, end) = (
            format!("<!-- {name}:begin -->"),
            format!("<!-- {name}:end -->"),
        );
        let holders: Vec<&PathBuf> = chapters
            .iter()
            .filter(|c| read(c).contains(&begin))
            .collect();
        assert_eq!(
            holders.len(),
            1,
            "{begin} should be in exactly one chapter: {holders:?}"
        );
        let text = read(holders[0]);
        assert_eq!(text.matches(&begin).count(), 1, "{begin} twice");
        assert_eq!(text.matches(&end).count(), 1, "{end} missing or twice");
        let table = text
            .split_once(&begin)
            .and_then(|(_, rest)| rest.split_once(&end))
            .map(|(table, _)| table.trim())
            .unwrap_or_else(|| panic!("{end} comes before {begin}"));
        let rows: Vec<&str> = table.lines().collect();
        assert!(
            rows.len() > 3 && rows.iter().all(|r| r.starts_with('|')),
            "between the {name} markers there must be only the table"
        );
    }
}

// --- The checker's own rules -------------------------------------------------------------------

#[test]
fn anchors_follow_githubs_slugs() {
    let text = "# GoHighLevel ↔ CloudTalk bridge\n## Reliability: nothing lost, nothing twice\n\
                ### `bridge tenants`\n## Run locally (no AWS account, no credentials)\n\
                ## Logs\n## Logs ##\n```sh\n# not a heading\n```\nSetext\n---\n\
                ## A [linked](x.md) one_two\n";
    let expected = [
        "gohighlevel--cloudtalk-bridge",
        "reliability-nothing-lost-nothing-twice",
        "bridge-tenants",
        "run-locally-no-aws-account-no-credentials",
        "logs",
        "logs-1",
        "setext",
        "a-linked-one_two",
    ];
    assert_eq!(
        anchors(text),
        expected.iter().map(|s| s.to_string()).collect()
    );
}

#[test]
fn links_are_found_outside_code_only() {
    let text = "See [one](a.md#x) and ![pic](p.png), `[not](code.md)`, [ref][r] and [r].\n\
                ```\n[not](fenced.md)\n```\n``[also `not`](x.md)``\n[wrapped\ntext](b.md \"title\")\n\
                [undefined][nope] [plain brackets] [r]: c.md\n\n[r]: c.md\n";
    let targets: Vec<(usize, String)> = links(text)
        .into_iter()
        .map(|l| (l.line, l.target))
        .collect();
    let expected = [
        (0, "c.md"),
        (1, "a.md#x"),
        (1, "p.png"),
        (1, "c.md"),
        (1, "c.md"),
        (6, "b.md"),
        (8, "[undefined reference: nope]"),
        (8, "c.md"),
    ];
    let expected: Vec<(usize, String)> =
        expected.iter().map(|(l, t)| (*l, t.to_string())).collect();
    assert_eq!(targets, expected);
}

#[test]
fn a_missing_file_or_anchor_is_reported_and_an_external_link_is_not_fetched() {
    let readme = repo().join("README.md");
    assert_eq!(broken(&readme, "docs/src/SUMMARY.md"), None);
    assert_eq!(broken(&readme, "https://example.invalid/nowhere"), None);
    assert_eq!(broken(&readme, "#one-webhook-end-to-end"), None);
    assert!(broken(&readme, "docs/no-such-chapter.md").is_some());
    assert!(broken(&readme, "#no-such-heading").is_some());
    assert!(broken(&readme, "docs/src/SUMMARY.md#no-such-heading").is_some());
    assert!(broken(&readme, "[undefined reference: x]").is_some());
}
