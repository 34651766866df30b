//! The device's state on disk: versioned, checksummed, crash-safe.
//!
//! The state is one JSON value framed by a small header (see [`encode`]) and kept in
//! two files inside one directory: [`STATE_FILE`], the current copy, and
//! [`PREVIOUS_FILE`], the last good copy. A torn, truncated or corrupt current copy is
//! detected by the frame and the previous copy is used instead; when neither is usable
//! [`Store::load`] says so with [`Error::StoreUnrecoverable`]. It never falls back to a
//! default value: a lost state must not quietly become a fresh, unlocked device.
//!
//! # Why a crash never loses both copies
//!
//! [`Store::save`] writes the new frame to `state.tmp`, fsyncs it, moves the current copy
//! to `state.prev` (only when that copy is known good), renames `state.tmp` over
//! `state.bin` and fsyncs the directory. Taking the crash points in order:
//!
//! * **While writing or before fsyncing `state.tmp`**: `state.bin`/`state.prev` are
//!   untouched and `load` never reads `state.tmp`, so it returns the old value. The stale
//!   temp file is deleted by the next save.
//! * **Between the fsync and the first rename**: same as above.
//! * **Between the two renames**: `state.bin` is missing and `state.prev` holds the old
//!   value. `load` treats exactly this (no current file, good previous file) as the
//!   interrupted save it is and returns the old value without calling it a recovery.
//! * **After the second rename, before the directory fsync**: a killed process leaves the
//!   page cache intact, so the new value is read. On power loss the file system may keep
//!   both renames, neither, or either one alone: each combination leaves the old value in
//!   place (as `state.bin`, or as `state.prev` with no `state.bin`) or the new one as
//!   `state.bin`. Because `state.tmp` was fsynced *before* it was renamed, a persisted
//!   rename can never point at unwritten data (the classic zero-length-file-after-rename
//!   failure).
//! * **After the directory fsync**: the new value is durable; `save` returning `Ok` means
//!   it survives power loss, which callers rely on (e.g. "released" is written first).
//!
//! When the current copy is bad or missing there is no first rename: the second one
//! replaces it in one step, and until then `load` answers exactly as it did before the
//! save (from `state.prev`).
//!
//! Renames within one directory are atomic, so `state.bin` is at every instant either a
//! complete old frame, a complete new frame, or absent with a good `state.prev` behind it.
//!
//! # Why the current copy's health is tracked
//!
//! Rotating `state.bin` to `state.prev` is only right when `state.bin` is good; rotating a
//! corrupt current copy would overwrite the last good copy with garbage, and the next
//! torn write would then be unrecoverable. So the store remembers what it last saw of
//! `state.bin` (decoded by the last `load`, or written by the last `save`). A `save`
//! before any `load` (or after a failed save) decodes the current file's frame first;
//! so does a save over a known-good copy, because flash can rot a file after it was
//! read and a few KiB of hashing is nothing next to two fsyncs. A
//! bad current file is not rotated: `state.prev` is left alone, a copy of the bad file is
//! kept as `state.bad` for diagnosis, and the new frame is renamed straight over it —
//! so, unlike a move, there is no instant with neither a current file nor a good
//! previous one (which would read as "nothing was ever saved").
//!
//! The health check in `save` cannot know the state type, so it checks the frame and
//! that the body is JSON; a frame-valid body of another shape is rotated like a good one.
//! One `Store` per directory is assumed; nothing here locks against a second writer.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use ring::digest;
use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::error::{Error, Result};

/// The frame format this build writes and the newest it reads.
pub const FORMAT_VERSION: u16 = 1;
/// The current copy of the state.
pub const STATE_FILE: &str = "state.bin";
/// The last good copy of the state.
pub const PREVIOUS_FILE: &str = "state.prev";
/// Where a new copy is written before it is renamed into place.
pub const TEMP_FILE: &str = "state.tmp";
/// Where a current copy that failed to decode is kept for diagnosis (the latest one only).
pub const BAD_FILE: &str = "state.bad";

/// The largest body [`Store::save`] writes and [`Store::load`] reads. The state is a few
/// KiB; the cap keeps a damaged or foreign file from exhausting memory.
pub const MAX_BODY_LEN: usize = 16 * 1024 * 1024;

