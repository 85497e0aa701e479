//! The report: one row per outcome, as JSON lines, or as CSV when the path ends in `.csv`.
//! A resumed run appends to the report of the run it continues.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::Path;

use super::outcome::Row;

/// The CSV columns, in order.
pub const CSV_HEADER: &str = "outcome,ghl_id,cloudtalk_id,matched_by,matched_value,candidates,ghl_candidates,linked_ghl_id,linked_cloudtalk_id,detail,dry_run";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    JsonLines,
    Csv,
}

/// Where rows go.
pub struct Report {
    out: Option<(BufWriter<File>, Format)>,
}

impl Report {
    /// No report.
    pub fn none() -> Self {
        Self { out: None }
    }

    /// Creates `path` (or appends to it, for a resumed run).
    pub fn open(path: &Path, append: bool) -> std::io::Result<Self> {
        let csv = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        let format = if csv { Format::Csv } else { Format::JsonLines };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(path)?;
        let empty = file.metadata()?.len() == 0;
        let mut out = BufWriter::new(file);
        if format == Format::Csv && empty {
            writeln!(out, "{CSV_HEADER}")?;
        }
        Ok(Self {
            out: Some((out, format)),
        })
    }

    pub fn write(&mut self, rows: &[Row]) -> std::io::Result<()> {
        let Some((out, format)) = &mut self.out else {
            return Ok(());
        };
        for row in rows {
            match format {
                Format::JsonLines => writeln!(out, "{}", serde_json::to_string(row)?)?,
                Format::Csv => writeln!(out, "{}", csv_line(row))?,
            }
        }
        Ok(())
    }

    /// Everything written so far is on disk.
    pub fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.out {
            Some((out, _)) => out.flush(),
            None => Ok(()),
        }
    }
}

fn csv_line(row: &Row) -> String {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let fields = [
        row.outcome.as_str().to_string(),
        text(&row.ghl_id),
        text(&row.cloudtalk_id),
        row.matched_by
            .map(|m| m.as_str().to_string())
            .unwrap_or_default(),
        text(&row.matched_value),
        row.candidates.join(";"),
        row.ghl_candidates.join(";"),
        text(&row.linked_ghl_id),
        text(&row.linked_cloudtalk_id),
        text(&row.detail),
        row.dry_run.to_string(),
    ];
    fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",")
}

/// Quoted when it holds a comma, a quote or a line break; quotes doubled.
fn csv_field(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::outcome::{MatchedBy, Outcome};
    use super::*;

    #[test]
    fn csv_rows_quote_what_needs_it() {
        let mut row = Row::new(Outcome::Ambiguous, true)
            .ghl("g,1")
            .matched(MatchedBy::Phone, "+393501234567")
            .detail("say \"hi\"");
        row.candidates = vec!["c1".into(), "c2".into()];
        assert_eq!(
            csv_line(&row),
            "ambiguous,\"g,1\",,phone,…567,c1;c2,,,,\"say \"\"hi\"\"\",true"
        );
        assert_eq!(
            CSV_HEADER.split(',').count(),
            csv_line(&row).split(',').count() - 1
        );
    }
}
