//! The command line, as DESIGN.md's contract gives it (extended, never renamed).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Offline break-glass custody: t-of-n shares sealed to YubiKeys, paper envelopes, and a
/// signed, hash-chained ceremony log.
#[derive(Debug, Parser)]
#[command(name = "glasskeep", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    /// Custody folder (ceremony.log, envelopes/). Default: $GLASSKEEP_DIR, else ".".
    #[arg(long, global = true, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The exit codes, one table for every command (also in README.md and the man page).
pub const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  refused: the request breaks a rule (unknown label, threshold, text, entries after
     the last checkpoint, a production custody on a network), or `log verify` /
     `status` / `doctor` found a failure or a violation (something not done within its
     window)
  2  usage error
  3  a YubiKey, reader or pcscd problem (wrong PIN, no touch, wrong card)
  4  an input file or secret could not be read or decoded
  5  no custody in the folder, or the log could not be read or written
  6  the log does not verify: no ceremony acts on it (report it)
  7  the custodians present are not the quorum the act needs
  8  the log is not the one the last ceremony sheet records (--anchor)
  9  not confirmed by the people present: nothing was recorded
 10  INCIDENT: an envelope the log does not vouch for (destroyed, rotated away, unknown)
 11  `log verify --strict` / `status --strict`: everything verifies, but work is pending
     within its window (a review, a rotation, envelopes to destroy, a first seal)
130  aborted (Ctrl-C, or the terminal closed): nothing was recorded unless the message
     says what was";

/// Where `open` puts the secret (`open --help`).
#[cfg(feature = "card")]
pub const OPEN_HELP: &str = "\
Where the secret goes:
  terminal   by default, on the terminal's alternate screen, after the alarm notice was
             confirmed sent; Enter clears it, so it never reaches the scrollback. --qr
             adds a QR code of it. A TOTP seed also shows its current code; recovery
             codes are listed one per line, numbered.
  --output   a new file, mode 0600, the exact bytes as sealed.
  --stdout   the exact bytes as sealed, no newline added, to standard output.
When standard output is not a terminal (a pipe or a redirect), `open` refuses with
exit code 2 before anything else unless --output or --stdout is given: a secret never
goes into a pipe by accident. The alarm notice always goes to standard error.

Example:
  glasskeep open --label aws-root --reason \"SSO down, need console\" --incident INC-4711 \\
      --envelope alice.gkenv --envelope bob.gkenv
  (alice, then bob: each inserts their YubiKey, types their PIN once and touches it when asked)";

/// `doctor --help`'s example.
#[cfg(feature = "card")]
const DOCTOR_EXAMPLE: &str = "\
Example:
  glasskeep --dir /media/custody doctor