const MAGIC: &[u8; 4] = b"FLKS";
const DIGEST_LEN: usize = 32;
/// magic | version | reserved | body length | SHA-256 of body.
const HEADER_LEN: usize = 4 + 2 + 2 + 4 + DIGEST_LEN;

/// Frames a body: magic `b"FLKS"` | u16 BE format version | u16 BE reserved (0) |
/// u32 BE body length | 32-byte SHA-256 of body | body.
///
/// # Panics
/// If `body` is longer than `u32::MAX` bytes ([`Store::save`] refuses bodies over
/// [`MAX_BODY_LEN`] before calling this).
pub fn encode(body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).expect("state body longer than u32::MAX bytes");
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(digest::digest(&digest::SHA256, body).as_ref());
    out.extend_from_slice(body);
    out
}

/// Checks a frame and returns its body.
///
/// Errors, checked in this order: shorter than the header or than the stated length →
/// [`Error::StoreTruncated`]; wrong magic → [`Error::StoreBadMagic`]; version newer than
/// [`FORMAT_VERSION`] → [`Error::StoreFutureVersion`]; version 0, a non-zero reserved
/// field, a checksum mismatch or bytes beyond the stated length → [`Error::StoreCorrupt`].
pub fn decode(bytes: &[u8]) -> Result<&[u8]> {
    let Some((header, rest)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(Error::StoreTruncated);
    };
    // Constant indices into the fixed-size header array: these cannot fail.
    let magic = &header[0..4];
    let version = u16::from_be_bytes([header[4], header[5]]);
    let reserved = [header[6], header[7]];
    let len = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
    let checksum = &header[12..];
    // Saturating where usize is narrower than u32: no file there can be that long.
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    if rest.len() < len {
        return Err(Error::StoreTruncated);
    }
    if magic != MAGIC {
        return Err(Error::StoreBadMagic);
    }
    if version > FORMAT_VERSION {
        return Err(Error::StoreFutureVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    // Version 0 was never written; the reserved field is not covered by the checksum, so
    // it is checked here to make every single-byte change of a frame detectable.
    if version == 0 || reserved != [0, 0] || rest.len() != len {
        return Err(Error::StoreCorrupt);
    }
    let actual = digest::digest(&digest::SHA256, rest);
    if actual.as_ref() != checksum {
        return Err(Error::StoreCorrupt);
    }
    Ok(rest)
}

/// What [`Store::load`] found.
#[derive(Debug)]
pub struct Loaded<T> {
    /// The stored value.
    pub value: T,
    /// `Some(error)` when the current copy was unusable and the last good copy was used
    /// instead; the error says what was wrong with the current copy.
    pub recovered_from: Option<Error>,
}

/// What the store last saw of the current file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Current {
    /// Not looked at yet, or a save failed part-way: inspect before touching anything.
    Unknown,
    /// Decoded by the last load or written by the last save: rotated after a re-check.
    Good,
    /// Present but unusable: must never become the previous copy.
    Bad,
    /// Does not exist.
    Missing,
}

/// The state directory. See the module documentation for the on-disk protocol.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    current: Current,
}

