//! A pcscd lab for integration tests: a private pcscd with vpcd readers and one
//! `glasskeep-piv-sim` process per card, serialized machine-wide.
//!
//! Only one pcscd can run per machine (its socket is `/run/pcscd/pcscd.comm`), so every
//! test in the workspace that touches PC/SC goes through [`PcscLab`], which holds an
//! exclusive `flock` on [`LOCK_PATH`] for its whole life. That serializes tests across
//! processes and checkouts. pcscd needs root here; other users get a spawn error.
//!
//! Readers: libifdvpcd keeps its sockets in driver-global state indexed by slot, so two
//! reader entries sharing one driver file overwrite each other. The lab therefore loads
//! a private copy of the driver for the second pair of slots (pcscd keys drivers by
//! path, the dynamic loader by inode).

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

use crate::touch::{TouchMode, TOUCH_FILE};

/// The machine-wide lock every pcscd test takes.
pub const LOCK_PATH: &str = "/tmp/glasskeep-pcscd.lock";
/// The vpcd driver Debian's vsmartcard-vpcd installs.
pub const VPCD_DRIVER: &str = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so";
/// First vpcd port; slot i listens on `BASE_PORT + i`.
pub const BASE_PORT: u16 = 35963;
/// How many cards a lab can hold at once.
pub const MAX_CARDS: usize = 4;
/// PC/SC reader names of the four slots, in port order.
pub const READER_NAMES: [&str; MAX_CARDS] = [
    "Virtual PCD 00 00",
    "Virtual PCD 00 01",
    "Virtual PCD B 00 00",
    "Virtual PCD B 00 01",
];

const STARTUP_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_GRACE: Duration = Duration::from_secs(3);
const POLL: Duration = Duration::from_millis(50);

/// One card to put in the lab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSpec {
    /// Serial number (also how the card is named in the lab's methods).
    pub serial: u32,
    /// Touch sensor behaviour.
    pub touch: TouchMode,
    /// Firmware of a new card.
    pub firmware: [u8; 3],
    /// State folder; `None` makes a fresh one inside the lab (deleted with it).
    pub state_dir: Option<PathBuf>,
}

impl CardSpec {
    /// A new firmware 5.7.1 card with automatic touch.
    pub fn new(serial: u32) -> CardSpec {
        CardSpec {
            serial,
            touch: TouchMode::Auto,
            firmware: [5, 7, 1],
            state_dir: None,
        }
    }
}

/// Lab settings beyond the cards.
#[derive(Debug, Clone)]
pub struct LabOptions {
    /// The simulator binary; default: `GLASSKEEP_PIV_SIM_BIN`, else next to the test.
    pub sim_bin: Option<PathBuf>,
    /// How long a touch-policy operation waits before `6982` (a real card: ~15 s).
    pub touch_timeout: Duration,
    /// Each simulator writes every APDU it answers to its log (`sim-SERIAL.log`, PIN
    /// data hidden), so tests can count a command's card round trips.
    pub trace: bool,
}

impl Default for LabOptions {
    fn default() -> Self {
        LabOptions {
            sim_bin: None,
            touch_timeout: Duration::from_secs(2),
            trace: false,
        }
    }
}

/// Why the lab could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabError {
    /// A file or folder of the lab could not be made.
    #[error("pcscd lab: {what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A process could not be started (pcscd needs root here).
    #[error("pcscd lab: cannot start {program}: {source} (pcscd needs root; is the simulator built? `cargo build -p glasskeep-piv-sim`)")]
    Spawn {
        /// The program.
        program: String,
        /// The error.
        source: std::io::Error,
    },
    /// Something did not become ready in time; `log` is the end of its log.
    #[error("pcscd lab: timed out waiting for {what}; log:\n{log}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// Tail of the relevant log.
        log: String,
    },
    /// More than [`MAX_CARDS`] cards, or a serial used twice.
    #[error("pcscd lab: {0}")]
    BadSpec(String),
    /// The simulator binary is not where the lab looked.
    #[error("pcscd lab: no simulator at {0}; run `cargo build -p glasskeep-piv-sim` or set GLASSKEEP_PIV_SIM_BIN")]
    SimulatorMissing(PathBuf),
    /// No card with that serial in the lab.
    #[error("pcscd lab: no card with serial {0}")]
    UnknownSerial(u32),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> LabError {
    let what = what.into();
    move |source| LabError::Io { what, source }
}

