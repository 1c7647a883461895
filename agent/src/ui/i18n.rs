//! The resident's languages and their Fluent files (`agent/locales/*.ftl`), compiled into
//! the binary so a bare PC needs nothing beside the executable. The console and the
//! window read the same sentences through [`Strings`].

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// A language the resident can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    /// French (the default).
    Fr,
    /// English.
    En,
    /// Arabic.
    Ar,
    /// Dari (Afghan Persian).
    FaAf,
    /// Pashto.
    Ps,
    /// Ukrainian.
    Uk,
    /// Russian.
    Ru,
    /// Tigrinya.
    Ti,
}

impl Lang {
    /// Every language, in the order of the picker.
    pub const ALL: [Lang; 8] = [
        Lang::Fr,
        Lang::En,
        Lang::Ar,
        Lang::FaAf,
        Lang::Ps,
        Lang::Uk,
        Lang::Ru,
        Lang::Ti,
    ];

    /// Picks from a BCP 47 tag (`--lang` or the config file), else the PC's language
    /// (on Linux `LC_ALL`, `LC_MESSAGES`, `LANG`; on Windows its display languages), else
    /// French.
    pub fn pick(tag: Option<&str>) -> Self {
        if let Some(lang) = tag.and_then(Self::from_tag) {
            return lang;
        }
        crate::platform::system_languages()
            .iter()
            .find_map(|value| Self::from_tag(value))
            .unwrap_or(Lang::Fr)
    }

    /// The language of a BCP 47 tag or a POSIX locale (`ar_SY.UTF-8`), if we have it.
    pub fn from_tag(tag: &str) -> Option<Self> {
        let lower = tag.trim().to_ascii_lowercase().replace('_', "-");
        let primary = lower.split(['-', '.', '@']).next().unwrap_or("");
        match primary {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            "ar" => Some(Lang::Ar),
            // Dari is tagged `fa-AF`, or `prs` (ISO 639-3); Iranian Persian reads it well.
            "fa" | "prs" => Some(Lang::FaAf),
            "ps" | "pbu" | "pst" => Some(Lang::Ps),
            "uk" => Some(Lang::Uk),
            "ru" => Some(Lang::Ru),
            "ti" => Some(Lang::Ti),
            _ => None,
        }
    }

    /// The BCP 47 tag, sent to the relay and shown to the caseworker.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
            Lang::Ar => "ar",
            Lang::FaAf => "fa-AF",
            Lang::Ps => "ps",
            Lang::Uk => "uk",
            Lang::Ru => "ru",
            Lang::Ti => "ti",
        }
    }

    /// The language's name in its own script, for the picker.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Fr => "Français",
            Lang::En => "English",
            Lang::Ar => "العربية",
            Lang::FaAf => "دری",
            Lang::Ps => "پښتو",
            Lang::Uk => "Українська",
            Lang::Ru => "Русский",
            Lang::Ti => "ትግርኛ",
        }
    }

    /// Whether the language is written right to left (the window mirrors its layout).
    pub fn is_rtl(self) -> bool {
        matches!(self, Lang::Ar | Lang::FaAf | Lang::Ps)
    }

    /// The Fluent source of the language.
    pub fn source(self) -> &'static str {
        match self {
            Lang::Fr => include_str!("../../locales/fr.ftl"),
            Lang::En => include_str!("../../locales/en.ftl"),
            Lang::Ar => include_str!("../../locales/ar.ftl"),
            Lang::FaAf => include_str!("../../locales/fa-AF.ftl"),
            Lang::Ps => include_str!("../../locales/ps.ftl"),
            Lang::Uk => include_str!("../../locales/uk.ftl"),
            Lang::Ru => include_str!("../../locales/ru.ftl"),
            Lang::Ti => include_str!("../../locales/ti.ftl"),
        }
    }
}

/// A value for a placeable in a sentence.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    /// Text (a name, a site, a duration already put into words).
    Text(&'a str),
    /// A number: Fluent picks the plural form of the language from it.
    Num(u64),
}

