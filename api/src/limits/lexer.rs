//! A cheap pass over the query text before the parser sees it: counts the lexical tokens
//! and the deepest bracket nesting, so a huge or deeply nested document is refused in
//! linear time without building a syntax tree (async-graphql has no token limit, and its
//! parser recurses once per nesting level).

/// What the scan measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextMeasure {
    /// Punctuators, names, numbers and strings; whitespace, commas and comments are not tokens.
    pub tokens: usize,
    /// Deepest nesting of `{`, `(` and `[`.
    pub nesting: usize,
}

/// Scans `query` following the GraphQL lexical grammar. Malformed text is still counted
/// (one token per unknown character or unterminated string): reporting syntax errors is
/// the parser's job.
pub fn measure(query: &str) -> TextMeasure {
    let bytes = query.as_bytes();
    let mut measure = TextMeasure::default();
    let mut open = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' => {
                measure.tokens += 1;
                i = skip_string(bytes, i);
            }
            b'{' | b'(' | b'[' => {
                measure.tokens += 1;
                open += 1;
                measure.nesting = measure.nesting.max(open);
                i += 1;
            }
            b'}' | b')' | b']' => {
                measure.tokens += 1;
                open = open.saturating_sub(1);
                i += 1;
            }
            b'.' if bytes[i..].starts_with(b"...") => {
                measure.tokens += 1;
                i += 3;
            }
            b if b == b'_' || b.is_ascii_alphanumeric() || b == b'-' => {
                // Names and numbers (with sign, fraction and exponent) are one token each.
                measure.tokens += 1;
                i += 1;
                while i < bytes.len()
                    && (bytes[i] == b'_'
                        || bytes[i].is_ascii_alphanumeric()
                        || (bytes[i] == b'.' && !bytes[i..].starts_with(b"..."))
                        || ((bytes[i] == b'+' || bytes[i] == b'-')
                            && matches!(bytes[i - 1], b'e' | b'E')))
                {
                    i += 1;
                }
            }
            0xEF if bytes[i..].starts_with(&[0xEF, 0xBB, 0xBF]) => i += 3, // byte order mark
            _ => {
                measure.tokens += 1;
                i += 1;
            }
        }
    }
    measure
}

/// The index just past the string starting at `start` (a `"…"` or a `"""…"""` block string).
fn skip_string(bytes: &[u8], start: usize) -> usize {
    if bytes[start..].starts_with(b"\"\"\"") {
        let mut i = start + 3;
        while i < bytes.len() {
            if bytes[i..].starts_with(b"\\\"\"\"") {
                i += 4;
            } else if bytes[i..].starts_with(b"\"\"\"") {
                return i + 3;
            } else {
                i += 1;
            }
        }
        return bytes.len();
    }
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'\n' | b'\r' => return i, // unterminated: the parser reports it
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn punctuators_names_numbers_and_strings_are_tokens() {
        // { cases ( first : 10 , filter : { search : "a, b { c" } ) { totalCount } }
        let m = measure(r#"{ cases(first: 10, filter: {search: "a, b { c"}) { totalCount } }"#);
        assert_eq!(m.tokens, 18);
        assert_eq!(m.nesting, 3);
    }

    #[test]
    fn comments_commas_and_block_strings_are_skipped_or_single() {
        let m = measure(
            "# a comment { { {\nquery($x: Float = -1.5e+3) { a(s: \"\"\"x \\\"\"\" }\"\"\") ...F }",
        );
        // query ( $ x : Float = -1.5e+3 ) { a ( s : """…""" ) ... F }
        assert_eq!(m.tokens, 19);
        assert_eq!(m.nesting, 2);
    }

    #[test]
    fn unbalanced_closers_do_not_underflow() {
        let m = measure("}}} { a }");
        assert_eq!(m.tokens, 6);
        assert_eq!(m.nesting, 1);
    }
}
