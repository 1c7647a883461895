//! Compiles the resident's window (`ui/window.slint`) into Rust. The "fluent" widget
//! style is named so the look does not depend on the build machine (Slint's default
//! would pick "native" where Qt is installed).
//!
//! On Windows (mingw) OpenH264's C++ standard library is linked statically, last on the
//! link line (scripts/build-windows.sh stops the cc crate from asking for
//! libstdc++-6.dll): the agent is one file.

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.ends_with("-windows-gnu") {
        // libstdc++ needs the C runtime, mingw's and libgcc again after it: one group.
        for arg in [
            "-Wl,-Bstatic",
            "-Wl,--start-group",
            "-lstdc++",
            "-lmingw32",
            "-lgcc",
            "-lgcc_eh",
            "-lmingwex",
            "-lmsvcrt",
            "-lkernel32",
            "-Wl,--end-group",
            "-Wl,-Bdynamic",
        ] {
            println!("cargo::rustc-link-arg-bins={arg}");
        }
    }
    let config = slint_build::CompilerConfiguration::new().with_style("fluent".into());
    if let Err(e) = slint_build::compile_with_config("ui/window.slint", config) {
        println!("cargo::error=cannot compile ui/window.slint: {e}");
    }
}
