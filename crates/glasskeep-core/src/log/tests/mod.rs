//! Tests of the ceremony log beyond single-module unit tests.

mod builds;
mod malicious;
mod mutation;
mod policy;
mod replay;
mod show;
mod store;
mod survivors;
mod vectors;
