//! The `blameless` binary: everything lives in the library; see [`blameless::cli`].

fn main() -> std::process::ExitCode {
    blameless::cli::main()
}

// mimalloc: rendering thousands of pages is allocation-heavy (a quarter of the
// samples were malloc/free with the system allocator).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
