#![no_main]
// glasskeep_core::fuzzing::ocr_text must refuse or correct OCR output, never crash, and accept only checked envelopes.
libfuzzer_sys::fuzz_target!(|data: &[u8]| glasskeep_core::fuzzing::ocr_text(data));