impl Store {
    /// Opens the state directory, creating it (mode 0700) if it is missing. Reads nothing.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Store> {
        let dir = dir.into();
        if !dir.is_dir() {
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder
                .create(&dir)
                .map_err(Error::io("create directory"))?;
            // Make the new directory's own entry durable, so a first save cannot vanish
            // with its directory. Best effort: the saves themselves fsync the directory.
            if let Some(parent) = dir.parent() {
                let _ = sync_dir(parent);
            }
        }
        Ok(Store {
            dir,
            current: Current::Unknown,
        })
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Loads the state.
    ///
    /// * `Ok(None)`: neither [`STATE_FILE`] nor [`PREVIOUS_FILE`] exists — nothing was ever
    ///   saved, a fresh device.
    /// * The current copy, if its frame and its JSON (as `T`) decode.
    /// * Otherwise the previous copy, with `recovered_from` set to the current copy's
    ///   error. A *missing* current copy next to a good previous one is the crash window
    ///   inside [`Store::save`], not damage: the previous copy is returned with
    ///   `recovered_from: None`.
    /// * Otherwise [`Error::StoreUnrecoverable`] with both errors (a missing file is
    ///   [`Error::StoreIo`] with [`io::ErrorKind::NotFound`]). Never a default value.
    ///
    /// A JSON body that is not a `T` is [`Error::StoreDecode`]. A leftover temp file is
    /// ignored.
    pub fn load<T: DeserializeOwned>(&mut self) -> Result<Option<Loaded<T>>> {
        let current_err = match read_value::<T>(&self.path(STATE_FILE)) {
            Ok(value) => {
                self.current = Current::Good;
                return Ok(Some(Loaded {
                    value,
                    recovered_from: None,
                }));
            }
            Err(e) => e,
        };
        let current_missing = is_not_found(&current_err);
        self.current = if current_missing {
            Current::Missing
        } else {
            Current::Bad
        };
        match read_value::<T>(&self.path(PREVIOUS_FILE)) {
            Ok(value) if current_missing => {
                log::info!(
                    "state: current copy missing after an interrupted save; using previous copy"
                );
                Ok(Some(Loaded {
                    value,
                    recovered_from: None,
                }))
            }
            Ok(value) => {
                log::warn!(
                    "state: current copy unusable ({}); using previous copy",
                    current_err.code()
                );
                Ok(Some(Loaded {
                    value,
                    recovered_from: Some(current_err),
                }))
            }
            Err(previous_err) if current_missing && is_not_found(&previous_err) => Ok(None),
            Err(previous_err) => {
                log::error!(
                    "state: no usable copy (current: {}, previous: {})",
                    current_err.code(),
                    previous_err.code()
                );
                Err(Error::StoreUnrecoverable {
                    current: Box::new(current_err),
                    previous: Box::new(previous_err),
                })
            }
        }
    }

    /// Saves `value` so that a crash at any point leaves the old or the new value
    /// loadable (see the module documentation for each crash point). `Ok` means the new
    /// value is durable. On error nothing is rolled back, and none is needed: what is on
    /// disk still loads as the old or the new value.
    pub fn save<T: Serialize>(&mut self, value: &T) -> Result<()> {
        let body = serde_json::to_vec(value).map_err(|e| Error::io("serialize")(e.into()))?;
        if body.len() > MAX_BODY_LEN {
            return Err(Error::io("serialize")(io::Error::new(
                io::ErrorKind::InvalidInput,
                "state is larger than the store's limit",
            )));
        }
        let frame = encode(&body);
        match self.replace_current(&frame) {
            Ok(()) => {
                self.current = Current::Good;
                Ok(())
            }
            Err(e) => {
                // Which step failed decides what state.bin now is; look again next time.
                self.current = Current::Unknown;
                let _ = fs::remove_file(self.path(TEMP_FILE));
                Err(e)
            }
        }
    }

    fn replace_current(&mut self, frame: &[u8]) -> Result<()> {
        self.current = match self.current {
            Current::Unknown => self.inspect_current(),
            // Re-checked although known good: the file may have rotted on flash since, and
            // rotating it unchecked would push garbage over the last good copy.
            Current::Good => match self.inspect_current() {
                Current::Good => Current::Good,
                other => {
                    log::warn!("state: current copy changed on disk since it was last read");
                    other
                }
            },
            known => known,
        };
        let tmp = self.path(TEMP_FILE);
        let bin = self.path(STATE_FILE);
        write_synced(&tmp, frame)?;
        match self.current {
            Current::Good => match fs::rename(&bin, self.path(PREVIOUS_FILE)) {
                Ok(()) => {}
                // Gone since we looked: nothing to keep, and state.prev is untouched.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("rename")(e)),
            },
            Current::Bad => {
                // A copy, not a move: state.bin must stay in place until the new frame
                // replaces it atomically. Diagnosis only, so failure is not fatal.
                if let Err(e) = fs::copy(&bin, self.path(BAD_FILE)) {
                    log::warn!("state: could not keep the unusable copy ({})", e.kind());
                }
            }
            Current::Missing | Current::Unknown => {}
        }
        fs::rename(&tmp, &bin).map_err(Error::io("rename"))?;
        sync_dir(&self.dir).map_err(Error::io("sync directory"))
    }

