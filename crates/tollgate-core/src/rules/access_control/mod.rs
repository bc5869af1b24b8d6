//! Access control: who may reach a route (authentication, IP allow-lists, rate limits, WAF, CORS).

#[cfg(test)]
mod tests {
    #[allow(unused_imports)]
    use crate::rules::test_support::fixture_tests;
}
