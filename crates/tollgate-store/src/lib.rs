//! Persistence for history, findings and access summaries (issue 5). Empty for now.
