//! The agent's optional config file, prepared by the site's IT admin and placed beside
//! the executable as `acote-agent.toml`. Flags given on the command line win.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Name of the config file looked for beside the executable.
pub const FILE_NAME: &str = "acote-agent.toml";

/// What the file may say.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// The relay, e.g. `https://relay.example.org:8443`.
    pub relay: Option<String>,
    /// SHA-256 fingerprint of a self-signed relay certificate.
    pub fingerprint: Option<String>,
    /// The resident's language (BCP 47), when the admin knows it.
    pub lang: Option<String>,
    /// The site's name, shown under the code until the relay says its own.
    pub site_name: Option<String>,
    /// Send the screen only through the relay (sites whose policy forbids direct paths).
    pub relay_only: bool,
}

/// Why the config file cannot be used (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum AgentConfigError {
    /// Unreadable.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Not valid.
    #[error("{path} is not valid: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
}

impl AgentConfig {
    /// The file beside the running executable, if there is one.
    pub fn beside_executable() -> Result<Self, AgentConfigError> {
        let Some(path) = std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join(FILE_NAME)))
        else {
            return Ok(Self::default());
        };
        if !path.exists() {
            return Ok(Self::default());
        }
        Self::load(&path)
    }

    /// Reads one file.
    pub fn load(path: &Path) -> Result<Self, AgentConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| AgentConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|message| AgentConfigError::Invalid {
            path: path.to_owned(),
            message,
        })
    }

    /// Parses the file's text; the error says which key or line is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses_unknown_keys() {
        let c: AgentConfig = toml::from_str(
            "relay = \"https://r:1\"\nlang = \"fa\"\nsite_name = \"CHRS Les Lilas\"\n",
        )
        .unwrap();
        assert_eq!(c.relay.as_deref(), Some("https://r:1"));
        assert_eq!(c.site_name.as_deref(), Some("CHRS Les Lilas"));
        assert!(toml::from_str::<AgentConfig>("relai = \"x\"\n").is_err());
    }
}
