//! `uniffi-bindgen`, pinned to the workspace's uniffi so the generated Kotlin always matches
//! the scaffolding compiled into `libfinlock_ffi`. Used as
//! `cargo run -p uniffi-bindgen -- generate --library target/debug/libfinlock_ffi.so
//! --language kotlin --out-dir DIR` (see `cargo xtask test`, step `jvm`).

fn main() {
    uniffi::uniffi_bindgen_main()
}