    /// Decides, without knowing the state type, whether state.bin may be rotated.
    fn inspect_current(&self) -> Current {
        match read_capped(&self.path(STATE_FILE)) {
            Ok(bytes) => {
                let sound = decode(&bytes)
                    .is_ok_and(|body| serde_json::from_slice::<IgnoredAny>(body).is_ok());
                if sound { Current::Good } else { Current::Bad }
            }
            Err(e) if is_not_found(&e) => Current::Missing,
            // Unreadable counts as bad: it must not replace the previous copy.
            Err(_) => Current::Bad,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn is_not_found(e: &Error) -> bool {
    matches!(e, Error::StoreIo { source, .. } if source.kind() == io::ErrorKind::NotFound)
}

/// Reads a whole file, refusing one larger than any frame this store writes.
fn read_capped(path: &Path) -> Result<Vec<u8>> {
    let cap = HEADER_LEN + MAX_BODY_LEN;
    let file = File::open(path).map_err(Error::io("read"))?;
    let mut bytes = Vec::new();
    file.take(cap as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(Error::io("read"))?;
    if bytes.len() > cap {
        return Err(Error::StoreCorrupt);
    }
    Ok(bytes)
}

fn read_value<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = read_capped(path)?;
    let body = decode(&bytes)?;
    serde_json::from_slice(body).map_err(|e| Error::StoreDecode {
        // Only the category and position: serde_json's message can quote the body.
        detail: format!(
            "{:?} error at line {} column {}",
            e.classify(),
            e.line(),
            e.column()
        ),
    })
}

/// Writes a fresh file (mode 0600) and fsyncs it before anyone can rename it into place.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<()> {
    // A stale temp file from an earlier crash may have other permissions; start anew.
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("remove temp file")(e)),
    }
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(Error::io("create temp file"))?;
    file.write_all(bytes).map_err(Error::io("write"))?;
    file.sync_all().map_err(Error::io("sync"))
}

