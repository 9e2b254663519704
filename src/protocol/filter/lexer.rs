//! Tokenizer for SCIM filters and PATCH paths (RFC 7644 §3.4.2.2, §3.5.2).
//!
//! This module owns turning filter text into positioned tokens: brackets,
//! parentheses, the `.` that introduces a sub-attribute after `]`, words
//! (attribute paths and keywords, classified later by the parser), JSON
//! strings and JSON numbers. It knows nothing about grammar.

use super::FilterError;

/// The kind of a token.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// A `.` at the start of a token (only valid after `]`).
    Dot,
    /// An attribute path or keyword: letters, digits, `-_.:$`.
    Word(String),
    /// A JSON string, unescaped.
    Str(String),
    /// A JSON number.
    Number(serde_json::Number),
}

/// A token and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What was read.
    pub tok: Tok,
    /// Byte offset of its first character.
    pub pos: usize,
}

fn is_word_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'$')
}

/// Splits `input` into tokens. Whitespace (SP, tab, CR, LF) separates tokens.
pub fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    let bytes = input.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let tok = match b {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'(' => Tok::LParen,
            b')' => Tok::RParen,
            b'[' => Tok::LBracket,
            b']' => Tok::RBracket,
            b'.' => Tok::Dot,
            b'"' => {
                let (s, end) = lex_string(input, i)?;
                out.push(Token {
                    tok: Tok::Str(s),
                    pos: i,
                });
                i = end;
                continue;
            }
            b'-' | b'0'..=b'9' => {
                let (n, end) = lex_number(input, i)?;
                out.push(Token {
                    tok: Tok::Number(n),
                    pos: i,
                });
                i = end;
                continue;
            }
            _ if b.is_ascii_alphabetic() || b == b'$' || b == b'_' => {
                let end = scan(bytes, i, is_word_char);
                let word = input.get(i..end).unwrap_or_default().to_owned();
                out.push(Token {
                    tok: Tok::Word(word),
                    pos: i,
                });
                i = end;
                continue;
            }
            _ => {
                let ch = input.get(i..).and_then(|s| s.chars().next()).unwrap_or('?');
                return Err(FilterError::new(i, format!("unexpected character {ch:?}")));
            }
        };
        out.push(Token { tok, pos: i });
        i += 1;
    }
    Ok(out)
}

fn scan(bytes: &[u8], start: usize, pred: impl Fn(u8) -> bool) -> usize {
    let mut end = start;
    while bytes.get(end).is_some_and(|&b| pred(b)) {
        end += 1;
    }
    end
}

/// Reads a JSON string starting at the opening quote; returns it unescaped and
/// the offset just past the closing quote (RFC 8259 §7 escapes).
fn lex_string(input: &str, start: usize) -> Result<(String, usize), FilterError> {
    let bytes = input.as_bytes();
    let mut i = start + 1;
    loop {
        match bytes.get(i) {
            None => return Err(FilterError::new(start, "unterminated string")),
            Some(b'\\') => i += 2,
            Some(b'"') => break,
            Some(_) => i += 1,
        }
    }
    let raw = input
        .get(start..=i)
        .ok_or_else(|| FilterError::new(start, "unterminated string"))?;
    // Without escapes and control characters the JSON string is its content.
    if let Some(plain) = raw.get(1..raw.len() - 1)
        && !plain.bytes().any(|b| b == b'\\' || b < 0x20)
    {
        return Ok((plain.to_owned(), i + 1));
    }
    let s: String = serde_json::from_str(raw)
        .map_err(|e| FilterError::new(start, format!("invalid string literal: {e}")))?;
    Ok((s, i + 1))
}

/// Reads a JSON number (RFC 8259 §6) starting at `start`.
fn lex_number(input: &str, start: usize) -> Result<(serde_json::Number, usize), FilterError> {
    let bytes = input.as_bytes();
    let end = scan(bytes, start + 1, |b| {
        b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')
    });
    let raw = input.get(start..end).unwrap_or_default();
    let invalid = || FilterError::new(start, format!("invalid number {raw:?}"));
    // serde_json validates the JSON grammar; fractions are re-read with std's
    // correctly rounded parser so printed numbers re-parse to the same value.
    let n = raw.parse::<serde_json::Number>().map_err(|_| invalid())?;
    if n.is_f64() {
        let f = raw.parse::<f64>().map_err(|_| invalid())?;
        return Ok((serde_json::Number::from_f64(f).ok_or_else(invalid)?, end));
    }
    Ok((n, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn words_strings_numbers_and_punctuation() {
        assert_eq!(
            kinds(r#"emails[type eq "w\"k"].value ge -1.5e3"#),
            vec![
                Tok::Word("emails".into()),
                Tok::LBracket,
                Tok::Word("type".into()),
                Tok::Word("eq".into()),
                Tok::Str("w\"k".into()),
                Tok::RBracket,
                Tok::Dot,
                Tok::Word("value".into()),
                Tok::Word("ge".into()),
                Tok::Number("-1.5e3".parse().unwrap()),
            ]
        );
    }

    #[test]
    fn positions_are_byte_offsets() {
        let toks = tokenize("é eq").unwrap_err();
        assert_eq!(toks.position, 0);
        let toks = tokenize("a  eq \"x\"").unwrap();
        assert_eq!(
            toks.iter().map(|t| t.pos).collect::<Vec<_>>(),
            vec![0, 3, 6]
        );
    }

    #[test]
    fn bad_literals_are_errors() {
        assert_eq!(tokenize(r#"a eq "abc"#).unwrap_err().position, 5);
        assert!(tokenize(r#"a eq "\q""#).is_err());
        assert!(tokenize("a eq 1.2.3").is_err());
        assert!(tokenize("a eq \"x\u{1}\"").is_err());
    }
}
