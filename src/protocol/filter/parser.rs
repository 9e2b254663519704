//! Recursive-descent parser for SCIM filters and PATCH paths.
//!
//! This module owns the grammar of RFC 7644 §3.4.2.2 (Figure 1, with erratum
//! 7319 making the space in `not (` optional) and the PATCH `path` rule of
//! RFC 7644 §3.5.2. Precedence is `not` > `and` > `or`, both binary operators
//! associate to the left. Recursion happens only on `(`, `not (` and `[`, and
//! every such step is counted against [`FilterLimits::max_depth`], so hostile
//! input cannot exhaust the stack; terms are counted as they are read.

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use super::lexer::{Tok, Token, tokenize};
use super::{FilterError, FilterLimits, PatchPath};

/// Parses a filter expression (RFC 7644 §3.4.2.2) within `limits`.
pub fn parse_filter(input: &str, limits: &FilterLimits) -> Result<Filter, FilterError> {
    let mut p = Parser::new(input, limits)?;
    let filter = p.parse_or(false)?;
    p.expect_end()?;
    Ok(filter)
}

/// Parses a PATCH `path`: `attrPath / valuePath [subAttr]` (RFC 7644 §3.5.2).
pub fn parse_patch_path(input: &str, limits: &FilterLimits) -> Result<PatchPath, FilterError> {
    let mut p = Parser::new(input, limits)?;
    let (word, pos) = match p.next() {
        Some(Token {
            tok: Tok::Word(w),
            pos,
        }) => (w, pos),
        other => return Err(p.error_at(other.map(|t| t.pos), "expected an attribute path")),
    };
    let attr = parse_attr_path(&word, pos)?;
    let mut path = PatchPath {
        attr,
        filter: None,
        sub: None,
    };
    if p.peek_is(&Tok::LBracket) {
        let (inner, sub) = p.parse_brackets(&path.attr, pos)?;
        path.filter = Some(inner);
        path.sub = sub;
    }
    p.expect_end()?;
    Ok(path)
}