(with the custody's folder, each YubiKey is named by its custodian)
  [ok]   pcscd answers
  [FAIL] reader Yubico YubiKey OTP+FIDO+CCID 00 00 is held by another process
         -> if gpg is running, `gpgconf --kill scdaemon`; close ykman, ...
  [warn] YubiKey 1002 (bob): 2 PIN tries left";

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The ceremonies: they use custodians' YubiKeys.
    #[cfg(feature = "card")]
    #[command(flatten)]
    Ceremony(CeremonyCommand),
    /// Custodians and their YubiKeys.
    #[command(subcommand)]
    Custodian(CustodianCommand),
    /// Paper envelopes.
    #[command(subcommand)]
    Envelope(EnvelopeCommand),
    /// What is sealed and open; what is pending (within its window) and what is a
    /// violation (past it). Exit 1 on a violation.
    #[command(after_help = "Example:\n  glasskeep --dir /safe/custody status")]
    Status {
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
        /// Pending items exit 11 instead of 0.
        #[arg(long)]
        strict: bool,
    },
    /// The ceremony log.
    #[command(subcommand)]
    Log(LogCommand),
    /// Write the recovery kit that goes into the safe beside the envelopes:
    /// RECOVERY.pdf, recover.py, and the live sets with their envelope fingerprints
    /// (live-sets.pdf, live-sets.txt). Verifies the log first and needs no YubiKey;
    /// DIR may exist, but no file in it is overwritten.
    #[command(
        after_help = "Example:\n  glasskeep --dir /media/custody recovery-kit /media/kit-2026-11"
    )]
    RecoveryKit {
        /// The folder to write the kit into (created if missing).
        #[arg(value_name = "DIR")]
        folder: PathBuf,
        /// Paper size of the PDFs.
        #[arg(long, value_enum, default_value_t = PaperSize::A4)]
        paper: PaperSize,
    },
    /// Print a ceremony's runbook: roles, numbered steps with the exact commands, what
    /// to check on screen, what to do when a step fails, and sign-off lines. Without
    /// NAME, list the runbooks.
    #[command(after_help = "Example:\n  glasskeep runbook rotation --format pdf -o rotation.pdf")]
    Runbook {
        /// The runbook.
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(glasskeep::documents::RUNBOOK_NAMES))]
        name: Option<String>,
        /// Output format: the Markdown source, or a PDF to print.
        #[arg(long, value_enum, default_value_t = DocumentFormat::Md)]
        format: DocumentFormat,
        /// Paper size (pdf).
        #[arg(long, value_enum, default_value_t = PaperSize::A4)]
        paper: PaperSize,
        /// Write to this new file instead of standard output.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Ceremony plans: what a ceremony will do, published before it.
    #[command(subcommand)]
    Plan(PlanCommand),
    /// Print shell completions.
    #[command(
        after_help = "Example:\n  glasskeep completions bash > /etc/bash_completion.d/glasskeep"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_help = "Example:\n  glasskeep man > glasskeep.1")]
    Man,
}

/// What every ceremony takes.
#[cfg(feature = "card")]
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// The head hash from the last ceremony sheet (at least its first 16 hex digits);
    /// asked for on the terminal when absent. A training custody may go without.
    #[arg(long, value_name = "HEX")]
    pub anchor: Option<String>,
    /// Record and sign without asking for confirmation (scripted drills and tests);
    /// the entries are still printed.
    #[arg(long)]
    pub yes: bool,
    /// Read YubiKey PINs from this file, one per line in the order the cards are used
    /// (scripted drills and tests; people are asked without echo, and may retry).
    #[arg(long, value_name = "FILE", conflicts_with = "pin_fd")]
    pub pin_file: Option<PathBuf>,
    /// Read YubiKey PINs from this inherited file descriptor, one per line.
    #[arg(long, value_name = "N")]
    pub pin_fd: Option<u32>,
    /// How long to wait for each custodian's YubiKey to be inserted (e.g. 90s, 10m).
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    pub wait: std::time::Duration,
    /// Run a ceremony of a production custody although a network interface is up or a
    /// default route exists (the machine is expected to be air-gapped).
    #[arg(long)]
    pub allow_network: bool,
    /// Accept --pin-file/--pin-fd on a production custody (a production ceremony
    /// otherwise refuses them: a PIN in a file can be copied, custodians type theirs).
    #[arg(long)]
    pub allow_scripted_pins: bool,
    /// Carry out an act of this ceremony plan (see `glasskeep plan check`): the command
    /// must match one of its acts, for this custody, on its day; otherwise it is refused
    /// before any card. The checkpoint records the plan's SHA-256.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Show whose YubiKeys would be asked for (PINs, touches) and every entry that would
    /// be written, then stop: no card is used, no secret read, nothing written.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub sheet: SheetArgs,
}

/// The ceremony sheet: what every ceremony (and `init`) may print once it committed.
#[cfg(feature = "card")]
#[derive(Debug, Clone, clap::Args)]
pub struct SheetArgs {
    /// Once the ceremony is recorded, print its sheet to this new PDF: the entries
    /// written, the new head as hex and as a QR code, the live sets with their envelope
    /// fingerprints, and a signature line for each person present. An existing file is
    /// refused before anything else.
    #[arg(long, value_name = "FILE.pdf")]
    pub sheet: Option<PathBuf>,
    /// Paper size of the sheet.
    #[arg(long = "paper", value_name = "PAPER", value_enum, default_value_t = PaperSize::A4, requires = "sheet")]
    pub sheet_paper: PaperSize,
    /// Someone present who signs the sheet but not the log (an auditor, a notary);
    /// repeat for each. At most 64 bytes, no control characters.
    #[arg(long = "witness", value_name = "NAME", requires = "sheet")]
    pub sheet_witnesses: Vec<String>,
}

