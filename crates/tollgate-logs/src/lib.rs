//! Access-log formats, route attribution, aggregation and detectors (issue 4). Empty for now.
