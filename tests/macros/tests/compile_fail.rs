//! Every mistake `#[api_route]` refuses, one fixture each, with the message and span pinned in
//! the `.stderr` next to it. Regenerate with `TRYBUILD=overwrite` and read the diff.

#[test]
fn ui() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