/// The sentences of one language.
pub struct Strings {
    lang: Lang,
    bundle: FluentBundle<FluentResource>,
}

impl Strings {
    /// Loads `lang`. With `isolate`, every placeable is wrapped in Unicode isolates
    /// (FSI…PDI) so a Latin name inside an Arabic sentence, or digits, keep their order;
    /// the console turns it off so its lines stay plain text for scripts.
    pub fn new(lang: Lang, isolate: bool) -> Self {
        let id: LanguageIdentifier = lang.tag().parse().unwrap_or_default();
        let mut bundle = FluentBundle::new_concurrent(vec![id]);
        bundle.set_use_isolating(isolate);
        // The files are part of the binary and parsed by a unit test; a broken line
        // would only lose that message, which `get` then names by its key.
        let resource = match FluentResource::try_new(lang.source().to_string()) {
            Ok(r) => r,
            Err((r, errors)) => {
                tracing::error!(lang = lang.tag(), ?errors, "a Fluent file has errors");
                r
            }
        };
        if let Err(errors) = bundle.add_resource(resource) {
            tracing::error!(lang = lang.tag(), ?errors, "a Fluent file repeats a key");
        }
        Self { lang, bundle }
    }

    /// The language of these sentences.
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// A sentence without placeables.
    pub fn get(&self, key: &str) -> String {
        self.with(key, &[])
    }

    /// A sentence with its placeables filled in.
    pub fn with(&self, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        let Some(pattern) = self.bundle.get_message(key).and_then(|m| m.value()) else {
            tracing::error!(lang = self.lang.tag(), key, "missing sentence");
            return key.to_string();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            let value = match value {
                Arg::Text(s) => FluentValue::from(*s),
                Arg::Num(n) => FluentValue::from(*n),
            };
            fluent_args.set(*name, value);
        }
        let mut errors = Vec::new();
        let text = self
            .bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::error!(
                lang = self.lang.tag(),
                key,
                ?errors,
                "a sentence lacks a value"
            );
        }
        text.into_owned()
    }
}

