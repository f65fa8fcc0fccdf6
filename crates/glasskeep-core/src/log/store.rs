//! `ceremony.log` on disk: one writer at a time, whole appends, nothing half-written.
//!
//! A [`Store`] holds an exclusive lock on `ceremony.log.lock` for as long as it lives.
//! Opening reads every frame, checks framing, links and replay legality, and refuses a
//! torn tail rather than building on it. A [`Transaction`] stages entries through the
//! same [`State::apply`] that `log verify` uses, then writes them in one write and one
//! fsync of the file and its directory; dropping it abandons everything. A failed write
//! is truncated back, so the file is exactly what it was.

#[cfg(feature = "store")]
use std::fs::{File, OpenOptions, TryLockError};
use std::io;
#[cfg(feature = "store")]
use std::io::Read;
#[cfg(feature = "store")]
use std::os::unix::fs::FileExt;
#[cfg(feature = "store")]
use std::path::Path;
use std::path::PathBuf;

use thiserror::Error;

#[cfg(feature = "store")]
use crate::log::body::Body;
use crate::log::checkpoint::CheckpointError;
#[cfg(feature = "store")]
use crate::log::checkpoint::{check_signatures, make_checkpoint, CheckpointSigner};
#[cfg(feature = "store")]
use crate::log::entry::Hash;
use crate::log::entry::{Entry, EntryError};
use crate::log::frame::{frames, FrameFault};
#[cfg(feature = "store")]
use crate::log::frame::{write_frame, MAX_ENTRY_LEN};
use crate::log::replay::{ReplayError, State};

/// The log's file name in the custody folder.
pub const LOG_FILE: &str = "ceremony.log";
/// The writer lock's file name in the custody folder.
pub const LOCK_FILE: &str = "ceremony.log.lock";

/// Why the log could not be opened or appended to.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another glasskeep process is writing this custody.
    #[error("another glasskeep process holds {}: wait for it to finish (only one ceremony may write the log at a time)", .path.display())]
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// A file operation failed.
    #[error("{op} {}: {source}", .path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The folder holds no custody.
    #[error("{} does not exist: this folder holds no custody (run `glasskeep init`, or pass --dir)", .path.display())]
    NoCustody {
        /// The log file looked for.
        path: PathBuf,
    },
    /// `init` found a log already there.
    #[error("{} already exists: this folder already holds a custody", .path.display())]
    AlreadyExists {
        /// The log file.
        path: PathBuf,
    },
    /// The file ends in an incomplete frame: an append was interrupted.
    #[error("ceremony.log ends with an incomplete entry at byte {offset} (file is {len} bytes): an append was interrupted. Nothing after byte {offset} was committed. Run `glasskeep log verify`, keep a copy of the file, then truncate it to {offset} bytes (`truncate -s {offset} ceremony.log`) before the next ceremony")]
    TornTail {
        /// Where the incomplete frame starts (the length to truncate to).
        offset: u64,
        /// The file's length.
        len: u64,
    },
    /// The file is damaged or was edited.
    #[error("ceremony.log is damaged at byte {offset}{}: {reason}; run `glasskeep log verify` and restore the log from a verified copy", .seq.map(|s| format!(" (entry {s})")).unwrap_or_default())]
    Corrupt {
        /// Byte offset of the bad frame.
        offset: u64,
        /// Its seq, if it decoded.
        seq: Option<u64>,
        /// What is wrong.
        reason: String,
    },
    /// An entry in the file breaks the custody's rules.
    #[error("entry {seq} of ceremony.log is not allowed: {source}; run `glasskeep log verify`")]
    Invalid {
        /// The entry.
        seq: u64,
        /// The rule broken.
        source: ReplayError,
    },
    /// The log has no entries.
    #[error("ceremony.log is empty: run `glasskeep init`")]
    Empty,
    /// A staged entry was refused; nothing was written.
    #[error("refused entry {seq}: {source}")]
    Rejected {
        /// The seq it would have had.
        seq: u64,
        /// Why.
        source: ReplayError,
    },
    /// A staged checkpoint carries a signature that does not verify.
    #[error("checkpoint {seq}: {custodian}'s signature does not verify with their enrolled key")]
    BadSignature {
        /// The checkpoint.
        seq: u64,
        /// Whose signature.
        custodian: String,
    },
    /// A staged entry has a field outside the format's limits (FORMAT.md).
    #[error("entry {seq} cannot be written: {reason}")]
    Unencodable {
        /// The entry.
        seq: u64,
        /// Which limit.
        reason: String,
    },
    /// A staged entry is larger than a frame may be.
    #[error("entry {seq} is {len} bytes, more than the {max}-byte limit")]
    TooLarge {
        /// The entry.
        seq: u64,
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Making a checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// The file changed size behind the lock (edited by hand or by another tool).
    #[error("ceremony.log changed while it was open ({expected} bytes expected, {found} found): nothing was written; run `glasskeep log verify`")]
    ChangedUnderneath {
        /// Length when opened.
        expected: u64,
        /// Length now.
        found: u64,
    },
}

