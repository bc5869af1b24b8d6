//! Backend health: whether the workloads behind a route can serve it reliably.

#[cfg(test)]
mod tests {
    #[allow(unused_imports)]
    use crate::rules::test_support::fixture_tests;
}