/// The commands that need YubiKeys (left out of the auditor's build).
#[cfg(feature = "card")]
#[derive(Debug, Subcommand)]
pub enum CeremonyCommand {
    /// Start a new custody: writes the genesis entry of ceremony.log.
    #[command(
        after_help = "Example:\n  glasskeep --dir /safe/custody init --org \"Example Corp\" --quorum 2"
    )]
    Init {
        /// The organisation's name, printed on every envelope.
        #[arg(long)]
        org: String,
        /// A training custody: trusts the simulator's attestation root instead of
        /// Yubico's, and says TRAINING on every output.
        #[arg(long)]
        training: bool,
        /// The custody quorum: how many custodians enrollment (after the first),
        /// retirement and a bare checkpoint need. At least 2.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(2..))]
        quorum: u8,
        /// The custodians' term (e.g. 365d, 6months): each must show by a share check
        /// or a drill within it that their YubiKey, PIN and envelope still work; 30 days
        /// after it runs out it is a violation. Between 1 day and 3650 days.
        #[arg(long, default_value = "365d", value_parser = humantime::parse_duration)]
        term: std::time::Duration,
        #[command(flatten)]
        sheet: SheetArgs,
    },
    /// YubiKeys and readers.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Check this machine before a ceremony: pcscd, readers held by other processes,
    /// the YubiKeys present (serial, firmware, PIN and PUK tries left, whose they are),
    /// the clock against the log, and that no network is up. Changes nothing and spends
    /// no PIN try. Exit 0 when nothing fails, 3 for a card, reader or pcscd failure, 1
    /// for any other.
    #[command(after_help = DOCTOR_EXAMPLE)]
    Doctor {
        /// Machine-readable report.
        #[arg(long)]
        json: bool,
    },
    /// Split a secret t-of-n and seal one share to each custodian's YubiKey.
    /// The secret comes from stdin or a no-echo prompt, never argv or the environment.
    #[command(
        after_help = "Example:\n  glasskeep seal --label aws-root --threshold 2 --custodians alice,bob,carol --kind password --rotate-within 24h --cosigners alice,bob,carol\n  (the secret is typed twice without echo, or read from stdin)"
    )]
    Seal {
        /// The credential's label ("aws-root").
        #[arg(long)]
        label: String,
        /// Custodians needed to open (at least 2).
        #[arg(long)]
        threshold: usize,
        /// Comma-separated custodian names, one share each.
        #[arg(long, value_delimiter = ',', required = true)]
        custodians: Vec<String>,
        /// What the secret is.
        #[arg(long, value_enum, default_value_t = SecretKind::Password)]
        kind: SecretKind,
        /// Deadline for rotating the credential after an opening (e.g. 24h, 3d).
        #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
        rotate_within: std::time::Duration,
        /// Deadline for reviewing an opening, by someone who did not take part (e.g.
        /// 7d); recorded in the seal entry. Until then an unreviewed opening is pending,
        /// after it a violation.
        #[arg(long, default_value = "7d", value_parser = humantime::parse_duration)]
        review_within: std::time::Duration,
        /// Who cosigns (at least the threshold of the set's custodians); default: the
        /// set's custodians whose YubiKeys are inserted.
        #[arg(long, value_delimiter = ',')]
        cosigners: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Open a sealed credential with envelopes of at least `threshold` custodians.
    /// The alarm notice comes first (stderr); the secret is shown on the terminal's
    /// alternate screen and cleared, or goes to --output FILE or --stdout.
    #[command(after_help = OPEN_HELP)]
    Open {
        /// The credential's label.
        #[arg(long)]
        label: String,
        /// Why the credential is being opened (recorded in the log).
        #[arg(long)]
        reason: String,
        /// Incident or ticket id.
        #[arg(long)]
        incident: Option<String>,
        /// Envelope files (.gkenv, scanned PNG/JPEG, or typed text).
        #[arg(long = "envelope", required = true)]
        envelopes: Vec<PathBuf>,
        /// Write the secret, exactly as sealed, to this new file (mode 0600); an
        /// existing file is refused before the ceremony.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["stdout", "qr"])]
        output: Option<PathBuf>,
        /// Write the secret, exactly as sealed (no newline added), to standard output
        /// even when it is a pipe or a file.
        #[arg(long, conflicts_with = "qr")]
        stdout: bool,
        /// Also show the secret as a QR code on the terminal's alternate screen.
        #[arg(long)]
        qr: bool,
        /// Also write the alarm notice to F: text when F ends in .txt, a QR image when it
        /// ends in .png, else both as F.txt and F.png (new files).
        #[arg(long, value_name = "F")]
        alarm_file: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Prove a set still reconstructs, revealing nothing.
    #[command(
        after_help = "Example:\n  glasskeep drill --label aws-root --envelope alice.gkenv --envelope carol.gkenv"
    )]
    Drill {
        /// The credential's label.
        #[arg(long)]
        label: String,
        /// Envelope files.
        #[arg(long = "envelope", required = true)]
        envelopes: Vec<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// One custodian proves their share still opens, revealing nothing.
    #[command(
        after_help = "Example:\n  glasskeep check-share --envelope envelopes/aws-root-.../2-bob.gkenv"
    )]
    CheckShare {
        /// The custodian's envelope.
        #[arg(long)]
        envelope: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Replace a credential's share set with a new secret (from stdin).
    #[command(
        after_help = "Example:\n  glasskeep rotate --label aws-root --cosigners alice,bob,carol\n  (keeps the credential's kind unless --kind is given)"
    )]
    Rotate {
        /// The credential's label.
        #[arg(long)]
        label: String,
        /// New custodians (default: the same).
        #[arg(long, value_delimiter = ',')]
        custodians: Option<Vec<String>>,
        /// New threshold (default: the same).
        #[arg(long)]
        threshold: Option<usize>,
        /// Change what the credential is (default: it keeps its kind).
        #[arg(long, value_enum)]
        kind: Option<SecretKind>,
        /// Deadline for reviewing an opening of the new set (e.g. 7d); default: the
        /// old set's.
        #[arg(long, value_parser = humantime::parse_duration)]
        review_within: Option<std::time::Duration>,
        /// Who cosigns (at least the old set's threshold of its custodians, and the
        /// new set's of its own); default: those whose YubiKeys are inserted.
        #[arg(long, value_delimiter = ',')]
        cosigners: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Activate a rotation's new set before every custodian has acknowledged it.
    ///
    /// Acknowledging is check-share on one's new envelope. The old set is superseded
    /// and the log records who had not acknowledged. Needs the old set's threshold of its custodians, and at
    /// least the new set's threshold of acknowledgements.
    #[command(
        after_help = "Example:\n  glasskeep activate --label aws-root --cosigners alice,bob"
    )]
    Activate {
        /// The credential's label.
        #[arg(long)]
        label: String,
        /// Who cosigns; default: the custodians whose YubiKeys are inserted.
        #[arg(long, value_delimiter = ',')]
        cosigners: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Close an opening with a verdict.
    #[command(
        after_help = "Example:\n  glasskeep review --open 12 --verdict justified --notes \"INC-4711 confirmed\" --cosigners carol,dave"
    )]
    Review {
        /// Sequence number of the open entry.
        #[arg(long = "open")]
        open_seq: u64,
        /// The verdict.
        #[arg(long, value_enum)]
        verdict: Verdict,
        /// Notes for the record.
        #[arg(long)]
        notes: String,
        /// Who cosigns (at least one custodian who did not take part in the opening);
        /// default: the custodians whose YubiKeys are inserted.
        #[arg(long, value_delimiter = ',')]
        cosigners: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
}

