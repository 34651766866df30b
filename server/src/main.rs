//! `finlock`: the lender server and its tools. Everything lives in the library
//! ([`finlock_server::cli`]); this file only hands over the process.

fn main() -> std::process::ExitCode {
    finlock_server::cli::main()
}
