#![no_main]
// glasskeep_core::fuzzing::anchor must refuse bad head codes, never crash, and print back what it accepts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| glasskeep_core::fuzzing::anchor(data));
