//! What a failed validation reports, whichever checker found it: at most [`MAX_ISSUES`]
//! issues and a count of the rest, each message cut to a bounded length, so neither the
//! number of failing values nor their size makes an error body grow without end.

use std::fmt::{self, Write as _};

use serde_json::Value;

use super::Issue;

/// Most issues listed for one value; further failing values are counted in one last issue.
pub const MAX_ISSUES: usize = 20;

/// Longest excerpt of the client's input an issue message quotes, in bytes (cut on a character
/// boundary, with an ellipsis).
pub const MAX_EXCERPT_BYTES: usize = 120;

/// Longest issue message, in bytes: an excerpt plus the words around it, or a list of names
/// taken from the input (unexpected properties).
pub const MAX_MESSAGE_BYTES: usize = 512;

/// Values with at most this many arrays, objects and scalars have their errors collected by
/// jsonschema in one go (bounded by their size); larger ones are walked part by part.
pub const SMALL_VALUE_NODES: usize = 256;

/// The issues found so far: the first [`MAX_ISSUES`], and how many more.
#[derive(Default)]
pub(crate) struct Sink {
    listed: Vec<Issue>,
    pub(crate) more: u64,
}

impl Sink {
    pub(crate) fn full(&self) -> bool {
        self.listed.len() >= MAX_ISSUES
    }

    pub(crate) fn add(&mut self, issue: impl FnOnce() -> Issue) {
        if self.full() {
            self.more += 1;
        } else {
            self.listed.push(issue());
        }
    }

    pub(crate) fn into_issues(mut self) -> Vec<Issue> {
        if self.more > 0 {
            self.listed.push(Issue::new(
                "",
                format!(
                    "{} more invalid {} not listed (the first {MAX_ISSUES} issues are)",
                    self.more,
                    if self.more == 1 { "value" } else { "values" }
                ),
            ));
        }
        self.listed
    }
}

/// One step of the path from the whole value to the one being checked.
#[derive(Clone, Copy)]
pub(crate) enum Segment<'v> {
    Key(&'v str),
    Index(usize),
}

/// An issue's field as it is written: parts joined with dots (`messages.0.role`), empty for
/// the whole value.
#[derive(Default)]
pub(crate) struct Field(String);

impl Field {
    /// The field at `path`.
    pub(crate) fn at(path: &[Segment<'_>]) -> Self {
        let mut field = Self::default();
        for segment in path {
            match segment {
                Segment::Key(key) => field.push(key),
                Segment::Index(index) => field.push(index),
            }
        }
        field
    }

    /// `part` below the field so far.
    pub(crate) fn push(&mut self, part: impl fmt::Display) {
        if !self.0.is_empty() {
            self.0.push('.');
        }
        let _ = write!(self.0, "{part}");
    }

    pub(crate) fn into_string(self) -> String {
        self.0
    }
}

/// `message` cut to [`MAX_MESSAGE_BYTES`] with an ellipsis (serde's errors quote a string
/// value whole: `invalid type: string "...", expected ...`).
pub(crate) fn short_message(message: &dyn fmt::Display) -> String {
    bounded(MAX_MESSAGE_BYTES, |w| write!(w, "{message}"))
}

/// `value` as compact JSON, cut to [`MAX_EXCERPT_BYTES`] with an ellipsis.
pub(crate) fn excerpt(value: &Value) -> String {
    bounded(MAX_EXCERPT_BYTES, |w| write!(w, "{value}"))
}

/// What `write` writes, cut to `limit` bytes on a character boundary with `…` after it.
/// Writing stops at the limit, so the cost does not depend on what would have followed.
pub(crate) fn bounded(limit: usize, write: impl FnOnce(&mut Bounded) -> fmt::Result) -> String {
    let mut out = Bounded {
        text: String::new(),
        limit,
        cut: false,
    };
    // An error here is the writer saying "enough", or a value that cannot be shown: either
    // way what was written so far is the excerpt.
    let _ = write(&mut out);
    if out.cut {
        out.text.push('…');
    }
    out.text
}

/// A `fmt::Write` that keeps at most `limit` bytes and refuses the rest.
pub(crate) struct Bounded {
    text: String,
    limit: usize,
    cut: bool,
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.limit - self.text.len();
        if s.len() <= room {
            self.text.push_str(s);
            return Ok(());
        }
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.text.push_str(&s[..end]);
        self.cut = true;
        Err(fmt::Error)
    }
}
