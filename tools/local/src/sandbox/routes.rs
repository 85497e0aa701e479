//! Route tables: each simulated API lists its operations as method + path pattern → handler, and
//! the first line that matches a request serves it.
//!
//! A pattern is `/`-separated: a literal segment must be equal, `{name}` takes one segment (which
//! may be empty), and a last `{name*}` takes the rest of the path, slashes included.
//!
//! The matching knows nothing of what a handler is: a table is of `Route<H>` for any `H` (the
//! simulated APIs' tables hold `api::Handler`s).

use axum::http::Method;

/// One line of a route table: method + path pattern → `handler`.
pub(crate) struct Route<H> {
    method: Method,
    pattern: &'static str,
    handler: H,
}

pub(crate) const fn get<H>(pattern: &'static str, handler: H) -> Route<H> {
    Route {
        method: Method::GET,
        pattern,
        handler,
    }
}

pub(crate) const fn post<H>(pattern: &'static str, handler: H) -> Route<H> {
    Route {
        method: Method::POST,
        pattern,
        handler,
    }
}

pub(crate) const fn put<H>(pattern: &'static str, handler: H) -> Route<H> {
    Route {
        method: Method::PUT,
        pattern,
        handler,
    }
}

pub(crate) const fn delete<H>(pattern: &'static str, handler: H) -> Route<H> {
    Route {
        method: Method::DELETE,
        pattern,
        handler,
    }
}

/// What a matched pattern captured, by name.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Params(Vec<(&'static str, String)>);

impl Params {
    /// The captured value; empty when the pattern has no such name.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

impl<H> Route<H> {
    /// What serves a request this line matches.
    pub(crate) fn handler(&self) -> &H {
        &self.handler
    }
}

/// The first route for this method whose pattern matches the path, and what it captured.
pub(crate) fn find<'r, H>(
    routes: &'r [Route<H>],
    method: &Method,
    path: &str,
) -> Option<(&'r Route<H>, Params)> {
    routes
        .iter()
        .filter(|r| r.method == *method)
        .find_map(|r| Some((r, captures(r.pattern, path)?)))
}

fn captures(pattern: &'static str, path: &str) -> Option<Params> {
    let mut params = Vec::new();
    let mut segments = path.split('/');
    for part in pattern.split('/') {
        let name = part.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
        match name.map(|n| (n.strip_suffix('*'), n)) {
            Some((Some(rest), _)) => {
                let first = segments.next()?;
                let tail: Vec<&str> = std::iter::once(first).chain(segments).collect();
                params.push((rest, tail.join("/")));
                return Some(Params(params));
            }
            Some((None, name)) => params.push((name, segments.next()?.to_string())),
            None if segments.next()? == part => {}
            None => return None,
        }
    }
    segments.next().is_none().then_some(Params(params))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caught(pattern: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
        captures(pattern, path).map(|p| p.0)
    }

    #[test]
    fn literal_segments_must_all_be_equal() {
        assert_eq!(
            caught("/contacts/index.json", "/contacts/index.json"),
            Some(vec![])
        );
        assert_eq!(
            caught("/contacts/index.json", "/contacts/index.json/"),
            None
        );
        assert_eq!(caught("/contacts/index.json", "/contacts"), None);
    }

    #[test]
    fn a_name_takes_one_segment_even_an_empty_one() {
        let id = |v: &str| Some(vec![("id", v.to_string())]);
        assert_eq!(
            caught("/contacts/{id}/notes", "/contacts/c1/notes"),
            id("c1")
        );
        assert_eq!(caught("/contacts/{id}/notes", "/contacts//notes"), id(""));
        assert_eq!(caught("/contacts/{id}", "/contacts/a/b"), None);
    }

    #[test]
    fn a_starred_name_takes_the_rest() {
        let id = |v: &str| Some(vec![("id", v.to_string())]);
        assert_eq!(caught("/show/{id*}", "/show/1.json"), id("1.json"));
        assert_eq!(caught("/show/{id*}", "/show/a/b.json"), id("a/b.json"));
        assert_eq!(caught("/show/{id*}", "/show/"), id(""));
        assert_eq!(caught("/show/{id*}", "/show"), None);
    }

    #[test]
    fn the_first_matching_line_for_the_method_wins() {
        let table = [get("/a/{x}", 1), post("/a/b", 2), get("/a/b", 3)];
        let found = |m: Method| find(&table, &m, "/a/b").map(|(r, _)| *r.handler());
        assert_eq!(found(Method::GET), Some(1));
        assert_eq!(found(Method::POST), Some(2));
        assert_eq!(found(Method::PUT), None);
    }
}
