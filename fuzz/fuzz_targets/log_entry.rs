#![no_main]
// glasskeep::fuzzing::log_entry must refuse bad input, never crash, and round-trip what it accepts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| glasskeep::fuzzing::log_entry(data));