#[cfg(feature = "card")]
/// `token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Readers, serials, firmware and slots in use.
    #[command(after_help = "Example:\n  glasskeep token list")]
    List,
}

/// `custodian …`
#[derive(Debug, Subcommand)]
pub enum CustodianCommand {
    #[cfg(feature = "card")]
    /// Enroll custodians: generate and attest their seal and sign keys on their
    /// YubiKeys. The first custodians of a custody (at least its quorum) enroll together;
    /// later ones with the quorum of earlier custodians cosigning.
    #[command(
        after_help = "Example:\n  glasskeep custodian enroll --name dave --serial 1004 --cosigners alice,bob"
    )]
    Enroll {
        /// The custodian's name (repeat for several, enrolled together).
        #[arg(long = "name", required = true)]
        names: Vec<String>,
        /// Each one's YubiKey serial, in the order of --name (optional for a single
        /// custodian when one YubiKey is inserted).
        #[arg(long = "serial")]
        serials: Vec<u32>,
        /// Retired slot for the seal key, hex (82..95).
        #[arg(long, default_value = "82", value_parser = parse_hex_u8)]
        seal_slot: u8,
        /// Replace keys already in those slots (destroys them).
        #[arg(long)]
        force_overwrite: bool,
        /// Accept sign keys on YubiKey firmware before 5.7.0 (Yubico advisory
        /// YSA-2024-03); recorded in the log and shown by `status`.
        #[arg(long)]
        accept_firmware_risk: bool,
        /// Ask each new custodian to type their card's management key (no echo); without
        /// it a PIN-protected key is used.
        #[arg(long)]
        type_management_key: bool,
        /// Earlier custodians who cosign; default: those whose YubiKeys are inserted.
        #[arg(long, value_delimiter = ',')]
        cosigners: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    #[cfg(feature = "card")]
    /// Retire a custodian: their key signs nothing more, and every live set that
    /// includes them must be rotated. Needs the custody quorum of other custodians.
    #[command(
        after_help = "Example:\n  glasskeep custodian retire bob --reason \"left the company\" --cosigners alice,carol"
    )]
    Retire {
        /// The custodian.
        name: String,
        /// Why (recorded).
        #[arg(long)]
        reason: String,
        /// Who cosigns; default: the custodians whose YubiKeys are inserted.
        #[arg(long, value_delimiter = ',')]
        cosigners: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Enrolled custodians.
    #[command(after_help = "Example:\n  glasskeep custodian list")]
    List,
    /// One custodian's keys: the age1yubikey1… recipient and the identity stub.
    #[command(after_help = "Example:\n  glasskeep custodian show alice")]
    Show {
        /// The custodian's name.
        name: String,
    },
}

