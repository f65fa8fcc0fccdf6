//! The enumerations entries carry: entry kinds, secret kinds, review verdicts. Their
//! numbers are part of the byte format (FORMAT.md); their names are what the command
//! line and the transcript use.

/// The kind of an entry, as its number in the entry map (key 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The custody is created.
    Genesis = 0,
    /// A custodian and their YubiKey join.
    Enroll = 1,
    /// A share set is sealed.
    Seal = 2,
    /// A set is opened: the secret was reconstructed.
    Open = 3,
    /// A set was reconstructed to prove it works, revealing nothing.
    Drill = 4,
    /// One custodian proved their share opens.
    ShareCheck = 5,
    /// A set is superseded by a new one.
    Rotate = 6,
    /// A paper envelope was destroyed.
    EnvelopeDestroyed = 7,
    /// An opening was reviewed.
    Review = 8,
    /// The present custodians signed the head.
    Checkpoint = 9,
    /// A custodian left the custody.
    Retire = 10,
    /// A quorum activated a pending set before every custodian acknowledged it.
    Activate = 11,
}

impl Kind {
    /// The kind's name as `log show` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Genesis => "genesis",
            Kind::Enroll => "enroll",
            Kind::Seal => "seal",
            Kind::Open => "open",
            Kind::Drill => "drill",
            Kind::ShareCheck => "share-check",
            Kind::Rotate => "rotate",
            Kind::EnvelopeDestroyed => "envelope-destroyed",
            Kind::Review => "review",
            Kind::Checkpoint => "checkpoint",
            Kind::Retire => "retire",
            Kind::Activate => "activate",
        }
    }

    pub(crate) fn from_code(code: u64) -> Option<Kind> {
        Some(match code {
            0 => Kind::Genesis,
            1 => Kind::Enroll,
            2 => Kind::Seal,
            3 => Kind::Open,
            4 => Kind::Drill,
            5 => Kind::ShareCheck,
            6 => Kind::Rotate,
            7 => Kind::EnvelopeDestroyed,
            8 => Kind::Review,
            9 => Kind::Checkpoint,
            10 => Kind::Retire,
            11 => Kind::Activate,
            _ => return None,
        })
    }
}

/// What a share set protects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretKind {
    /// A password.
    Password = 0,
    /// A TOTP seed.
    Totp = 1,
    /// Recovery codes.
    RecoveryCodes = 2,
    /// An arbitrary file (PEM, wrap key).
    File = 3,
}

impl SecretKind {
    const ALL: [SecretKind; 4] = [
        SecretKind::Password,
        SecretKind::Totp,
        SecretKind::RecoveryCodes,
        SecretKind::File,
    ];

    /// The name the command line uses.
    pub fn name(self) -> &'static str {
        match self {
            SecretKind::Password => "password",
            SecretKind::Totp => "totp",
            SecretKind::RecoveryCodes => "recovery-codes",
            SecretKind::File => "file",
        }
    }

    /// The kind the command line names `name` (`--kind`).
    pub fn from_name(name: &str) -> Option<SecretKind> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl Verdict {
    /// The name the command line uses (`--verdict`).
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Justified => "justified",
            Verdict::Unjustified => "unjustified",
        }
    }

    /// The verdict named `name`.
    pub fn from_name(name: &str) -> Option<Verdict> {
        [Verdict::Justified, Verdict::Unjustified]
            .into_iter()
            .find(|v| v.name() == name)
    }
}

/// A review's verdict on an opening.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The opening was justified.
    Justified = 0,
    /// The opening was not justified.
    Unjustified = 1,
}
