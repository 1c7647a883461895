//! Keeping codes, names and addresses out of logs by type.

use std::fmt;

/// A value that must never reach a log in full.
///
/// `Debug` and `Display` print only a hint (the first character and the length) so a
/// log line can still tell two values apart without revealing either.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Redacted<T>(pub T);

impl<T: AsRef<str>> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0.as_ref();
        match s.chars().next() {
            Some(first) => write!(f, "{first}…({} chars)", s.chars().count()),
            None => f.write_str("(empty)"),
        }
    }
}

impl<T: AsRef<str>> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let r = Redacted("482913");
        assert_eq!(r.to_string(), "4…(6 chars)");
        assert!(!format!("{r:?}").contains("482913"));
        assert_eq!(Redacted("").to_string(), "(empty)");
    }
}
