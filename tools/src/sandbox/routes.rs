//! Route tables: each simulated API lists its operations as method + path pattern → handler, and
//! the first line that matches a request serves it.
//!
//! A pattern is `/`-separated: a literal segment must be equal, `{name}` takes one segment (which
//! may be empty), and a last `{name*}` takes the rest of the path, slashes included.

use axum::http::Method;

use super::api::{Call, Outcome};

/// One operation of an API.
pub(crate) type Handler = fn(&mut Call) -> Outcome;

/// One line of a route table.
pub(crate) struct Route {
    method: Method,
    pattern: &'static str,
    handler: Handler,
}

pub(crate) const fn get(pattern: &'static str, handler: Handler) -> Route {
    Route {
        method: Method::GET,
        pattern,
        handler,
    }
}

pub(crate) const fn post(pattern: &'static str, handler: Handler) -> Route {
    Route {
        method: Method::POST,
        pattern,
        handler,
    }
}

pub(crate) const fn put(pattern: &'static str, handler: Handler) -> Route {
    Route {
        method: Method::PUT,
        pattern,
        handler,
    }
}

pub(crate) const fn delete(pattern: &'static str, handler: Handler) -> Route {
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

impl Route {
    pub(crate) fn handle(&self, call: &mut Call) -> Outcome {
        (self.handler)(call)
    }
}

/// The first route for this method whose pattern matches the path, and what it captured.
pub(crate) fn find<'r>(
    routes: &'r [Route],
    method: &Method,
    path: &str,
) -> Option<(&'r Route, Params)> {
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
        fn nothing(_: &mut Call) -> Outcome {
            Ok((200, serde_json::Value::Null))
        }
        let table = [
            get("/a/{x}", nothing),
            post("/a/b", nothing),
            get("/a/b", nothing),
        ];
        let found =
            |m: Method| find(&table, &m, "/a/b").map(|(r, _)| (r.method.clone(), r.pattern));
        assert_eq!(found(Method::GET), Some((Method::GET, "/a/{x}")));
        assert_eq!(found(Method::POST), Some((Method::POST, "/a/b")));
        assert_eq!(found(Method::PUT), None);
    }
}