/// The message keys of a Fluent source, in file order (for the completeness test and
/// the font coverage test).
pub fn keys(source: &str) -> Vec<String> {
    let resource = match FluentResource::try_new(source.to_string()) {
        Ok(r) | Err((r, _)) => r,
    };
    resource
        .entries()
        .filter_map(|entry| match entry {
            fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_file_parses_and_has_every_key_of_every_other() {
        let reference: BTreeSet<String> = keys(Lang::En.source()).into_iter().collect();
        assert!(reference.len() > 40);
        for lang in Lang::ALL {
            if let Err((_, errors)) = FluentResource::try_new(lang.source().to_string()) {
                panic!("{}: {errors:?}", lang.tag());
            }
            let found: BTreeSet<String> = keys(lang.source()).into_iter().collect();
            let missing: Vec<_> = reference.difference(&found).collect();
            let extra: Vec<_> = found.difference(&reference).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}: missing {missing:?}, extra {extra:?}",
                lang.tag()
            );
        }
    }

    #[test]
    fn every_sentence_formats_without_errors_in_every_language() {
        let args = [
            ("site", Arg::Text("CHRS Les Lilas")),
            ("name", Arg::Text("Marie Dupont")),
            ("who", Arg::Text("Marie Dupont (CHRS Les Lilas)")),
            ("secs", Arg::Num(27)),
            ("n", Arg::Num(12)),
            ("view", Arg::Text("12")),
            ("control", Arg::Text("3")),
            ("keys", Arg::Text("Ctrl+Alt+S")),
            ("path", Arg::Text("/tmp/r.txt")),
            ("date", Arg::Text("2026-11-25")),
            ("amount", Arg::Text("2.4 MB")),
            ("x", Arg::Text("2.4")),
            ("code", Arg::Text("0421")),
            ("file", Arg::Text("attestation.pdf")),
            ("size", Arg::Text("240 KB")),
            ("percent", Arg::Num(42)),
        ];
        for lang in Lang::ALL {
            let strings = Strings::new(lang, true);
            for key in keys(lang.source()) {
                let pattern = strings
                    .bundle
                    .get_message(&key)
                    .and_then(|m| m.value())
                    .unwrap_or_else(|| panic!("{}: {key} has no value", lang.tag()));
                let mut fargs = FluentArgs::new();
                for (k, v) in &args {
                    match v {
                        Arg::Text(s) => fargs.set(*k, *s),
                        Arg::Num(n) => fargs.set(*k, *n),
                    }
                }
                let mut errors = Vec::new();
                let text = strings
                    .bundle
                    .format_pattern(pattern, Some(&fargs), &mut errors);
                assert!(errors.is_empty(), "{} {key}: {errors:?}", lang.tag());
                assert!(!text.trim().is_empty(), "{} {key} is empty", lang.tag());
            }
        }
    }

    #[test]
    fn plurals_follow_each_language() {
        let en = Strings::new(Lang::En, false);
        assert_eq!(
            en.with("countdown", &[("secs", Arg::Num(1))]),
            "1 second left."
        );
        assert_eq!(
            en.with("countdown", &[("secs", Arg::Num(30))]),
            "30 seconds left."
        );
        let ru = Strings::new(Lang::Ru, false);
        assert_eq!(
            ru.with("duration-minutes", &[("n", Arg::Num(1))]),
            "1 минуту"
        );
        assert_eq!(
            ru.with("duration-minutes", &[("n", Arg::Num(3))]),
            "3 минуты"
        );
        assert_eq!(
            ru.with("duration-minutes", &[("n", Arg::Num(12))]),
            "12 минут"
        );
        assert_eq!(
            ru.with("duration-minutes", &[("n", Arg::Num(21))]),
            "21 минуту"
        );
        let ar = Strings::new(Lang::Ar, false);
        assert_eq!(
            ar.with("duration-minutes", &[("n", Arg::Num(2))]),
            "دقيقتين"
        );
        assert_eq!(
            ar.with("duration-minutes", &[("n", Arg::Num(5))]),
            "5 دقائق"
        );
        assert_eq!(
            ar.with("duration-minutes", &[("n", Arg::Num(12))]),
            "12 دقيقة"
        );
        let fr = Strings::new(Lang::Fr, false);
        assert_eq!(
            fr.with("countdown", &[("secs", Arg::Num(1))]),
            "Encore 1 seconde."
        );
    }

    #[test]
    fn isolation_wraps_names_in_the_window_only() {
        let ar = Strings::new(Lang::Ar, true);
        let s = ar.with("sharing-bar", &[("name", Arg::Text("Marie Dupont"))]);
        assert!(s.contains("\u{2068}Marie Dupont\u{2069}"), "{s:?}");
        let console = Strings::new(Lang::En, false);
        let s = console.with("sharing-bar", &[("name", Arg::Text("Marie Dupont"))]);
        assert_eq!(s, "Your screen is visible to Marie Dupont.");
    }

    #[test]
    fn language_choice() {
        assert_eq!(Lang::pick(Some("en-GB")), Lang::En);
        assert_eq!(Lang::pick(Some("fr")), Lang::Fr);
        assert_eq!(Lang::from_tag("ar_SY.UTF-8"), Some(Lang::Ar));
        assert_eq!(Lang::from_tag("fa-AF"), Some(Lang::FaAf));
        assert_eq!(Lang::from_tag("prs"), Some(Lang::FaAf));
        assert_eq!(Lang::from_tag("ti-ER"), Some(Lang::Ti));
        assert_eq!(Lang::from_tag("de"), None);
        assert_eq!(Lang::from_tag("C"), None);
        for lang in Lang::ALL {
            assert_eq!(Lang::from_tag(lang.tag()), Some(lang));
        }
    }
}