struct LabCard {
    spec: CardSpec,
    slot: usize,
    state_dir: PathBuf,
    child: Option<Child>,
}

/// A running pcscd with simulated cards; everything stops when it is dropped.
pub struct PcscLab {
    dir: PathBuf,
    sim_bin: PathBuf,
    touch_timeout: Duration,
    trace: bool,
    pcscd: Option<Child>,
    cards: Vec<LabCard>,
    // Declared last so it is released only after the processes above are stopped.
    _lock: Flock<File>,
}

impl PcscLab {
    /// Starts pcscd and one simulator per card, waiting until PC/SC shows each card.
    pub fn start(cards: &[CardSpec]) -> Result<PcscLab, LabError> {
        Self::start_with(cards, LabOptions::default())
    }

    /// [`PcscLab::start`] with explicit options.
    pub fn start_with(cards: &[CardSpec], options: LabOptions) -> Result<PcscLab, LabError> {
        if cards.len() > MAX_CARDS {
            return Err(LabError::BadSpec(format!("at most {MAX_CARDS} cards")));
        }
        let sim_bin = options.sim_bin.clone().unwrap_or_else(default_sim_bin);
        if !sim_bin.is_file() {
            return Err(LabError::SimulatorMissing(sim_bin));
        }
        let lock_file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(LOCK_PATH)
            .map_err(io(format!("open {LOCK_PATH}")))?;
        let lock =
            Flock::lock(lock_file, FlockArg::LockExclusive).map_err(|(_, e)| LabError::Io {
                what: format!("flock {LOCK_PATH}"),
                source: e.into(),
            })?;
        // Holding the lock, any pcscd or simulator still running is a leftover of a
        // crashed test (or started by hand) and would answer on our ports.
        crate::procs::stop_strays();
        let dir = std::env::temp_dir().join(format!(
            "glasskeep-pcscd-lab-{}-{}",
            std::process::id(),
            rand_suffix()
        ));
        let mut lab = PcscLab {
            dir,
            sim_bin,
            touch_timeout: options.touch_timeout,
            trace: options.trace,
            pcscd: None,
            cards: Vec::new(),
            _lock: lock,
        };
        lab.write_config()?;
        lab.start_pcscd()?;
        for spec in cards {
            lab.start_card(spec.clone())?;
        }
        Ok(lab)
    }

    fn write_config(&self) -> Result<(), LabError> {
        let conf = self.dir.join("reader.conf.d");
        let drivers = self.dir.join("drivers");
        fs::create_dir_all(&conf).map_err(io("create lab folder"))?;
        fs::create_dir_all(&drivers).map_err(io("create lab folder"))?;
        let copy = drivers.join("libifdvpcd-b.so");
        fs::copy(VPCD_DRIVER, &copy).map_err(io(format!(
            "copy {VPCD_DRIVER} (apt-get install vsmartcard-vpcd)"
        )))?;
        let entry = |name: &str, port: u16, lib: &Path| {
            format!(
                "FRIENDLYNAME \"{name}\"\nDEVICENAME   /dev/null:{port:#06X}\nLIBPATH      {}\nCHANNELID    {port:#06X}\n\n",
                lib.display()
            )
        };
        let text = entry("Virtual PCD", BASE_PORT, Path::new(VPCD_DRIVER))
            + &entry("Virtual PCD B", BASE_PORT + 2, &copy);
        fs::write(conf.join("vpcd"), text).map_err(io("write reader.conf.d"))
    }

