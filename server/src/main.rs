//! `finlock`: the lender server and its tools. Everything lives in the library
//! ([`finlock_server::cli`]); this file only hands over the process.

/// The allocator `finlock serve` was profiled and measured with (`cargo xtask bench-server`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    finlock_server::cli::main()
}
