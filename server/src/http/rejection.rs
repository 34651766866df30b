//! Why a request body or query string could not be read, in plain words: the field (its
//! path, `plan.installments[2].due`) and the rule it broke, never the parser's own
//! vocabulary (type names, "invalid type", `at line 1 column 23`).
//!
//! serde's messages have a small fixed grammar ("missing field `x`", "unknown field `x`,
//! expected one of …", "invalid type: integer `5`, expected a string", …); each form is
//! rewritten here. A message of any other form (a type's own check) is replaced by a
//! generic rule rather than passed through, so nothing internal reaches a caller.

/// A body or query that does not fit the request's shape: `field: rule`.
pub struct Misfit {
    pub field: String,
    pub rule: String,
}

impl std::fmt::Display for Misfit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

/// A JSON body that could not be read. `path` is serde_path_to_error's (`.` for the
/// whole body).
pub fn json_body(body: &[u8], path: &str, e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof if body.iter().all(u8::is_ascii_whitespace) => {
            "the request needs a JSON body, and it is empty".to_string()
        }
        Category::Eof => "the body is not complete JSON: it ends too early".to_string(),
        Category::Syntax if path == "." || path == "?" => {
            format!("the body is not valid JSON {}", position(e))
        }
        Category::Syntax => format!("the body is not valid JSON {}, at {path}", position(e)),
        Category::Io => "the body could not be read".to_string(),
        Category::Data => misfit(path, &message_of(e)).to_string(),
    }
}

/// A query string that could not be read (the text of axum's rejection, which is
/// `Failed to deserialize query string: [PATH: ]MESSAGE`).
pub fn query(rejection_text: &str) -> String {
    let text = rejection_text
        .strip_prefix("Failed to deserialize query string: ")
        .unwrap_or(rejection_text);
    let (path, message) = match text.split_once(": ") {
        Some((path, message)) if is_path(path) => (path, message),
        _ => (".", text),
    };
    let m = misfit(path, message);
    // The query parser's own words for a number that is not one.
    let rule = match message {
        "invalid digit found in string" | "cannot parse integer from empty string" => {
            "must be a whole number".to_string()
        }
        "number too large to fit in target type" => "is too large".to_string(),
        "number too small to fit in target type" => "is too small".to_string(),
        "invalid float literal" => "must be a number".to_string(),
        "provided string was not `true` or `false`" => "must be true or false".to_string(),
        _ => m.rule,
    };
    format!("query parameter {}: {rule}", m.field)
}

/// The core's detail of a device message that does not fit the protocol
/// (`PATH: invalid type, expected u32`, `PATH: missing field `x``), in the same words.
pub fn core_payload(detail: &str) -> String {
    let (path, message) = detail.split_once(": ").unwrap_or((".", detail));
    let path = if is_path(path) { path } else { "." };
    for kind in [
        "invalid type",
        "invalid value",
        "unknown variant",
        "invalid length",
    ] {
        if let Some(rest) = message.strip_prefix(kind) {
            let rule = match rest.strip_prefix(", expected ") {
                Some(e) if kind == "unknown variant" => {
                    format!("must be one of {}", quoted(e).join(", "))
                }
                Some(e) if kind != "invalid length" => format!("must be {}", expected_words(e)),
                _ => "is not a valid value here".to_string(),
            };
            return format!("{}: {rule}", field(path));
        }
    }
    misfit(path, message).to_string()
}

/// Where a syntax error is, in words that do not look like a parser's.
fn position(e: &serde_json::Error) -> String {
    if e.line() <= 1 {
        format!("(near character {})", e.column())
    } else {
        format!("(row {}, near character {})", e.line(), e.column())
    }
}

/// serde_json's message without its ` at line L column C` tail.
fn message_of(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let tail = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&tail).unwrap_or(&text).to_string()
}

fn is_path(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '-'))
}

