//! Tests of the ceremony log beyond single-module unit tests.

mod malicious;
mod mutation;
mod policy;
mod replay;
mod show;
mod store;
mod vectors;
