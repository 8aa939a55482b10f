//! A JSON text measured before it is parsed: its nesting and its number of items, in one pass
//! over the bytes that builds nothing, so a body too deep or too large to hold in memory is
//! refused before any value exists.

use super::{depth::TooDeep, items::TooManyItems};

/// A JSON text past one of the limits of [`check_text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextTooLarge {
    /// It opens more arrays and objects at once than allowed.
    #[error(transparent)]
    TooDeep(#[from] TooDeep),
    /// It holds more array elements and object members than allowed.
    #[error(transparent)]
    TooManyItems(#[from] TooManyItems),
}

impl TextTooLarge {
    /// The limit that was passed.
    pub fn limit(&self) -> usize {
        match self {
            TextTooLarge::TooDeep(error) => error.limit,
            TextTooLarge::TooManyItems(error) => error.limit,
        }
    }
}

/// `Err` when the JSON text `bytes` opens more than `depth_limit` arrays and objects at once,
/// or holds more than `item_limit` array elements and object members in all (each non-empty
/// array or object counts one item, each comma outside a string one more). Brackets and commas
/// inside strings (escapes included) are not counted; text that is not JSON is left for the
/// parser to refuse.
pub fn check_text(bytes: &[u8], depth_limit: usize, item_limit: usize) -> Result<(), TextTooLarge> {
    let (mut depth, mut items) = (0usize, 0usize);
    let mut in_string = false;
    let mut escaped = false;
    // Just after `[` or `{`: the next byte that is not whitespace tells whether it is empty.
    let mut opened = false;
    for &byte in bytes {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if byte.is_ascii_whitespace() {
            continue;
        }
        if std::mem::take(&mut opened) && byte != b']' && byte != b'}' {
            items += 1;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                opened = true;
                depth += 1;
                if depth > depth_limit {
                    return Err(TooDeep { limit: depth_limit }.into());
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => items += 1,
            _ => {}
        }
        if items > item_limit {
            return Err(TooManyItems { limit: item_limit }.into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_pass_reports_whichever_limit_is_passed_first() {
        assert_eq!(check_text(b"[[1, 2]]", 2, 3), Ok(()));
        assert_eq!(
            check_text(b"[[[1]]]", 2, 100),
            Err(TextTooLarge::TooDeep(TooDeep { limit: 2 }))
        );
        assert_eq!(
            check_text(b"[1, 2, 3, 4]", 10, 3),
            Err(TextTooLarge::TooManyItems(TooManyItems { limit: 3 }))
        );
        // Brackets and commas inside strings count for nothing.
        assert_eq!(check_text(br#"["[[[,,,\"]]]"]"#, 1, 1), Ok(()));
    }
}