struct Parser<'a> {
    toks: Vec<Token>,
    i: usize,
    len: usize,
    limits: &'a FilterLimits,
    depth: usize,
    terms: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &str, limits: &'a FilterLimits) -> Result<Self, FilterError> {
        if input.len() > limits.max_len {
            let msg = format!("filter is longer than {} bytes", limits.max_len);
            return Err(FilterError::new(limits.max_len, msg));
        }
        Ok(Self {
            toks: tokenize(input)?,
            i: 0,
            len: input.len(),
            limits,
            depth: 0,
            terms: 0,
        })
    }

    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.i)
    }

    fn peek_is(&self, tok: &Tok) -> bool {
        self.peek().is_some_and(|t| &t.tok == tok)
    }

    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(kw))
    }

    /// Consumes the current token. Tokens are only ever looked at from the
    /// current position on, so the consumed one is moved out, not cloned.
    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get_mut(self.i).map(|t| Token {
            tok: std::mem::replace(&mut t.tok, Tok::Dot),
            pos: t.pos,
        });
        self.i += 1;
        t
    }

    fn pos(&self) -> usize {
        self.peek().map_or(self.len, |t| t.pos)
    }

    fn error_at(&self, pos: Option<usize>, msg: impl Into<String>) -> FilterError {
        FilterError::new(pos.unwrap_or(self.len), msg)
    }

    fn expect(&mut self, tok: &Tok, what: &str) -> Result<(), FilterError> {
        if self.peek_is(tok) {
            self.i += 1;
            Ok(())
        } else {
            Err(FilterError::new(self.pos(), format!("expected {what}")))
        }
    }

    fn expect_end(&self) -> Result<(), FilterError> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(FilterError::new(
                t.pos,
                "unexpected input after the end of the expression",
            )),
        }
    }

    /// Counts one nesting level; fails beyond `max_depth` (bounded recursion).
    fn enter(&mut self) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            let msg = format!(
                "filter is nested deeper than {} levels",
                self.limits.max_depth
            );
            return Err(FilterError::new(self.pos(), msg));
        }
        Ok(())
    }

    fn count_term(&mut self, pos: usize) -> Result<(), FilterError> {
        self.terms += 1;
        if self.terms > self.limits.max_terms {
            let msg = format!("filter has more than {} terms", self.limits.max_terms);
            return Err(FilterError::new(pos, msg));
        }
        Ok(())
    }

    /// `FILTER = ... / FILTER SP "or" SP FILTER` (lowest precedence).
    fn parse_or(&mut self, in_value_path: bool) -> Result<Filter, FilterError> {
        let mut left = self.parse_and(in_value_path)?;
        while self.peek_keyword("or") {
            self.i += 1;
            let right = self.parse_and(in_value_path)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `FILTER SP "and" SP FILTER` (binds tighter than `or`).
    fn parse_and(&mut self, in_value_path: bool) -> Result<Filter, FilterError> {
        let mut left = self.parse_unary(in_value_path)?;
        while self.peek_keyword("and") {
            self.i += 1;
            let right = self.parse_unary(in_value_path)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `*1"not" "(" FILTER ")"`, a parenthesised group, or an attribute expression.
    fn parse_unary(&mut self, in_value_path: bool) -> Result<Filter, FilterError> {
        let not_paren = self.peek_keyword("not")
            && self
                .toks
                .get(self.i + 1)
                .is_some_and(|t| t.tok == Tok::LParen);
        if self.peek_keyword("not") && !not_paren {
            let pos = self.toks.get(self.i + 1).map(|t| t.pos);
            return Err(self.error_at(pos, "expected \"(\" after \"not\""));
        }
        if not_paren {
            self.i += 1;
        }
        if self.peek_is(&Tok::LParen) {
            self.enter()?;
            self.i += 1;
            let inner = self.parse_or(in_value_path)?;
            self.expect(&Tok::RParen, "\")\"")?;
            self.depth -= 1;
            return Ok(if not_paren {
                Filter::Not(Box::new(inner))
            } else {
                inner
            });
        }
        match self.next() {
            Some(Token {
                tok: Tok::Word(w),
                pos,
            }) => self.parse_attr_exp(&w, pos, in_value_path),
            other => Err(self.error_at(
                other.map(|t| t.pos),
                "expected an attribute path, \"(\" or \"not\"",
            )),
        }
    }

    /// `attrPath SP "pr"`, `attrPath SP compareOp SP compValue`, or a value path.
    fn parse_attr_exp(
        &mut self,
        word: &str,
        pos: usize,
        in_vp: bool,
    ) -> Result<Filter, FilterError> {
        let path = parse_attr_path(word, pos)?;
        if self.peek_is(&Tok::LBracket) {
            if in_vp {
                return Err(FilterError::new(self.pos(), "value paths cannot be nested"));
            }
            return self.parse_value_path(path, pos);
        }
        self.count_term(pos)?;
        let op_word = match self.peek() {
            Some(Token {
                tok: Tok::Word(w), ..
            }) => w.clone(),
            _ => return Err(self.missing_op(word)),
        };
        if op_word.eq_ignore_ascii_case("pr") {
            self.i += 1;
            return Ok(Filter::Present(path));
        }
        let op = CompareOp::from_keyword(&op_word).ok_or_else(|| self.missing_op(word))?;
        self.i += 1;
        let value = self.parse_value(&op_word)?;
        Ok(Filter::Compare { path, op, value })
    }

    fn missing_op(&self, word: &str) -> FilterError {
        FilterError::new(
            self.pos(),
            format!("expected a comparison operator after {word:?}"),
        )
    }

    /// `valuePath = attrPath "[" valFilter "]"`. Entra also sends
    /// `emails[type eq "work"].value eq "x"` as a filter (idp-behavior §3.1(c));
    /// it is read as `emails[type eq "work" and value eq "x"]`, which means the same.
    fn parse_value_path(&mut self, path: AttrPath, pos: usize) -> Result<Filter, FilterError> {
        let (mut inner, sub) = self.parse_brackets(&path, pos)?;
        if let Some(sub) = sub {
            // Entra: `emails[type eq "work"].value eq "…"` (idp-behavior §3.1(c)).
            // The term is folded into the brackets, where a bare `not` would
            // read as the operator: refuse it as a name (found by fuzzing).
            if sub.eq_ignore_ascii_case("not") {
                return Err(FilterError::new(
                    pos,
                    "`not` cannot name a sub-attribute after a value filter",
                ));
            }
            let sub_pos = self.pos();
            let rest = self.parse_attr_exp(&sub, sub_pos, true)?;
            inner = Filter::And(Box::new(inner), Box::new(rest));
        }
        Ok(Filter::ValuePath {
            path,
            filter: Box::new(inner),
        })
    }

    /// Reads `"[" valFilter "]" ["." ATTRNAME]` after `path`.
    fn parse_brackets(
        &mut self,
        path: &AttrPath,
        pos: usize,
    ) -> Result<(Filter, Option<String>), FilterError> {
        if path.sub.is_some() {
            return Err(FilterError::new(
                pos,
                "a value filter cannot follow a sub-attribute",
            ));
        }
        self.enter()?;
        self.i += 1;
        let inner = self.parse_or(true)?;
        self.expect(&Tok::RBracket, "\"]\"")?;
        self.depth -= 1;
        if !self.peek_is(&Tok::Dot) {
            return Ok((inner, None));
        }
        self.i += 1;
        match self.next() {
            Some(Token {
                tok: Tok::Word(w),
                pos,
            }) => {
                check_name(&w, pos)?;
                Ok((inner, Some(w)))
            }
            other => Err(self.error_at(
                other.map(|t| t.pos),
                "expected a sub-attribute name after \".\"",
            )),
        }
    }

    /// `compValue = false / null / true / number / string`.
    fn parse_value(&mut self, op: &str) -> Result<CompValue, FilterError> {
        let pos = self.pos();
        let value = match self.next().map(|t| t.tok) {
            Some(Tok::Str(s)) => CompValue::Str(s),
            Some(Tok::Number(n)) => CompValue::Number(n),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("true") => CompValue::Bool(true),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("false") => CompValue::Bool(false),
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("null") => CompValue::Null,
            _ => {
                let msg =
                    format!("expected a value (string, number, true, false or null) after {op:?}");
                return Err(FilterError::new(pos, msg));
            }
        };
        Ok(value)
    }
}

/// Splits `[URI ":"] ATTRNAME ["." subAttr]`; the URN is everything up to the
/// last `:` (RFC 7644 §3.10).
pub fn parse_attr_path(word: &str, pos: usize) -> Result<AttrPath, FilterError> {
    let (urn, rest, rest_pos) = if word.len() > 4
        && word
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
    {
        match word.rfind(':') {
            Some(idx) => (
                Some(word.get(..idx).unwrap_or_default().to_owned()),
                word.get(idx + 1..).unwrap_or_default(),
                pos + idx + 1,
            ),
            None => (None, word, pos),
        }
    } else {
        (None, word, pos)
    };
    let mut parts = rest.splitn(2, '.');
    let name = parts.next().unwrap_or_default();
    check_name(name, rest_pos)?;
    let sub = match parts.next() {
        Some(sub) => {
            check_name(sub, rest_pos + name.len() + 1)?;
            Some(sub.to_owned())
        }
        None => None,
    };
    Ok(AttrPath {
        urn,
        name: name.to_owned(),
        sub,
    })
}

/// `ATTRNAME = ALPHA *(nameChar)`; `$ref` is accepted too (RFC 7643 §2.1 uses it).
fn check_name(name: &str, pos: usize) -> Result<(), FilterError> {
    let mut chars = name.bytes();
    let first_ok = chars
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'$');
    let rest_ok = chars.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(FilterError::new(
            pos,
            format!("invalid attribute name {name:?}"),
        ))
    }
}