/// `envelope …`
#[derive(Debug, Subcommand)]
pub enum EnvelopeCommand {
    /// Render an envelope for printing.
    #[command(
        after_help = "Example:\n  glasskeep envelope render envelopes/aws-root-.../1-alice.gkenv --format pdf --paper a4"
    )]
    Render {
        /// The envelope file.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum)]
        format: RenderFormat,
        /// Paper size (pdf).
        #[arg(long, value_enum, default_value_t = PaperSize::A4)]
        paper: PaperSize,
        /// Output file (default: next to the envelope).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Read an envelope's text fallback from a text file: typed, copied out of the PDF,
    /// or OCR output (misreads of look-alike characters are corrected by each line's
    /// check and listed).
    #[command(
        after_help = "Example:\n  glasskeep envelope read alice.txt --output alice.gkenv\n\nwhere alice.txt is OCR output of the envelope's pages, e.g.:\n  pdftoppm -r 300 -gray -png alice.pdf page\n  for p in page-*.png; do tesseract \"$p\" - --psm 6; done > alice.txt"
    )]
    Read {
        /// The text file.
        file: PathBuf,
        /// Write the envelope record (.gkenv) here (a new file).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Write the sealed share as a standard age file (for age + age-plugin-yubikey).
    #[command(
        after_help = "Example:\n  glasskeep envelope export-age envelopes/aws-root-.../1-alice.gkenv > share1.age"
    )]
    ExportAge {
        /// The envelope file.
        file: PathBuf,
        /// Output file (default: stdout).
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    #[cfg(feature = "card")]
    /// Record that an envelope was destroyed.
    #[command(
        after_help = "Example:\n  glasskeep envelope destroyed --fingerprint 3f9a1c0e5b7d2a44 --witnesses alice,bob"
    )]
    Destroyed {
        /// The envelope's fingerprint (hex, full or the printed short form).
        #[arg(long)]
        fingerprint: String,
        /// The custodians who saw it destroyed (at least two); each cosigns.
        #[arg(long, value_delimiter = ',', required = true)]
        witnesses: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
}

