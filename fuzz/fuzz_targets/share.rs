#![no_main]
// The share decoder must refuse, never crash, and re-encode what it accepts byte for byte.
libfuzzer_sys::fuzz_target!(|data: &[u8]| glasskeep_core::fuzzing::share(data));