/// Makes renames in `dir` durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        // Directories cannot be opened for syncing here; rename durability is the
        // file system's. The product only ships on Android.
        let _ = dir;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct State {
        n: u64,
        name: String,
    }

    fn state(n: u64) -> State {
        State {
            n,
            name: format!("state {n}"),
        }
    }

    fn frame(n: u64) -> Vec<u8> {
        encode(&serde_json::to_vec(&state(n)).expect("serialize"))
    }

    fn setup() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path().join("state")).expect("open");
        (dir, store)
    }

    /// A store with state 1 as the previous copy and state 2 as the current one.
    fn two_saves() -> (tempfile::TempDir, Store) {
        let (dir, mut store) = setup();
        store.save(&state(1)).expect("save 1");
        store.save(&state(2)).expect("save 2");
        (dir, store)
    }

    fn load(store: &Store) -> Result<Option<Loaded<State>>> {
        Store::open(store.dir()).expect("reopen").load()
    }

    fn write(store: &Store, name: &str, bytes: &[u8]) {
        fs::write(store.dir().join(name), bytes).expect("write");
    }

    fn read(store: &Store, name: &str) -> Vec<u8> {
        fs::read(store.dir().join(name)).expect("read")
    }

    fn corrupt_current(store: &Store) {
        let mut bytes = read(store, STATE_FILE);
        let last = bytes.len() - 1;
        bytes[last] ^= 0x01;
        write(store, STATE_FILE, &bytes);
    }

    fn assert_recovered(loaded: Result<Option<Loaded<State>>>, n: u64, code: &str) {
        let loaded = loaded.expect("load").expect("some state");
        assert_eq!(loaded.value, state(n));
        let err = loaded.recovered_from.expect("recovered_from is set");
        assert_eq!(err.code(), code, "{err}");
    }

    // ---- frame -------------------------------------------------------------------

    #[test]
    fn encode_decode_round_trip() {
        for body in [&b""[..], b"{}", b"{\"n\":1}", &[0xff; 1000]] {
            let bytes = encode(body);
            assert_eq!(bytes.len(), HEADER_LEN + body.len());
            assert_eq!(&bytes[..4], b"FLKS");
            assert_eq!(&bytes[4..6], &FORMAT_VERSION.to_be_bytes());
            assert_eq!(decode(&bytes).expect("decode"), body);
        }
    }

    #[test]
    fn decode_rejects_truncated_header() {
        let bytes = encode(b"{}");
        for len in 0..HEADER_LEN {
            assert!(matches!(decode(&bytes[..len]), Err(Error::StoreTruncated)));
        }
    }

    #[test]
    fn decode_rejects_truncated_body() {
        let bytes = encode(b"{\"n\":12345}");
        for len in HEADER_LEN..bytes.len() {
            assert!(matches!(decode(&bytes[..len]), Err(Error::StoreTruncated)));
        }
    }

    #[test]
    fn decode_truncation_is_checked_before_magic() {
        let mut bytes = encode(b"{}");
        bytes[0] = b'X';
        bytes.pop();
        assert!(matches!(decode(&bytes), Err(Error::StoreTruncated)));
    }

    #[test]
    fn decode_rejects_bad_magic() {
        let mut bytes = encode(b"{}");
        bytes[..4].copy_from_slice(b"FLKX");
        assert!(matches!(decode(&bytes), Err(Error::StoreBadMagic)));
    }

    #[test]
    fn decode_rejects_future_version() {
        let mut bytes = encode(b"{}");
        bytes[4..6].copy_from_slice(&2u16.to_be_bytes());
        assert!(matches!(
            decode(&bytes),
            Err(Error::StoreFutureVersion {
                found: 2,
                supported: FORMAT_VERSION
            })
        ));
    }

    #[test]
    fn decode_rejects_version_zero() {
        let mut bytes = encode(b"{}");
        bytes[4..6].copy_from_slice(&0u16.to_be_bytes());
        assert!(matches!(decode(&bytes), Err(Error::StoreCorrupt)));
    }

    #[test]
    fn decode_rejects_nonzero_reserved() {
        let mut bytes = encode(b"{}");
        bytes[7] = 1;
        assert!(matches!(decode(&bytes), Err(Error::StoreCorrupt)));
    }

    #[test]
    fn decode_rejects_flipped_body_byte() {
        let mut bytes = encode(b"{\"n\":1}");
        bytes[HEADER_LEN + 3] ^= 0x04;
        assert!(matches!(decode(&bytes), Err(Error::StoreCorrupt)));
    }

    #[test]
    fn decode_rejects_flipped_checksum_byte() {
        let mut bytes = encode(b"{\"n\":1}");
        bytes[12] ^= 0x80;
        assert!(matches!(decode(&bytes), Err(Error::StoreCorrupt)));
    }

    #[test]
    fn decode_rejects_trailing_bytes() {
        let mut bytes = encode(b"{\"n\":1}");
        bytes.push(b' ');
        assert!(matches!(decode(&bytes), Err(Error::StoreCorrupt)));
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn decode_never_panics_behind_a_valid_prefix(
            len in any::<u32>(),
            tail in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut bytes = b"FLKS\x00\x01\x00\x00".to_vec();
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(&tail);
            let _ = decode(&bytes);
        }

        #[test]
        fn decode_rejects_every_single_byte_corruption(
            body in proptest::collection::vec(any::<u8>(), 0..200),
            index in any::<proptest::sample::Index>(),
            flip in 1u8..=255,
        ) {
            let mut bytes = encode(&body);
            let i = index.index(bytes.len());
            bytes[i] ^= flip;
            prop_assert!(decode(&bytes).is_err(), "byte {} xor {:#04x} went unnoticed", i, flip);
        }
    }

    // ---- load and save -------------------------------------------------------------

    #[test]
    fn load_on_empty_dir_is_none() {
        let (_dir, mut store) = setup();
        assert!(store.load::<State>().expect("load").is_none());
    }

    #[test]
    fn open_creates_private_directory() {
        let (_dir, store) = setup();
        assert!(store.dir().is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(store.dir())
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        }
    }

    #[test]
    fn save_load_round_trip() {
        let (_dir, mut store) = setup();
        store.save(&state(7)).expect("save");
        let loaded = load(&store).expect("load").expect("some");
        assert_eq!(loaded.value, state(7));
        assert!(loaded.recovered_from.is_none());
        // The same store, too.
        let loaded = store.load::<State>().expect("load").expect("some");
        assert_eq!(loaded.value, state(7));
    }

    #[test]
    fn save_keeps_previous_copy_and_private_files() {
        let (_dir, store) = two_saves();
        assert_eq!(read(&store, STATE_FILE), frame(2));
        assert_eq!(read(&store, PREVIOUS_FILE), frame(1));
        assert!(!store.dir().join(TEMP_FILE).exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = fs::metadata(store.dir().join(STATE_FILE)).expect("metadata");
            assert_eq!(meta.permissions().mode() & 0o077, 0);
        }
    }

    #[test]
    fn current_corrupt_uses_previous() {
        let (_dir, store) = two_saves();
        corrupt_current(&store);
        assert_recovered(load(&store), 1, "store_corrupt");
    }

    #[test]
    fn current_truncated_uses_previous() {
        let (_dir, store) = two_saves();
        let bytes = read(&store, STATE_FILE);
        write(&store, STATE_FILE, &bytes[..bytes.len() / 2]);
        assert_recovered(load(&store), 1, "store_truncated");
        write(&store, STATE_FILE, b"");
        assert_recovered(load(&store), 1, "store_truncated");
    }

    #[test]
    fn current_bad_magic_uses_previous() {
        let (_dir, store) = two_saves();
        let mut bytes = read(&store, STATE_FILE);
        bytes[0] = 0;
        write(&store, STATE_FILE, &bytes);
        assert_recovered(load(&store), 1, "store_bad_magic");
    }

    #[test]
    fn current_future_version_uses_previous() {
        let (_dir, store) = two_saves();
        let mut bytes = read(&store, STATE_FILE);
        bytes[4..6].copy_from_slice(&9u16.to_be_bytes());
        write(&store, STATE_FILE, &bytes);
        let loaded = load(&store).expect("load").expect("some");
        assert_eq!(loaded.value, state(1));
        assert!(matches!(
            loaded.recovered_from,
            Some(Error::StoreFutureVersion {
                found: 9,
                supported: FORMAT_VERSION
            })
        ));
    }

    #[test]
    fn current_not_the_state_type_is_decode_error_and_uses_previous() {
        let (_dir, store) = two_saves();
        write(&store, STATE_FILE, &encode(br#"{"n":"secret-value"}"#));
        let loaded = load(&store).expect("load").expect("some");
        assert_eq!(loaded.value, state(1));
        let err = loaded.recovered_from.expect("recovered");
        assert!(matches!(err, Error::StoreDecode { .. }), "{err}");
        // The message names the problem, never the stored bytes.
        assert!(!err.to_string().contains("secret-value"), "{err}");
    }

    #[test]
    fn current_not_json_is_decode_error() {
        let (_dir, store) = two_saves();
        write(&store, STATE_FILE, &encode(b"\x00not json"));
        assert_recovered(load(&store), 1, "store_decode");
    }

    #[test]
    fn both_bad_is_unrecoverable() {
        let (_dir, store) = two_saves();
        corrupt_current(&store);
        write(&store, PREVIOUS_FILE, b"FLKS");
        match load(&store) {
            Err(Error::StoreUnrecoverable { current, previous }) => {
                assert!(matches!(*current, Error::StoreCorrupt));
                assert!(matches!(*previous, Error::StoreTruncated));
            }
            other => panic!("expected unrecoverable, got {other:?}"),
        }
    }

    #[test]
    fn current_bad_and_no_previous_is_unrecoverable() {
        let (_dir, mut store) = setup();
        store.save(&state(1)).expect("save");
        corrupt_current(&store);
        match load(&store) {
            Err(Error::StoreUnrecoverable { current, previous }) => {
                assert!(matches!(*current, Error::StoreCorrupt));
                assert!(is_not_found(&previous), "{previous}");
            }
            other => panic!("expected unrecoverable, got {other:?}"),
        }
    }

    #[test]
    fn only_previous_present_uses_previous_without_recovery() {
        let (_dir, store) = two_saves();
        fs::remove_file(store.dir().join(STATE_FILE)).expect("remove");
        let loaded = load(&store).expect("load").expect("some");
        assert_eq!(loaded.value, state(1));
        assert!(loaded.recovered_from.is_none());
    }

    #[test]
    fn current_missing_and_previous_corrupt_is_unrecoverable() {
        let (_dir, store) = two_saves();
        fs::remove_file(store.dir().join(STATE_FILE)).expect("remove");
        let mut bytes = read(&store, PREVIOUS_FILE);
        bytes[HEADER_LEN] ^= 0x20;
        write(&store, PREVIOUS_FILE, &bytes);
        match load(&store) {
            Err(Error::StoreUnrecoverable { current, previous }) => {
                assert!(is_not_found(&current), "{current}");
                assert!(matches!(*previous, Error::StoreCorrupt));
            }
            other => panic!("expected unrecoverable, got {other:?}"),
        }
    }

    #[test]
    fn stale_temp_file_is_ignored_and_overwritten() {
        let (_dir, mut store) = two_saves();
        write(&store, TEMP_FILE, &frame(99));
        let loaded = load(&store).expect("load").expect("some");
        assert_eq!(loaded.value, state(2));
        write(
            &store,
            TEMP_FILE,
            b"garbage from a crash, longer than the next frame.....",
        );
        store.save(&state(3)).expect("save");
        assert_eq!(load(&store).expect("load").expect("some").value, state(3));
        assert!(!store.dir().join(TEMP_FILE).exists());
    }

    #[test]
    fn stale_temp_file_alone_is_still_a_fresh_device() {
        let (_dir, mut store) = setup();
        write(&store, TEMP_FILE, &frame(5));
        assert!(store.load::<State>().expect("load").is_none());
    }

    #[test]
    fn save_after_corrupt_current_never_overwrites_good_previous() {
        let (_dir, mut store) = two_saves();
        corrupt_current(&store);
        assert_recovered(store.load(), 1, "store_corrupt");
        store.save(&state(3)).expect("save");
        assert_eq!(read(&store, PREVIOUS_FILE), frame(1));
        assert!(decode(&read(&store, BAD_FILE)).is_err());
        assert_eq!(load(&store).expect("load").expect("some").value, state(3));
        corrupt_current(&store);
        assert_recovered(load(&store), 1, "store_corrupt");
    }

    #[test]
    fn save_before_load_never_overwrites_good_previous_with_corrupt_current() {
        let (_dir, store) = two_saves();
        corrupt_current(&store);
        let mut fresh = Store::open(store.dir()).expect("open");
        fresh.save(&state(3)).expect("save");
        assert_eq!(read(&store, PREVIOUS_FILE), frame(1));
        corrupt_current(&store);
        assert_recovered(load(&store), 1, "store_corrupt");
    }

    #[test]
    fn save_rechecks_a_known_good_current_before_rotating_it() {
        let (_dir, mut store) = two_saves();
        corrupt_current(&store); // rot after the store last wrote it
        store.save(&state(3)).expect("save");
        assert_eq!(read(&store, PREVIOUS_FILE), frame(1));
        assert_eq!(read(&store, STATE_FILE), frame(3));
    }

    #[test]
    fn save_before_load_rotates_good_current() {
        let (_dir, store) = two_saves();
        let mut fresh = Store::open(store.dir()).expect("open");
        fresh.save(&state(3)).expect("save");
        assert_eq!(read(&store, PREVIOUS_FILE), frame(2));
        assert_eq!(read(&store, STATE_FILE), frame(3));
    }

    #[test]
    fn save_in_crash_window_keeps_previous() {
        // state.bin missing, state.prev good: the window between the two renames.
        let (_dir, store) = two_saves();
        fs::remove_file(store.dir().join(STATE_FILE)).expect("remove");
        let mut fresh = Store::open(store.dir()).expect("open");
        fresh.save(&state(3)).expect("save");
        assert_eq!(read(&store, PREVIOUS_FILE), frame(1));
        assert_eq!(read(&store, STATE_FILE), frame(3));
    }

    #[test]
    fn oversized_current_file_is_rejected_without_reading_it_all() {
        let (_dir, store) = two_saves();
        let file = File::create(store.dir().join(STATE_FILE)).expect("create");
        file.set_len((HEADER_LEN + MAX_BODY_LEN + 1) as u64)
            .expect("set_len");
        assert_recovered(load(&store), 1, "store_corrupt");
    }

    #[test]
    fn failed_save_leaves_old_value_loadable() {
        let (_dir, mut store) = two_saves();
        // A directory where the temp file goes makes the write fail.
        fs::create_dir(store.dir().join(TEMP_FILE)).expect("mkdir");
        let err = store.save(&state(3)).expect_err("save fails");
        assert_eq!(err.code(), "store_io");
        assert_eq!(load(&store).expect("load").expect("some").value, state(2));
        fs::remove_dir(store.dir().join(TEMP_FILE)).expect("rmdir");
        store.save(&state(3)).expect("save");
        assert_eq!(read(&store, PREVIOUS_FILE), frame(2));
    }

    #[test]
    fn open_on_a_file_is_an_io_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("file");
        fs::write(&path, b"x").expect("write");
        let err = Store::open(&path).expect_err("not a directory");
        assert_eq!(err.code(), "store_io");
    }
}
