//! The heart of Tollgate: Kubernetes objects as loaded, the route inventory, the rule catalog, and
//! the report renderers. No async, no network, no database: fast to compile and to test.

pub mod admission;
pub mod admission_policy;
pub mod audit;
pub mod baseline;
pub mod cert;
pub mod change;
pub mod compliance;
pub mod config;
pub mod controller;
pub mod docs;
pub mod drift;
pub mod engine;
pub mod gateway;
pub mod installation;
pub mod inventory;
pub mod manifest;
pub mod migrate;
pub mod object;
pub mod rbac;
pub mod render;
pub mod report;
pub mod rules;
pub mod service;
pub mod yaml;
