#![no_main]
// glasskeep::fuzzing::sealed_share must refuse bad input, never crash, and round-trip what it accepts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| glasskeep::fuzzing::sealed_share(data));