/// `plan …`
#[derive(Debug, Subcommand)]
pub enum PlanCommand {
    /// Check a ceremony plan against the log and print its runbook.
    ///
    /// The plan (TOML, docs/FORMAT.md "Ceremony plan") names the custody, the day, the
    /// people and the exact acts. Refused, with the reason, when it is for another
    /// custody or its day has passed (exit 1), names a custodian who is unknown or
    /// retired, a label already sealed (seal) or not live (rotate, open, drill) (exit
    /// 1), or an act whose quorum its custodians cannot reach (exit 7); a plan that
    /// cannot be read exits 4.
    #[command(
        after_help = "Example:\n  glasskeep --dir /safe/custody plan check ceremony/plans/2026-12-01.toml"
    )]
    Check {
        /// The plan file.
        file: PathBuf,
    },
}

/// `log …`
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Verify the whole log (for auditors); non-zero exit on any failure or violation.
    /// Work still within its window (a review, a rotation) is listed as pending and
    /// passes.
    #[command(
        after_help = "Example:\n  glasskeep log verify --anchor 5e1f0c9a2b3d4e6f5e1f0c9a2b3d4e6f5e1f0c9a2b3d4e6f5e1f0c9a2b3d4e6f\n  glasskeep log verify --training --anchor sheet-1.png\n  (sheet-1.png: the ceremony sheet's first page, scanned, or from `pdftoppm -r 300 -png sheet.pdf sheet`)"
    )]
    Verify {
        /// The head recorded after the last ceremony: its 64 hex digits, the head code
        /// of its sheet (GKHEAD1:…), or a scan of the sheet's first page (PNG or JPEG;
        /// the code also names the custody and the entry, and both must match).
        #[arg(long, value_name = "HEX|CODE|FILE")]
        anchor: Option<String>,
        /// Machine-readable report.
        #[arg(long)]
        json: bool,
        /// Violations as warnings instead of failures.
        #[arg(long, value_enum, default_value_t = Policy::Strict)]
        policy: Policy,
        /// Pending items (and violations taken as warnings) exit 11 instead of 0.
        #[arg(long)]
        strict: bool,
        /// Check a TRAINING custody as training; without it a training log fails.
        #[arg(long)]
        training: bool,
        /// "Now" for overdue verdicts (RFC 3339, e.g. 2026-11-29T12:00:00Z); default:
        /// this machine's clock, which the report names.
        #[arg(long, value_parser = humantime::parse_rfc3339)]
        now: Option<std::time::SystemTime>,
    },
    /// The transcript for the postmortem; `--format html` writes the postmortem report
    /// (one offline HTML file: verification, timeline, signers).
    #[command(
        after_help = "Example:\n  glasskeep log show --format text\n  glasskeep log show --format html --output postmortem.html"
    )]
    Show {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
        format: ShowFormat,
        /// (html) Verify a TRAINING custody as training, as `log verify --training`.
        #[arg(long)]
        training: bool,
        /// (html) "Now" for overdue verdicts (RFC 3339), as `log verify --now`.
        #[arg(long, value_parser = humantime::parse_rfc3339)]
        now: Option<std::time::SystemTime>,
        /// Write to this new file instead of standard output.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Print a ceremony sheet from the log after the fact: by default of the last
    /// ceremony (the entries after the checkpoint before the last one), to the head.
    #[command(
        after_help = "Example:\n  glasskeep log sheet seal-aws-root.pdf --from 12 --paper letter --witness \"Dana Auditor\""
    )]
    Sheet {
        /// The new PDF file (an existing file is refused).
        #[arg(value_name = "FILE.pdf")]
        file: PathBuf,
        /// The first entry of the sheet (default: the first entry of the last
        /// ceremony).
        #[arg(long, value_name = "SEQ")]
        from: Option<u64>,
        /// Paper size.
        #[arg(long, value_enum, default_value_t = PaperSize::A4)]
        paper: PaperSize,
        /// Someone present who signs the sheet (an auditor, a notary); repeat for each.
        /// At most 64 bytes, no control characters.
        #[arg(long = "witness", value_name = "NAME")]
        witnesses: Vec<String>,
    },
    #[cfg(feature = "card")]
    /// Show the entries after the last checkpoint to the custodians present and cover
    /// them with a checkpoint signed by the custody quorum.
    #[command(after_help = "Example:\n  glasskeep log checkpoint --custodians alice,bob")]
    Checkpoint {
        /// Custodians who cosign; default: those whose YubiKeys are inserted.
        #[arg(long, value_delimiter = ',')]
        custodians: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
}