#[cfg(feature = "store")]
fn io_err<'p>(op: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> StoreError + 'p {
    move |source| StoreError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

#[cfg(feature = "store")]
/// An open, locked custody log.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    path: PathBuf,
    file: File,
    _lock: File,
    len: u64,
    state: State,
    #[cfg(test)]
    pub(crate) fail_next_sync: bool,
}

#[cfg(feature = "store")]
fn lock(dir: &Path) -> Result<File, StoreError> {
    let path = dir.join(LOCK_FILE);
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io_err("cannot open", &path))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(TryLockError::WouldBlock) => Err(StoreError::Locked { path }),
        Err(TryLockError::Error(source)) => Err(StoreError::Io {
            op: "cannot lock",
            path,
            source,
        }),
    }
}

/// Replays a whole file image: framing, decoding and legality, no signatures. What
/// `Store::open` does after locking; read-only commands (`status`) call it on the
/// file's bytes without taking the writer lock.
pub fn replay_bytes(data: &[u8]) -> Result<State, StoreError> {
    let mut state = State::new();
    for frame in frames(data) {
        let frame = match frame {
            Ok(f) => f,
            Err((offset, FrameFault::Torn { .. })) => {
                return Err(StoreError::TornTail {
                    offset,
                    len: data.len() as u64,
                })
            }
            Err((offset, fault)) => {
                return Err(StoreError::Corrupt {
                    offset,
                    seq: None,
                    reason: fault.to_string(),
                })
            }
        };
        let entry = Entry::from_bytes(frame.cbor).map_err(|e: EntryError| StoreError::Corrupt {
            offset: frame.offset,
            seq: None,
            reason: e.to_string(),
        })?;
        state
            .apply_hashed(&entry, &frame.hash)
            .map_err(|source| StoreError::Invalid {
                seq: entry.seq,
                source,
            })?;
    }
    Ok(state)
}

#[cfg(feature = "store")]
/// Whatever is written must read back as the same entry, or the custody could not be
/// opened again: a field past the format's limits is refused before writing.
fn round_trip(entry: &Entry, cbor: &[u8]) -> Result<(), StoreError> {
    let reason = match Entry::from_bytes(cbor) {
        Ok(back) if &back == entry => return Ok(()),
        Ok(_) => "the entry does not read back as itself".to_string(),
        Err(e) => e.to_string(),
    };
    Err(StoreError::Unencodable {
        seq: entry.seq,
        reason,
    })
}

#[cfg(feature = "store")]
impl Store {
    /// Creates `dir/ceremony.log` holding only `genesis`. Refuses an existing log.
    pub fn init(dir: &Path, genesis: &Entry) -> Result<Store, StoreError> {
        let lock = lock(dir)?;
        let path = dir.join(LOG_FILE);
        // Validate before creating the file, so a refused genesis leaves no empty log.
        round_trip(genesis, &genesis.to_bytes())?;
        State::new()
            .apply(genesis)
            .map_err(|source| StoreError::Rejected {
                seq: genesis.seq,
                source,
            })?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::AlreadyExists => StoreError::AlreadyExists { path: path.clone() },
                _ => StoreError::Io {
                    op: "cannot create",
                    path: path.clone(),
                    source: e,
                },
            })?;
        let mut store = Store {
            dir: dir.to_owned(),
            path,
            file,
            _lock: lock,
            len: 0,
            state: State::new(),
            #[cfg(test)]
            fail_next_sync: false,
        };
        let mut tx = store.begin();
        tx.append_entry(genesis.clone())?;
        tx.commit()?;
        Ok(store)
    }

    /// Opens and locks `dir/ceremony.log`, replaying it.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let lock = lock(dir)?;
        let path = dir.join(LOG_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => StoreError::NoCustody { path: path.clone() },
                _ => StoreError::Io {
                    op: "cannot open",
                    path: path.clone(),
                    source: e,
                },
            })?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)
            .map_err(io_err("cannot read", &path))?;
        if data.is_empty() {
            return Err(StoreError::Empty);
        }
        let state = replay_bytes(&data)?;
        Ok(Store {
            dir: dir.to_owned(),
            path,
            file,
            _lock: lock,
            len: data.len() as u64,
            state,
            #[cfg(test)]
            fail_next_sync: false,
        })
    }

    /// The replayed state of the committed log.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The log's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether nothing is committed (never true for an opened store).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The log file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts staging entries.
    pub fn begin(&mut self) -> Transaction<'_> {
        Transaction {
            state: self.state.clone(),
            store: self,
            staged: Vec::new(),
            count: 0,
        }
    }

    /// Writes `bytes` at the end in one write, fsyncs the file and the folder; on any
    /// error, truncates back to the old length.
    fn append_bytes(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let found = self
            .file
            .metadata()
            .map_err(io_err("cannot stat", &self.path))?
            .len();
        if found != self.len {
            return Err(StoreError::ChangedUnderneath {
                expected: self.len,
                found,
            });
        }
        let result = self.write_and_sync(bytes);
        if let Err(e) = result {
            // Best effort: if even truncation fails, the next open reports a torn tail
            // instead of building on it.
            let _ = self.file.set_len(self.len);
            let _ = self.file.sync_all();
            return Err(e);
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    fn write_and_sync(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.file
            .write_all_at(bytes, self.len)
            .map_err(io_err("cannot write", &self.path))?;
        #[cfg(test)]
        if std::mem::take(&mut self.fail_next_sync) {
            return Err(StoreError::Io {
                op: "cannot sync (injected)",
                path: self.path.clone(),
                source: io::Error::other("injected failure"),
            });
        }
        self.file
            .sync_all()
            .map_err(io_err("cannot sync", &self.path))?;
        // The directory entry must be durable too, or a crash could lose a new file.
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("cannot sync", &self.dir))
    }
}

