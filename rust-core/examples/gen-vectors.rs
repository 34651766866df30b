//! Writes the conformance vectors: `cargo xtask vectors` (or
//! `cargo run -p finlock-core --features test-support --example gen-vectors --
//! rust-core/tests/vectors`).
//!
//! Deterministic: running it twice produces identical files, and the
//! `conformance` test fails when the committed files differ from this output.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: gen-vectors DIR");
        return ExitCode::from(2);
    };
    if let Err(e) = write_all(&dir) {
        eprintln!("gen-vectors: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn write_all(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    // Remove stale vectors so a renamed one does not linger.
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            std::fs::remove_file(path)?;
        }
    }
    let files = finlock_core::conformance::files();
    for (name, text) in &files {
        std::fs::write(dir.join(name), text)?;
    }
    println!("wrote {} vectors to {}", files.len(), dir.display());
    Ok(())
}
