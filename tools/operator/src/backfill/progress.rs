//! Progress: a bar on a terminal, a plain line now and then otherwise, nothing in tests. Lines
//! hold phases and counts only, never a phone or an email.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// What the run is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    ReadGhl,
    ReadCloudTalk,
    /// Matching, checking the map, linking and creating.
    Settle,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::ReadGhl => "reading GHL contacts",
            Phase::ReadCloudTalk => "reading CloudTalk contacts",
            Phase::Settle => "matching and linking",
        }
    }
}

/// Told what happens; draws it.
pub trait Progress: Send {
    /// A phase starts; `total` items when known.
    fn phase(&mut self, phase: Phase, total: Option<u64>);
    /// `n` more items done.
    fn advance(&mut self, n: u64);
    /// A line that must not be lost (a resume, a stop).
    fn note(&mut self, line: &str);
    fn finish(&mut self);
}

/// Shows nothing.
#[derive(Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn phase(&mut self, _: Phase, _: Option<u64>) {}
    fn advance(&mut self, _: u64) {}
    fn note(&mut self, _: &str) {}
    fn finish(&mut self) {}
}

/// An `indicatif` bar (a counter while the total is unknown), on standard error.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new() -> Self {
        Self {
            bar: ProgressBar::hidden(),
        }
    }
}

impl Default for Bar {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for Bar {
    fn phase(&mut self, phase: Phase, total: Option<u64>) {
        self.bar.finish_and_clear();
        let (bar, template) = match total {
            Some(total) => (
                ProgressBar::new(total),
                "{msg:28} {bar:40} {pos}/{len} ({eta} left)",
            ),
            None => (ProgressBar::new_spinner(), "{msg:28} {spinner} {pos}"),
        };
        let style =
            ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(phase.label());
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bar = bar;
    }

    fn advance(&mut self, n: u64) {
        self.bar.inc(n);
    }

    fn note(&mut self, line: &str) {
        self.bar.println(line);
    }

    fn finish(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// A line when a phase starts, one every `every` while it runs, and one with its count when it
/// ends; on standard output.
pub struct Lines {
    every: Duration,
    phase: Option<Phase>,
    total: Option<u64>,
    done: u64,
    last: Instant,
}

impl Lines {
    pub fn new(every: Duration) -> Self {
        Self {
            every,
            phase: None,
            total: None,
            done: 0,
            last: Instant::now(),
        }
    }

    fn line(&self) -> String {
        let label = self.phase.map_or("", Phase::label);
        match self.total {
            Some(total) => format!("{label}: {}/{total}", self.done),
            None => format!("{label}: {}", self.done),
        }
    }

    /// The line of the phase that ends, if one was running.
    fn end_phase(&mut self) {
        if self.phase.is_some() {
            println!("{}", self.line());
        }
        self.phase = None;
    }
}

impl Progress for Lines {
    fn phase(&mut self, phase: Phase, total: Option<u64>) {
        self.end_phase();
        (self.phase, self.total, self.done) = (Some(phase), total, 0);
        self.last = Instant::now();
        match total {
            Some(total) => println!("{}: {total} to go", phase.label()),
            None => println!("{}…", phase.label()),
        }
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        if self.last.elapsed() >= self.every {
            self.last = Instant::now();
            println!("{}", self.line());
        }
    }

    fn note(&mut self, line: &str) {
        println!("{line}");
    }

    fn finish(&mut self) {
        self.end_phase();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_says_the_phase_and_the_count() {
        let mut lines = Lines::new(Duration::from_secs(3600));
        lines.phase(Phase::Settle, Some(40));
        lines.advance(10);
        assert_eq!(lines.line(), "matching and linking: 10/40");
        lines.phase(Phase::ReadGhl, None);
        lines.advance(3);
        assert_eq!(lines.line(), "reading GHL contacts: 3");
    }
}