#[cfg(feature = "card")]
/// What a sealed secret is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecretKind {
    /// A password.
    Password,
    /// A TOTP seed.
    Totp,
    /// Recovery codes.
    RecoveryCodes,
    /// A file (bytes kept verbatim).
    File,
}

#[cfg(feature = "card")]
/// Review verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Verdict {
    /// The opening was warranted.
    Justified,
    /// The opening was not warranted.
    Unjustified,
}

/// Envelope renderings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RenderFormat {
    /// PDF for printing.
    Pdf,
    /// PNG image.
    Png,
    /// SVG image.
    Svg,
    /// Plain text (typed fallback).
    Txt,
}

/// Formats of a printed document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocumentFormat {
    /// The Markdown source.
    Md,
    /// PDF for printing.
    Pdf,
}

/// Paper sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PaperSize {
    /// ISO A4.
    A4,
    /// US Letter.
    Letter,
}

/// Policy strictness for `log verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Policy {
    /// Policy findings fail verification.
    Strict,
    /// Policy findings are reported as warnings.
    Lenient,
}

/// Transcript formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShowFormat {
    /// Plain text.
    Text,
    /// Markdown.
    Md,
    /// JSON.
    Json,
    /// The postmortem report: one self-contained HTML file.
    Html,
}

#[cfg(feature = "card")]
fn parse_hex_u8(s: &str) -> Result<u8, String> {
    u8::from_str_radix(s.trim_start_matches("0x"), 16)
        .map_err(|_| format!("{s:?} is not a hex byte"))
}

#[cfg(test)]
mod help_tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every command a person can run says, in its `--help`, how it is typed.
    #[test]
    fn every_command_has_an_example() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            let subs: Vec<_> = cmd
                .get_subcommands()
                .filter(|c| c.get_name() != "help")
                .collect();
            if subs.is_empty() {
                let help = cmd
                    .get_after_help()
                    .map(|h| h.to_string())
                    .unwrap_or_default();
                if !help.contains("Example:\n  glasskeep ") {
                    missing.push(path.clone());
                }
            }
            for s in subs {
                walk(s, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(
            missing.is_empty(),
            "commands without an example: {missing:?}"
        );
    }
    /// Every command's `--help`, as a person reads it: reviewed, then held still.
    #[test]
    fn help_texts_are_golden() {
        fn walk(cmd: &mut clap::Command, path: &str, out: &mut String) {
            let path = format!("{path} {}", cmd.get_name()).trim().to_string();
            out.push_str(&format!("===== {path} --help\n"));
            out.push_str(&cmd.render_long_help().to_string());
            out.push('\n');
            let names: Vec<String> = cmd
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .filter(|n| n != "help")
                .collect();
            for n in names {
                if let Some(sub) = cmd.find_subcommand_mut(&n) {
                    walk(sub, &path, out);
                }
            }
        }
        let mut root = Cli::command();
        root.build();
        let mut out = String::new();
        walk(&mut root, "", &mut out);
        insta::assert_snapshot!(out);
    }
}
