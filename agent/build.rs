//! Compiles the resident's window (`ui/window.slint`) into Rust. The "fluent" widget
//! style is named so the look does not depend on the build machine (Slint's default
//! would pick "native" where Qt is installed).

fn main() {
    let config = slint_build::CompilerConfiguration::new().with_style("fluent".into());
    if let Err(e) = slint_build::compile_with_config("ui/window.slint", config) {
        println!("cargo::error=cannot compile ui/window.slint: {e}");
    }
}
