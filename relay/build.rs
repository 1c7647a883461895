//! Rebuilds the relay when the embedded viewer's files change (include_dir alone does not
//! tell cargo about them on stable Rust).

fn main() {
    println!("cargo:rerun-if-changed=../viewer");
}
