//! Text from a token, made safe for a terminal.
//!
//! A token that has not verified is anyone's text, and even a verified one carries what users
//! typed at their identity provider. Terminals act on control characters: ESC and CSI (also as
//! the 8-bit U+009B) start escape sequences, CR and BS rewrite what is shown, and the bidi
//! formatting characters reorder it. So every such character that the tool prints from a token
//! is written as a `\uXXXX` escape, which inside a JSON string is the same string.

/// Whether a terminal could act on `c`: C0 controls, DEL, C1 controls, and the bidi embedding,
/// override and isolate characters.
fn is_unsafe(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character a terminal could act on written as `\uXXXX`.
pub(crate) fn escape_all(text: &str) -> String {
    escape(text, is_unsafe)
}

/// JSON text with every character a terminal could act on written as `\uXXXX`, except the
/// white space that separates JSON tokens (outside strings, where nothing else can be): valid
/// JSON stays valid JSON with the same value, and pretty printing keeps its lines.
pub(crate) fn escape_json(json: &str) -> String {
    let mut in_string = false;
    let mut backslash = false;
    escape(json, |c| {
        let outside = !in_string;
        match c {
            '"' if !backslash => in_string = !in_string,
            _ => {}
        }
        backslash = in_string && c == '\\' && !backslash;
        is_unsafe(c) && !(outside && matches!(c, ' ' | '\t' | '\n' | '\r'))
    })
}

fn escape(text: &str, mut unsafe_char: impl FnMut(char) -> bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if unsafe_char(c) {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_c1_and_bidi_are_escaped() {
        let text = "a\u{1b}[31m\u{9b}31m\u{7f}\u{202e}\u{2066}\u{200b}é😀\n";
        assert_eq!(escape_all(text), "a\\u001b[31m\\u009b31m\\u007f\\u202e\\u2066\u{200b}é😀\\u000a");
    }

    #[test]
    fn json_keeps_its_value_and_its_lines() {
        let json = "{\n  \"a\": \"x\u{9b}y\\\"\u{202e}\",\n\t\"b\\\\\": [\"\u{7f}\"]\r\n}";
        let safe = escape_json(json);
        assert_eq!(safe, "{\n  \"a\": \"x\\u009by\\\"\\u202e\",\n\t\"b\\\\\": [\"\\u007f\"]\r\n}");
        let before: serde_json::Value = serde_json::from_str(json).unwrap();
        let after: serde_json::Value = serde_json::from_str(&safe).unwrap();
        assert_eq!(before, after);
    }
}