#[cfg(feature = "store")]
/// Entries staged for one atomic append. Dropping it writes nothing.
#[derive(Debug)]
pub struct Transaction<'a> {
    store: &'a mut Store,
    state: State,
    staged: Vec<u8>,
    count: usize,
}

#[cfg(feature = "store")]
impl Transaction<'_> {
    /// The state as if the staged entries were committed.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// How many entries are staged.
    pub fn staged(&self) -> usize {
        self.count
    }

    /// Stages the next entry with `body` at claimed `time`; returns its seq.
    pub fn append(&mut self, time: u64, body: Body) -> Result<u64, StoreError> {
        let entry = Entry {
            seq: self.state.next_seq(),
            prev: self.state.head(),
            time,
            body,
        };
        let seq = entry.seq;
        self.append_entry(entry)?;
        Ok(seq)
    }

    /// Stages a complete entry (a checkpoint made elsewhere, or genesis). Refused unless
    /// it may follow the staged head, and, for a checkpoint, unless every signature
    /// verifies.
    pub fn append_entry(&mut self, entry: Entry) -> Result<(), StoreError> {
        let cbor = entry.to_bytes();
        if cbor.len() > MAX_ENTRY_LEN {
            return Err(StoreError::TooLarge {
                seq: entry.seq,
                len: cbor.len(),
                max: MAX_ENTRY_LEN,
            });
        }
        round_trip(&entry, &cbor)?;
        match check_signatures(&self.state, &entry) {
            Err(bad) if !bad.unknown => {
                return Err(StoreError::BadSignature {
                    seq: entry.seq,
                    custodian: bad.custodian,
                })
            }
            // An unknown signer is refused by replay, with the name.
            _ => {}
        }
        let hash = crate::log::entry::entry_hash(&cbor);
        self.state
            .apply_hashed(&entry, &hash)
            .map_err(|source| StoreError::Rejected {
                seq: entry.seq,
                source,
            })?;
        write_frame(&mut self.staged, &cbor, &hash);
        self.count += 1;
        Ok(())
    }

    /// Stages a checkpoint over the staged head, signed by `signers`; returns its seq.
    /// `clock` is what the machine's clock read (recorded; see `Body::Checkpoint`).
    pub fn checkpoint(
        &mut self,
        signers: &mut [&mut dyn CheckpointSigner],
        time: u64,
        clock: u64,
    ) -> Result<u64, StoreError> {
        let entry = make_checkpoint(&self.state, signers, time, clock)?;
        let seq = entry.seq;
        self.append_entry(entry)?;
        Ok(seq)
    }

    /// Writes every staged entry in one write and fsync; returns the new head hash (to
    /// print as the paper anchor). On error nothing is committed and the file is as it
    /// was.
    pub fn commit(self) -> Result<Hash, StoreError> {
        if self.count > 0 {
            self.store.append_bytes(&self.staged)?;
            self.store.state = self.state;
        }
        Ok(self.store.state.head())
    }
}