    /// Starts pcscd again after [`PcscLab::stop_pcscd`]; the simulators reconnect.
    pub fn start_pcscd(&mut self) -> Result<(), LabError> {
        if self.pcscd.is_some() {
            return Ok(());
        }
        let program = if Path::new("/usr/sbin/pcscd").exists() {
            "/usr/sbin/pcscd"
        } else {
            "pcscd"
        };
        // Only called with the lab lock held and no pcscd of ours running, so whatever is
        // in /run/pcscd belongs to a pcscd that is gone.
        crate::procs::clear_stale_pcscd_files();
        let log = File::create(self.dir.join("pcscd.log")).map_err(io("create pcscd.log"))?;
        let log2 = log.try_clone().map_err(io("create pcscd.log"))?;
        let child = Command::new(program)
            .arg("-f")
            .arg("-c")
            .arg(self.dir.join("reader.conf.d"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .map_err(|source| LabError::Spawn {
                program: program.into(),
                source,
            })?;
        self.pcscd = Some(child);
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok(names) = crate::procs::readers() {
                if READER_NAMES.iter().all(|r| names.iter().any(|n| n == r)) {
                    break;
                }
            }
            if Instant::now() > deadline {
                return Err(LabError::Timeout {
                    what: "pcscd readers".into(),
                    log: tail(&self.dir.join("pcscd.log")),
                });
            }
            std::thread::sleep(POLL);
        }
        for i in 0..self.cards.len() {
            if self.cards[i].child.is_some() {
                self.wait_present(i, true)?;
            }
        }
        Ok(())
    }

    /// Stops pcscd (to test "pcscd not running"); simulators keep trying to reconnect.
    pub fn stop_pcscd(&mut self) {
        if let Some(child) = self.pcscd.take() {
            crate::procs::stop_child(child, STOP_GRACE);
        }
    }

    /// Inserts a card: starts its simulator in a free slot (or the slot it had, keeping
    /// its state, when it was removed with [`PcscLab::stop_card`]).
    pub fn start_card(&mut self, spec: CardSpec) -> Result<(), LabError> {
        let index = match self.cards.iter().position(|c| c.spec.serial == spec.serial) {
            Some(i) if self.cards[i].child.is_some() => {
                return Err(LabError::BadSpec(format!(
                    "card {} is already in",
                    spec.serial
                )))
            }
            Some(i) => {
                if let Some(d) = &spec.state_dir {
                    self.cards[i].state_dir = d.clone();
                }
                self.cards[i].spec = spec;
                i
            }
            None => {
                let used: Vec<usize> = self.cards.iter().map(|c| c.slot).collect();
                let Some(slot) = (0..MAX_CARDS).find(|s| !used.contains(s)) else {
                    return Err(LabError::BadSpec(format!(
                        "no free slot: at most {MAX_CARDS} cards"
                    )));
                };
                let state_dir = spec
                    .state_dir
                    .clone()
                    .unwrap_or_else(|| self.dir.join(format!("card-{}", spec.serial)));
                self.cards.push(LabCard {
                    spec,
                    slot,
                    state_dir,
                    child: None,
                });
                self.cards.len() - 1
            }
        };
        let card = &self.cards[index];
        let [a, b, c] = card.spec.firmware;
        let log_path = self.dir.join(format!("sim-{}.log", card.spec.serial));
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io("create simulator log"))?;
        let mut cmd = Command::new(&self.sim_bin);
        if self.trace {
            cmd.arg("--trace");
        }
        let child = cmd
            .arg("--port")
            .arg((BASE_PORT + card.slot as u16).to_string())
            .arg("--state")
            .arg(&card.state_dir)
            .arg("--serial")
            .arg(card.spec.serial.to_string())
            .arg("--touch")
            .arg(card.spec.touch.to_string())
            .arg("--touch-timeout-ms")
            .arg(self.touch_timeout.as_millis().to_string())
            .arg("--firmware")
            .arg(format!("{a}.{b}.{c}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|source| LabError::Spawn {
                program: self.sim_bin.display().to_string(),
                source,
            })?;
        self.cards[index].child = Some(child);
        if self.pcscd.is_some() {
            self.wait_present(index, true)?;
        }
        Ok(())
    }

    /// Inserts a card into the reader numbered `reader` (0 is "Virtual PCD 00 00"), the
    /// way custodians taking turns at one USB port do: the card keeps its state, the
    /// reader must be empty.
    pub fn start_card_in_reader(&mut self, spec: CardSpec, reader: usize) -> Result<(), LabError> {
        if reader >= MAX_CARDS {
            return Err(LabError::BadSpec(format!(
                "no reader {reader}: at most {MAX_CARDS}"
            )));
        }
        if let Some(busy) = self
            .cards
            .iter()
            .find(|c| c.slot == reader && c.child.is_some() && c.spec.serial != spec.serial)
        {
            return Err(LabError::BadSpec(format!(
                "reader {reader} holds card {} already",
                busy.spec.serial
            )));
        }
        match self.cards.iter().position(|c| c.spec.serial == spec.serial) {
            Some(i) => self.cards[i].slot = reader,
            None => {
                let state_dir = spec
                    .state_dir
                    .clone()
                    .unwrap_or_else(|| self.dir.join(format!("card-{}", spec.serial)));
                self.cards.push(LabCard {
                    spec: spec.clone(),
                    slot: reader,
                    state_dir,
                    child: None,
                });
            }
        }
        self.start_card(spec)
    }

