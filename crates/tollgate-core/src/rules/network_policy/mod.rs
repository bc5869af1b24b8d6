//! Network policy: whether the pods behind a route accept traffic only from where they should.

#[cfg(test)]
mod tests {
    #[allow(unused_imports)]
    use crate::rules::test_support::fixture_tests;
}
