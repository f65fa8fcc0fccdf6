#![no_main]
// glasskeep_core::fuzzing::plan must refuse bad ceremony plans, never crash, and keep what it accepts consistent.
libfuzzer_sys::fuzz_target!(|data: &[u8]| glasskeep_core::fuzzing::plan(data));
