//! Renders diagnostics as `file:line:col` with the offending source line
//! and a caret, the way `check` and a failed start print them.

use super::Diagnostic;

/// Line and column (both 1-based, column in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, col)
}

/// Renders one error against the source it came from.
pub fn render(file: &str, text: &str, err: &Diagnostic) -> String {
    let Some(span) = &err.span else {
        return format!("{file}: error: {err}\n");
    };
    let (line, col) = line_col(text, span.start);
    let src_line = text.lines().nth(line - 1).unwrap_or("");
    let width = text
        .get(span.clone())
        .map(|s| s.lines().next().unwrap_or("").chars().count())
        .unwrap_or(1)
        .max(1);
    let gutter = line.to_string().len();
    format!(
        "{file}:{line}:{col}: error: {err}\n{pad} |\n{line} | {src_line}\n{pad} | {spaces}{carets}\n",
        pad = " ".repeat(gutter),
        spaces = " ".repeat(col - 1),
        carets = "^".repeat(width),
    )
}

/// Renders every error, in source order.
pub fn render_all(file: &str, text: &str, errors: &[Diagnostic]) -> String {
    let mut sorted: Vec<&Diagnostic> = errors.iter().collect();
    sorted.sort_by_key(|e| e.span.as_ref().map_or(usize::MAX, |s| s.start));
    sorted.iter().map(|e| render(file, text, e)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_line_and_column() {
        let text = "a = 1\nbb = \"x\"\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        assert_eq!(line_col(text, 11), (2, 6));
    }

    #[test]
    fn renders_caret_under_value() {
        let text = "[server]\nlisten = \"nope\"\n";
        let start = text.find("\"nope\"").unwrap();
        let err = Diagnostic::at("server.listen", start..start + 6, "invalid socket address");
        let out = render("c.toml", text, &err);
        assert!(
            out.starts_with("c.toml:2:10: error: `server.listen`: invalid socket address"),
            "{out}"
        );
        assert!(out.contains("2 | listen = \"nope\""), "{out}");
        assert!(out.contains("  |          ^^^^^^"), "{out}");
    }
}
