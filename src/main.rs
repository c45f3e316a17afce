//! The `blameless` binary: everything lives in the library; see [`blameless::cli`].

fn main() -> std::process::ExitCode {
    blameless::cli::main()
}
