#![no_main]
// glasskeep::fuzzing::base45 must refuse bad input, never crash, and round-trip what it accepts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| glasskeep::fuzzing::base45(data));
