//! PIV attestation: verifying that a key was generated on a genuine YubiKey (or, for a
//! training custody, on the simulator) with the policies it claims (in progress).

/// Which roots a custody trusts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trust {
    /// Yubico's PIV attestation roots only.
    Production,
    /// The simulator's training root only.
    Training,
}
