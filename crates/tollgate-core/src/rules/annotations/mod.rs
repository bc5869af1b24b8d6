//! Controller annotations: what a controller will do with the text it is given.

/// `snippet-annotation` (TG401).
pub mod snippet_annotation;

#[cfg(test)]
mod tests {
    use crate::rules::test_support::fixture_tests;

    fixture_tests! {
        snippet_annotation => "snippet-annotation",
    }
}
