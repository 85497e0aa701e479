// Copyright (C) 2026 the bridge's authors
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
// http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//! The `regex-cache` API this crate used, on `regex-lite`: a pattern of the metadata is
//! compiled at its first use and kept with its metadata entry. The metadata's patterns use
//! only ASCII digit classes, groups, alternation and repetition, which `regex-lite` reads the
//! same way `regex` does.

use std::fmt;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};

use regex_lite::{Regex, RegexBuilder};

/// Kept for the API's shape: each pattern holds its own compiled form.
#[derive(Debug, Default)]
pub struct RegexCache;

impl RegexCache {
    pub fn new(_capacity: usize) -> Self {
        RegexCache
    }
}

/// A pattern compiled at its first use.
pub struct CachedRegex {
    source: String,
    ignore_whitespace: bool,
    compiled: OnceLock<Regex>,
}

impl CachedRegex {
    /// `source`, compiled at its first use.
    pub fn new(_cache: Arc<Mutex<RegexCache>>, source: &str) -> Result<Self, regex_lite::Error> {
        CachedRegexBuilder::new(_cache, source).build()
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl Clone for CachedRegex {
    fn clone(&self) -> Self {
        Self {
            source: self.source.clone(),
            ignore_whitespace: self.ignore_whitespace,
            compiled: self.compiled.clone(),
        }
    }
}

impl fmt::Debug for CachedRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("CachedRegex").field(&self.source).finish()
    }
}

impl Deref for CachedRegex {
    type Target = Regex;

    fn deref(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            RegexBuilder::new(&self.source)
                .ignore_whitespace(self.ignore_whitespace)
                .build()
                // Every pattern of the bundled metadata compiles (the bridge tests it).
                .unwrap_or_else(|_| never())
        })
    }
}

/// A pattern that matches nothing.
fn never() -> Regex {
    #[allow(clippy::unwrap_used)]
    Regex::new(r"\b\B").unwrap()
}

pub struct CachedRegexBuilder {
    source: String,
    ignore_whitespace: bool,
}

impl CachedRegexBuilder {
    pub fn new(_cache: Arc<Mutex<RegexCache>>, source: &str) -> Self {
        Self {
            source: source.to_string(),
            ignore_whitespace: false,
        }
    }

    pub fn ignore_whitespace(&mut self, yes: bool) -> &mut Self {
        self.ignore_whitespace = yes;
        self
    }

    /// The pattern, compiled at its first use.
    pub fn build(&self) -> Result<CachedRegex, regex_lite::Error> {
        Ok(CachedRegex {
            source: self.source.clone(),
            ignore_whitespace: self.ignore_whitespace,
            compiled: OnceLock::new(),
        })
    }
}