    /// Removes a card: stops its simulator and waits until PC/SC shows the slot empty.
    pub fn stop_card(&mut self, serial: u32) -> Result<(), LabError> {
        let index = self.index(serial)?;
        if let Some(child) = self.cards[index].child.take() {
            crate::procs::stop_child(child, STOP_GRACE);
        }
        if self.pcscd.is_some() {
            self.wait_present(index, false)?;
        }
        Ok(())
    }

    fn index(&self, serial: u32) -> Result<usize, LabError> {
        self.cards
            .iter()
            .position(|c| c.spec.serial == serial)
            .ok_or(LabError::UnknownSerial(serial))
    }

    fn wait_present(&self, index: usize, present: bool) -> Result<(), LabError> {
        let card = &self.cards[index];
        let reader = READER_NAMES[card.slot];
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while crate::procs::card_present(reader) != Some(present) {
            if Instant::now() > deadline {
                return Err(LabError::Timeout {
                    what: format!(
                        "card {} {} in {reader}",
                        card.spec.serial,
                        if present { "present" } else { "absent" }
                    ),
                    log: tail(&self.dir.join(format!("sim-{}.log", card.spec.serial))),
                });
            }
            std::thread::sleep(POLL);
        }
        Ok(())
    }

    /// Touches a card in `signal` mode (through its `touch` control file).
    pub fn touch(&self, serial: u32) -> Result<(), LabError> {
        let card = &self.cards[self.index(serial)?];
        fs::write(card.state_dir.join(TOUCH_FILE), b"").map_err(io("write touch file"))
    }

    /// Reader names of the cards in the lab, in the order they were started.
    pub fn reader_names(&self) -> Vec<String> {
        self.cards
            .iter()
            .filter(|c| c.child.is_some())
            .map(|c| READER_NAMES[c.slot].to_string())
            .collect()
    }

    /// The reader a card sits in.
    pub fn reader_name(&self, serial: u32) -> Result<String, LabError> {
        Ok(READER_NAMES[self.cards[self.index(serial)?].slot].to_string())
    }

    /// A card's state folder.
    pub fn state_dir(&self, serial: u32) -> Result<PathBuf, LabError> {
        Ok(self.cards[self.index(serial)?].state_dir.clone())
    }

    /// The lab's folder (pcscd.log, sim-SERIAL.log, reader.conf.d).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The command APDUs card `serial` has answered so far, as its trace shows them
    /// (hex, PIN data hidden), oldest first. Empty unless the lab runs with
    /// [`LabOptions::trace`].
    pub fn apdus(&self, serial: u32) -> Result<Vec<String>, LabError> {
        self.index(serial)?;
        let log = self.dir.join(format!("sim-{serial}.log"));
        let text = fs::read_to_string(&log).map_err(io(format!("read {}", log.display())))?;
        Ok(text
            .lines()
            .filter_map(|l| l.strip_prefix("> "))
            .map(str::to_owned)
            .collect())
    }
}

impl Drop for PcscLab {
    fn drop(&mut self) {
        for card in &mut self.cards {
            if let Some(child) = card.child.take() {
                crate::procs::stop_child(child, STOP_GRACE);
            }
        }
        self.stop_pcscd();
        if std::env::var_os("GLASSKEEP_LAB_KEEP").is_none() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn rand_suffix() -> u64 {
    let mut b = [0u8; 8];
    crate::model::random_bytes(&mut b);
    u64::from_le_bytes(b)
}

/// `GLASSKEEP_PIV_SIM_BIN`, else `glasskeep-piv-sim` in target/debug (the parent of the
/// test executable's `deps` folder).
pub fn default_sim_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("GLASSKEEP_PIV_SIM_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("glasskeep-piv-sim")
}

fn tail(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
