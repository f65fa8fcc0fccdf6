//! Reading an envelope a custodian brings: the `.gkenv` file glasskeep wrote, a photo
//! or scan of the printed page, QR payload strings, or the typed-text fallback.

use std::path::{Path, PathBuf};

use crate::envelope::scan;
use crate::envelope::{Envelope, Fingerprint};

use super::CeremonyError;

/// An envelope read from a file, with its fingerprint.
#[derive(Debug, Clone)]
pub struct EnvelopeFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// The decoded envelope.
    pub envelope: Envelope,
    /// SHA-256 of its canonical encoding (what the log records).
    pub fingerprint: Fingerprint,
}

/// Reads an envelope in any of its forms (the decoder recognises each by its bytes).
pub fn load_envelope(path: &Path) -> Result<EnvelopeFile, CeremonyError> {
    let bytes = crate::input::read_at_most(path, crate::input::MAX_INPUT_FILE)
        .map_err(|e| CeremonyError::io(path, e))?;
    let wrap = |source: scan::ScanError| CeremonyError::Envelope {
        path: path.to_owned(),
        source,
    };
    let envelope = scan::decode_file(&bytes).map_err(wrap)?;
    let fingerprint = envelope
        .fingerprint()
        .map_err(|e| wrap(scan::ScanError::Envelope(e)))?;
    Ok(EnvelopeFile {
        path: path.to_owned(),
        envelope,
        fingerprint,
    })
}
