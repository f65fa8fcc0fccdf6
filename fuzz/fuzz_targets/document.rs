#![no_main]
// glasskeep_core::fuzzing::document must lay out any text as a PDF and as plain text, never crash.
libfuzzer_sys::fuzz_target!(|data: &[u8]| glasskeep_core::fuzzing::document(data));