/// `parent.child`, or `child` at the top.
fn join(path: &str, name: &str) -> String {
    if path == "." || path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// The field name of a path, or `body` for the whole body.
fn field(path: &str) -> String {
    if path == "." || path.is_empty() || path == "?" {
        "body".to_string()
    } else {
        path.to_string()
    }
}

/// The names between backticks: "`a`, `b` or `c`" → ["a", "b", "c"].
fn quoted(s: &str) -> Vec<&str> {
    s.split('`').skip(1).step_by(2).collect()
}

/// Rewrites one of serde's messages about `path`.
pub fn misfit(path: &str, message: &str) -> Misfit {
    let first = quoted(message).first().map(|s| s.to_string());
    if let Some(rest) = message.strip_prefix("missing field ") {
        let name = quoted(rest).first().copied().unwrap_or("");
        return Misfit {
            field: join(path, name),
            rule: "is required".into(),
        };
    }
    if message.starts_with("duplicate field ") {
        return Misfit {
            field: join(path, first.as_deref().unwrap_or("")),
            rule: "appears more than once; send it once".into(),
        };
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        // The path already ends with the unknown name.
        let allowed = quoted(rest).into_iter().skip(1).collect::<Vec<_>>();
        let rule = if allowed.is_empty() {
            "is not a field of this request, which takes none".to_string()
        } else {
            format!(
                "is not a field of this request; its fields are {}",
                allowed.join(", ")
            )
        };
        return Misfit {
            field: field(path),
            rule,
        };
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let allowed = quoted(rest).into_iter().skip(1).collect::<Vec<_>>();
        return Misfit {
            field: field(path),
            rule: format!("must be one of {}", allowed.join(", ")),
        };
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return Misfit {
            field: field(path),
            rule: format!(
                "must be {}, not {}",
                expected_words(expected),
                got_words(got)
            ),
        };
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let value = quoted(got)
            .first()
            .map_or_else(|| got_words(got), |v| v.to_string());
        return Misfit {
            field: field(path),
            rule: format!("must be {}, not {value}", expected_words(expected)),
        };
    }
    if message.starts_with("invalid length ") {
        return Misfit {
            field: field(path),
            rule: "has the wrong number of items".into(),
        };
    }
    Misfit {
        field: field(path),
        rule: "is not a valid value here".into(),
    }
}

/// What the field should have been, from serde's "expected …".
fn expected_words(expected: &str) -> String {
    let max = |bits: u32| format!("a whole number from 0 to {}", u64::MAX >> (64 - bits));
    match expected {
        "u8" => max(8),
        "u16" => max(16),
        "u32" => max(32),
        "u64" | "usize" => max(64),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" => "true or false".into(),
        "a string" | "a borrowed string" | "string" => "text in quotes".into(),
        "a character" | "a char" => "a single character".into(),
        "a sequence" => "a list".into(),
        "unit" => "null".into(),
        e if e.starts_with("struct ") || e.starts_with("a map") => "an object".into(),
        e if e.starts_with("tuple") || e.starts_with("an array") => "a list".into(),
        e if e.starts_with("enum ") || e.starts_with("variant ") => {
            "one of the listed names".into()
        }
        _ => "a value of another kind".into(),
    }
}

/// What was sent instead, from serde's unexpected value.
fn got_words(got: &str) -> String {
    match got.split_once(' ').map_or(got, |(kind, _)| kind) {
        "integer" | "floating" => quoted(got)
            .first()
            .map_or_else(|| "a number".to_string(), |n| format!("the number {n}")),
        "string" => "text".into(),
        "boolean" => quoted(got)
            .first()
            .map_or("true or false", |b| b)
            .to_string(),
        "null" | "unit" => "null".into(),
        "map" => "an object".into(),
        "sequence" => "a list".into(),
        _ => "a value of another kind".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing of this kind ever reaches a caller.
    const INTERNAL: [&str; 9] = [
        "struct",
        "enum",
        "invalid type",
        "line 1",
        "serde",
        "Rust",
        "u32",
        "i64",
        "`",
    ];

    fn clean(text: &str) {
        for word in INTERNAL {
            assert!(!text.contains(word), "{word:?} in {text:?}");
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        currency: String,
        grace_days: u32,
        items: Vec<Item>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        due: i64,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "snake_case")]
    enum Kind {
        Alpha,
        Beta,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        plan: Inner,
        #[serde(default)]
        kind: Option<Kind>,
        #[serde(default)]
        on: bool,
    }

    fn read(body: &str) -> String {
        let de = &mut serde_json::Deserializer::from_slice(body.as_bytes());
        match serde_path_to_error::deserialize::<_, Outer>(de) {
            Ok(v) => panic!("{body} was read: {v:?}"),
            Err(e) => {
                let path = e.path().to_string();
                json_body(body.as_bytes(), &path, e.inner())
            }
        }
    }

    #[test]
    fn each_kind_of_misfit_names_the_field_and_the_rule() {
        let plan = r#""currency": "KES", "grace_days": 1, "items": []"#;
        let cases = [
            (
                r#"{"plan": {"currency": 5}}"#.to_string(),
                "plan.currency: must be text in quotes, not the number 5",
            ),
            (
                r#"{"plan": {"currency": "K"}}"#.into(),
                "plan.grace_days: is required",
            ),
            ("{}".into(), "plan: is required"),
            (
                format!(r#"{{"plan": {{{plan}}}, "colour": 1}}"#),
                "colour: is not a field of this request; its fields are plan, kind, on",
            ),
            (
                format!(r#"{{"plan": {{{plan}, "x": 1}}}}"#),
                "plan.x: is not a field of this request; its fields are currency, grace_days, items",
            ),
            (
                format!(r#"{{"plan": {{{plan}}}, "kind": "gamma"}}"#),
                "kind: must be one of alpha, beta",
            ),
            (
                r#"{"plan": {"currency": "K", "grace_days": -1}}"#.into(),
                "plan.grace_days: must be a whole number from 0 to 4294967295, not -1",
            ),
            (
                r#"{"plan": {"currency": "K", "grace_days": 1.5}}"#.into(),
                "plan.grace_days: must be a whole number from 0 to 4294967295, not the number 1.5",
            ),
            (
                r#"{"plan": {"currency": "K", "grace_days": 1, "items": [{"due": "x"}]}}"#.into(),
                "plan.items[0].due: must be a whole number, not text",
            ),
            (
                r#"{"plan": null}"#.into(),
                "plan: must be an object, not null",
            ),
            (
                r#"{"plan": "x"}"#.into(),
                "plan: must be an object, not text",
            ),
            (
                format!(r#"{{"plan": {{{plan}}}, "on": "yes"}}"#),
                "on: must be true or false, not text",
            ),
            ("5".into(), "body: must be an object, not the number 5"),
            (
                format!(r#"{{"on": true, "on": false, "plan": {{{plan}}}}}"#),
                "on: appears more than once; send it once",
            ),
        ];
        for (body, want) in cases {
            let got = read(&body);
            assert_eq!(got, want, "{body}");
            clean(&got);
        }
    }

    #[test]
    fn bodies_that_are_not_json_say_so_without_parser_words() {
        for (body, want) in [
            ("", "the request needs a JSON body, and it is empty"),
            ("  \n", "the request needs a JSON body, and it is empty"),
            ("{not json", "the body is not valid JSON (near character 2)"),
            (
                r#"{"plan": {"#,
                "the body is not complete JSON: it ends too early",
            ),
            (
                "{\n\n  x",
                "the body is not valid JSON (row 3, near character 3)",
            ),
        ] {
            let got = read(body);
            assert_eq!(got, want, "{body:?}");
            clean(&got);
        }
    }

    #[test]
    fn query_misfits_name_the_parameter() {
        for (text, want) in [
            (
                "Failed to deserialize query string: limit: invalid digit found in string",
                "query parameter limit: must be a whole number",
            ),
            (
                "Failed to deserialize query string: limit: number too large to fit in target type",
                "query parameter limit: is too large",
            ),
            (
                "Failed to deserialize query string: foo: unknown field `foo`, expected `limit` or `after`",
                "query parameter foo: is not a field of this request; its fields are limit, after",
            ),
            (
                "Failed to deserialize query string: duplicate field `limit`",
                "query parameter limit: appears more than once; send it once",
            ),
        ] {
            let got = query(text);
            assert_eq!(got, want);
            clean(&got);
        }
    }

    #[test]
    fn the_cores_payload_details_are_rewritten_too() {
        for (detail, want) in [
            (
                "seq_seen: invalid type, expected u64",
                "seq_seen: must be a whole number from 0 to 18446744073709551615",
            ),
            (
                "state: unknown variant, expected one of `active`, `locked`",
                "state: must be one of active, locked",
            ),
            (".: missing field `nonce`", "nonce: is required"),
            (
                "events[0]: not the expected structure",
                "events[0]: is not a valid value here",
            ),
        ] {
            let got = core_payload(detail);
            assert_eq!(got, want);
            clean(&got);
        }
    }

    #[test]
    fn an_unknown_message_becomes_a_generic_rule() {
        let m = misfit("plan.x", "something a type said about itself: struct Foo");
        assert_eq!(m.to_string(), "plan.x: is not a valid value here");
    }
}
