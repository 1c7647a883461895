//! The fonts compiled into the agent, so every language shows on a bare PC with no
//! Arabic or Ethiopic font installed: Noto Sans (Latin and Cyrillic), Noto Sans Arabic
//! (Arabic, Dari, Pashto) and Noto Sans Ethiopic (Tigrinya), regular and bold, under the
//! SIL Open Font License (`agent/assets/fonts/OFL.txt`).
//!
//! Registering a font with Slint is not enough for it to be used for a script the
//! default family lacks (the evaluation found boxes); each script's family is also made
//! its fallback through fontique (`unstable-fontique-011`).

use std::sync::Arc;

/// One bundled font: its file name, its bytes and the scripts (ISO 15924) it serves.
pub struct Bundled {
    /// The file under `agent/assets/fonts/`.
    pub file: &'static str,
    /// The font itself.
    pub bytes: &'static [u8],
    /// Scripts it is the fallback for.
    pub scripts: &'static [[u8; 4]],
}

/// Every bundled font.
pub const BUNDLED: [Bundled; 6] = [
    Bundled {
        file: "NotoSans-Regular.ttf",
        bytes: include_bytes!("../../assets/fonts/NotoSans-Regular.ttf"),
        scripts: &[*b"Latn", *b"Cyrl", *b"Zyyy"],
    },
    Bundled {
        file: "NotoSans-Bold.ttf",
        bytes: include_bytes!("../../assets/fonts/NotoSans-Bold.ttf"),
        scripts: &[*b"Latn", *b"Cyrl", *b"Zyyy"],
    },
    Bundled {
        file: "NotoSansArabic-Regular.ttf",
        bytes: include_bytes!("../../assets/fonts/NotoSansArabic-Regular.ttf"),
        scripts: &[*b"Arab"],
    },
    Bundled {
        file: "NotoSansArabic-Bold.ttf",
        bytes: include_bytes!("../../assets/fonts/NotoSansArabic-Bold.ttf"),
        scripts: &[*b"Arab"],
    },
    Bundled {
        file: "NotoSansEthiopic-Regular.ttf",
        bytes: include_bytes!("../../assets/fonts/NotoSansEthiopic-Regular.ttf"),
        scripts: &[*b"Ethi"],
    },
    Bundled {
        file: "NotoSansEthiopic-Bold.ttf",
        bytes: include_bytes!("../../assets/fonts/NotoSansEthiopic-Bold.ttf"),
        scripts: &[*b"Ethi"],
    },
];

/// Registers the bundled fonts with Slint's font collection and puts them first, ahead
/// of the system's, both in the generic families Slint falls back to after the named
/// one (sans-serif, system-ui) and among the fallbacks of their scripts: a system font
/// that happens to cover Arabic (DejaVu Sans does, without Pashto's letters or a bold
/// weight) must not be picked over ours. Call once the toolkit is up (after the first
/// window is created).
pub fn register() {
    use slint::fontique_011::fontique::{Blob, FallbackKey, FamilyId, GenericFamily, Script};
    let mut collection = slint::fontique_011::shared_collection();
    let mut ours: Vec<([u8; 4], Vec<FamilyId>)> = Vec::new();
    for font in &BUNDLED {
        let families: Vec<FamilyId> = collection
            .register_fonts(Blob::new(Arc::new(font.bytes)), None)
            .into_iter()
            .map(|(family, _)| family)
            .collect();
        for script in font.scripts {
            match ours.iter_mut().find(|(s, _)| s == script) {
                Some((_, list)) => {
                    for family in &families {
                        if !list.contains(family) {
                            list.push(*family);
                        }
                    }
                }
                None => ours.push((*script, families.clone())),
            }
        }
    }
    let mut all: Vec<FamilyId> = Vec::new();
    for family in ours.iter().flat_map(|(_, list)| list) {
        if !all.contains(family) {
            all.push(*family);
        }
    }
    for generic in [
        GenericFamily::SansSerif,
        GenericFamily::SystemUi,
        GenericFamily::UiSansSerif,
    ] {
        let system: Vec<FamilyId> = collection
            .generic_families(generic)
            .filter(|f| !all.contains(f))
            .collect();
        collection.set_generic_families(generic, all.iter().copied().chain(system));
    }
    for (script, families) in ours {
        let key = FallbackKey::new(Script::from_bytes(script), None);
        let system: Vec<FamilyId> = collection
            .fallback_families(key)
            .filter(|f| !families.contains(f))
            .collect();
        collection.set_fallbacks(key, families.into_iter().chain(system));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ui::i18n::{Lang, keys};

    /// Characters that draw nothing and need no glyph: spaces, the isolates Fluent adds,
    /// and joiners (which shaping consumes).
    fn needs_no_glyph(c: char) -> bool {
        c.is_whitespace() || matches!(c, '\u{2066}'..='\u{2069}' | '\u{200C}' | '\u{200D}')
    }

    #[test]
    fn the_bundled_fonts_cover_every_character_of_every_language() {
        let faces: Vec<ttf_parser::Face<'_>> = BUNDLED
            .iter()
            .map(|f| {
                ttf_parser::Face::parse(f.bytes, 0).unwrap_or_else(|e| panic!("{}: {e}", f.file))
            })
            .collect();
        let covered = |c: char| faces.iter().any(|face| face.glyph_index(c).is_some());
        let mut missing = Vec::new();
        for lang in Lang::ALL {
            // The whole file: every message, every plural variant, plus the language's
            // own name in the picker and the window's fixed texts.
            let text = format!(
                "{}{}Acote Ctrl+Alt+S 0123456789…",
                lang.source(),
                lang.native_name()
            );
            for c in text.chars().filter(|c| !needs_no_glyph(*c)) {
                if !covered(c) {
                    missing.push((lang.tag(), c, format!("U+{:04X}", u32::from(c))));
                }
            }
        }
        missing.dedup();
        assert!(missing.is_empty(), "no bundled glyph for {missing:?}");
        assert!(keys(Lang::Ps.source()).len() > 40);
    }

    #[test]
    fn pashto_letters_are_covered_by_the_arabic_font() {
        let arabic = ttf_parser::Face::parse(BUNDLED[2].bytes, 0).unwrap();
        for c in "ټډړښګځڅېۍږڼ".chars() {
            assert!(arabic.glyph_index(c).is_some(), "{c}");
        }
    }
}
