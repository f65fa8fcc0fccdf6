#![no_main]
// glasskeep_core::fuzzing::log_file must refuse bad input, never crash, and round-trip what it accepts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| glasskeep_core::fuzzing::log_file(data));
