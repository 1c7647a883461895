//! The relay's configuration: one TOML file, by section, plus the command-line flags of
//! DESIGN §9 which take precedence. Unknown keys are errors, so a typo never silently
//! leaves a default (possibly a weaker one) in place.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why the configuration cannot be used. Each maps to exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown or mistyped keys.
    #[error("the configuration file {path} is not valid: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What the parser said (line, column, key).
        message: String,
    },
    /// A value is present but unusable.
    #[error("configuration: {0}")]
    Value(String),
}

/// The whole relay configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[derive(Default)]
pub struct Config {
    /// `[server]`: where to listen, where to keep data, what the site is called.
    pub server: ServerConfig,
    /// `[tls]`: the certificate; self-signed in the data dir when not given.
    pub tls: TlsConfig,
    /// `[turn]`: the embedded STUN/TURN service (public address discovery, media relay).
    pub turn: TurnConfig,
    /// `[audit]`: how long the audit log keeps records.
    pub audit: AuditConfig,
    /// `[limits]`: how much one address or one socket may take.
    pub limits: LimitsConfig,
    /// `[sign_in]`: whether caseworkers need a passkey.
    pub sign_in: SignInConfig,
    /// `[dangerous]`: options that weaken security; each one set is logged at start.
    pub dangerous: DangerousConfig,
    /// `[metrics]`: Prometheus metrics and readiness on their own address (off by default).
    pub metrics: MetricsConfig,
    /// `[log]`: how log lines are written.
    pub log: LogConfig,
    /// `[store]`: where accounts and the audit log are kept (SQLite in the data dir by default).
    pub store: StoreConfig,
}

/// `[store]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// A PostgreSQL database, `postgres://user:password@host/name` (TLS with
    /// `?sslmode=verify-full`), shared by the relays of one service; unset (the
    /// default), `acote.db` in the data dir.
    pub url: Option<String>,
}

/// `[metrics]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Plain-HTTP address serving `/metrics`, `/healthz` and `/readyz`, e.g.
    /// `127.0.0.1:9464`; unset (the default), none is opened. Keep it on loopback or a
    /// monitoring network: it has no TLS and no sign-in.
    pub listen: Option<SocketAddr>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// One readable line per event, without colours when not on a terminal: what
    /// journald and `journalctl` show well.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// `[log]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `"text"` (default) or `"json"`.
    pub format: LogFormat,
}

/// `[audit]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Records older than this many days are deleted (and the deletion recorded).
    pub retention_days: u32,
}

/// Whether a caseworker's password alone signs them in (issue 16 item 11).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasskeyPolicy {
    /// Caseworkers may enrol passkeys; an account with one needs it after its password,
    /// an account without one signs in with its password alone. The default, so that an
    /// existing site keeps working and its caseworkers can enrol before it is required.
    #[default]
    Optional,
    /// Every sign-in needs a passkey after the password. An account without one can
    /// enrol only from its set-password link (`admin caseworker add` or `reset`).
    Required,
}

/// `[sign_in]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignInConfig {
    /// `"optional"` (default) or `"required"`.
    pub passkeys: PasskeyPolicy,
    /// The WebAuthn relying party id: the relay's DNS name as caseworkers' browsers see
    /// it (never an IP address). By default the host of [`Config::public_url`].
    pub rp_id: Option<String>,
}

/// `[limits]` section: so that a flood from one address cannot deny service to others.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Signaling connections one address may hold (a shelter behind one public address
    /// may have several residents and caseworkers).
    pub connections_per_address: u32,
    /// Signaling connections the relay holds in all.
    pub max_connections: u32,
    /// Sessions (paired agent and viewer) at once.
    pub max_sessions: u32,
    /// Signaling messages one socket may send per second, twice that in a burst.
    pub messages_per_second: u32,
    /// Largest file caseworker and resident may send each other, in megabytes
    /// (10^6 bytes); 0 turns file transfer off. Files never pass through the relay: it
    /// only tells both sides the limit, which each enforces.
    pub max_file_mb: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            connections_per_address: 64,
            max_connections: 5_000,
            max_sessions: 500,
            messages_per_second: 30,
            max_file_mb: acote_proto::files::DEFAULT_MAX_FILE_BYTES / 1_000_000,
        }
    }
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            retention_days: 365,
        }
    }
}

/// `[server]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// HTTPS address for the viewer and signaling.
    pub listen: SocketAddr,
    /// Where the certificate (and later the database) live.
    pub data_dir: PathBuf,
    /// The site's name, shown to residents and caseworkers.
    pub site_name: String,
    /// The address caseworkers use, e.g. `https://acote.example.org:8443`, for the
    /// set-password links `admin caseworker add` prints. By default built from the first
    /// `[tls] hostnames` entry (or `localhost`) and the listening port.
    pub public_url: Option<String>,
}

/// `[tls]` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM certificate chain; with `key`, replaces the self-signed certificate.
    pub cert: Option<PathBuf>,
    /// PEM private key for `cert`.
    pub key: Option<PathBuf>,
    /// Extra DNS names or addresses for the self-signed certificate.
    pub hostnames: Vec<String>,
    /// A certificate from an ACME authority (Let's Encrypt by default), obtained and
    /// renewed by the relay itself: `acme = { domains = [...], contact = "..." }`.
    pub acme: Option<AcmeConfig>,
}

/// `[tls] acme`: certificates by ACME (TLS-ALPN-01 on the HTTPS port, which must be the
/// port 443 the authority reaches under each domain).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcmeConfig {
    /// Public DNS names of the relay; the first is the certificate's main name.
    pub domains: Vec<String>,
    /// Where the authority writes about expiry or problems: an e-mail address.
    pub contact: String,
    /// The authority's directory URL; Let's Encrypt's production one by default.
    #[serde(default = "lets_encrypt")]
    pub directory: String,
}

/// Let's Encrypt's production directory.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

fn lets_encrypt() -> String {
    LETS_ENCRYPT.to_string()
}

impl AcmeConfig {
    /// The contact as the ACME account wants it (`mailto:` URL).
    pub fn contact_url(&self) -> String {
        if self.contact.starts_with("mailto:") {
            self.contact.clone()
        } else {
            format!("mailto:{}", self.contact)
        }
    }

    fn check(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Value(format!("[tls] acme: {m}")));
        if self.domains.is_empty() {
            return bad("`domains` needs at least one public DNS name".into());
        }
        for d in &self.domains {
            let name_like = !d.is_empty()
                && d.len() <= 253
                && d.parse::<IpAddr>().is_err()
                && d.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                });
            if !name_like {
                return bad(format!(
                    "{d:?} is not a DNS name (ACME certifies names, not addresses)"
                ));
            }
        }
        let mail = self.contact.trim_start_matches("mailto:");
        match mail.split_once('@') {
            Some((user, host)) if !user.is_empty() && host.contains('.') => {}
            _ => {
                return bad(format!(
                    "contact {:?} is not an e-mail address",
                    self.contact
                ));
            }
        }
        if !self.directory.starts_with("https://") {
            return bad("`directory` must be an https:// URL".into());
        }
        Ok(())
    }
}

/// `[turn]` section: STUN and TURN on one port (UDP and TCP), TURN over TLS optionally.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TurnConfig {
    /// Whether to run STUN/TURN at all (without it only direct paths work).
    pub enabled: bool,
    /// UDP and TCP address for STUN and TURN.
    pub listen: SocketAddr,
    /// Address for TURN over TLS (the relay's certificate), for networks that let only
    /// TLS out, e.g. `0.0.0.0:5349` or `:443` on a second address.
    pub tls_listen: Option<SocketAddr>,
    /// Host name or address that peers should use to reach it; by default, the host the
    /// peer used to reach the relay's HTTPS port.
    pub public_host: Option<String>,
    /// Addresses put in relayed candidates (the relay's public addresses when it sits
    /// behind NAT); by default the listening address, or the default route's.
    pub public_addresses: Vec<IpAddr>,
    /// Tell both sides to use only relayed paths (sites that require it).
    pub relay_only: bool,
    /// Allocations one session may hold (both sides together).
    pub allocations_per_session: u32,
    /// Allocations the relay holds in all.
    pub max_allocations: u32,
    /// Relayed bandwidth per allocation, kbit/s.
    pub kbit_per_allocation: u64,
    /// Relayed bandwidth per session, kbit/s.
    pub kbit_per_session: u64,
}

/// `[dangerous]` section: nothing here is on by default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DangerousConfig {
    /// Accept WebSocket connections whose Origin is another site (never needed by the
    /// embedded viewer; only for development proxies).
    pub allow_any_origin: bool,
    /// Address ranges TURN may relay to even though they are loopback, private or
    /// link-local (e.g. `["127.0.0.0/8"]` for tests on one machine).
    pub turn_allow_peers: Vec<ipnet::IpNet>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8443)),
            data_dir: PathBuf::from("acote-relay-data"),
            site_name: "Acote".into(),
            public_url: None,
        }
    }
}

impl Default for TurnConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([0, 0, 0, 0], 3478)),
            tls_listen: None,
            public_host: None,
            public_addresses: Vec::new(),
            relay_only: false,
            allocations_per_session: 10,
            max_allocations: 2_000,
            kbit_per_allocation: 4_000,
            kbit_per_session: 6_000,
        }
    }
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|e| match e {
            ConfigError::Invalid { message, .. } => ConfigError::Invalid {
                path: path.to_owned(),
                message,
            },
            other => other,
        })
    }

    /// Parses configuration text (the path in errors is left empty).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: PathBuf::new(),
            message: e.to_string(),
        })?;
        config.check()?;
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if self.tls.cert.is_some() != self.tls.key.is_some() {
            return Err(ConfigError::Value(
                "[tls] needs both `cert` and `key`, or neither (for a self-signed certificate)"
                    .into(),
            ));
        }
        if let Some(acme) = &self.tls.acme {
            if self.tls.cert.is_some() {
                return Err(ConfigError::Value(
                    "[tls] has both `cert` and `acme`: choose one way to get the certificate"
                        .into(),
                ));
            }
            acme.check()?;
        }
        let l = &self.limits;
        if [
            l.connections_per_address,
            l.max_connections,
            l.max_sessions,
            l.messages_per_second,
        ]
        .contains(&0)
        {
            return Err(ConfigError::Value(
                "[limits] values must be at least 1".into(),
            ));
        }
        let t = &self.turn;
        if t.allocations_per_session == 0
            || t.max_allocations == 0
            || t.kbit_per_allocation < 64
            || t.kbit_per_session < 64
        {
            return Err(ConfigError::Value(
                "[turn] allocation limits must be at least 1 and bandwidths at least 64 kbit/s"
                    .into(),
            ));
        }
        if t.public_addresses
            .iter()
            .any(|a| a.is_unspecified() || a.is_multicast())
        {
            return Err(ConfigError::Value(
                "[turn] public_addresses must be real unicast addresses".into(),
            ));
        }
        if self.audit.retention_days == 0 {
            return Err(ConfigError::Value(
                "[audit] retention_days must be at least 1".into(),
            ));
        }
        if let Some(url) = &self.server.public_url
            && !url.starts_with("https://")
        {
            return Err(ConfigError::Value(
                "[server] public_url must start with https://".into(),
            ));
        }
        let rp_id = self.rp_id();
        if self.sign_in.passkeys == PasskeyPolicy::Required
            && (rp_id.parse::<IpAddr>().is_ok() || rp_id.starts_with('[') || rp_id.is_empty())
        {
            return Err(ConfigError::Value(format!(
                "[sign_in] passkeys = \"required\" needs the relay's DNS name as rp_id \
                 (browsers refuse passkeys for an address such as {rp_id}); set [sign_in] \
                 rp_id, [server] public_url or [tls] hostnames"
            )));
        }
        if let Some(url) = &self.store.url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Value(
                "[store] url must be a postgres:// URL (leave it out for SQLite in the data dir)"
                    .into(),
            ));
        }
        if self.server.site_name.trim().is_empty() || self.server.site_name.len() > 100 {
            return Err(ConfigError::Value(
                "[server] site_name must be 1 to 100 characters".into(),
            ));
        }
        Ok(())
    }

    /// The WebAuthn relying party id: `[sign_in] rp_id`, or the host of the public URL.
    pub fn rp_id(&self) -> String {
        if let Some(id) = &self.sign_in.rp_id {
            return id.clone();
        }
        let url = self.public_url();
        let host = url.trim_start_matches("https://");
        let host = host.split('/').next().unwrap_or(host);
        if let Some(end) = host.find(']') {
            return host[..=end].to_string();
        }
        host.rsplit_once(':').map_or(host, |(h, _)| h).to_string()
    }

    /// The relay's public address, for links given to caseworkers.
    pub fn public_url(&self) -> String {
        if let Some(url) = &self.server.public_url {
            return url.trim_end_matches('/').to_string();
        }
        let acme_name = self.tls.acme.as_ref().and_then(|a| a.domains.first());
        let host = acme_name
            .or(self.tls.hostnames.first())
            .map_or("localhost", String::as_str);
        format!("https://{host}:{}", self.server.listen.port())
    }

    /// The `[dangerous]` options that are on, named for the start-up log.
    pub fn dangerous_in_use(&self) -> Vec<&'static str> {
        let mut on = Vec::new();
        if self.dangerous.allow_any_origin {
            on.push("allow_any_origin");
        }
        if !self.dangerous.turn_allow_peers.is_empty() {
            on.push("turn_allow_peers");
        }
        on
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_safe_defaults() {
        let c = Config::parse("").unwrap();
        assert!(c.tls.cert.is_none());
        assert!(c.dangerous_in_use().is_empty());
        assert!(c.turn.enabled);
        assert!(!c.turn.relay_only);
        assert!(c.dangerous.turn_allow_peers.is_empty());
    }

    #[test]
    fn acme_needs_public_names_and_a_mail_contact_and_excludes_a_certificate_file() {
        let acme = |inner: &str| Config::parse(&format!("[tls]\nacme = {{ {inner} }}\n"));
        let c = acme(
            r#"domains = ["aide.example.org", "acote.example.org"], contact = "it@example.org""#,
        )
        .unwrap();
        let a = c.tls.acme.as_ref().unwrap();
        assert_eq!(a.directory, LETS_ENCRYPT);
        assert_eq!(a.contact_url(), "mailto:it@example.org");
        assert!(c.public_url().starts_with("https://aide.example.org:"));
        for (inner, says) in [
            (
                r#"domains = [], contact = "it@example.org""#,
                "at least one",
            ),
            (
                r#"domains = ["192.0.2.7"], contact = "it@example.org""#,
                "not a DNS name",
            ),
            (
                r#"domains = ["bad name.org"], contact = "it@example.org""#,
                "not a DNS name",
            ),
            (
                r#"domains = ["a..org"], contact = "it@example.org""#,
                "not a DNS name",
            ),
            (r#"domains = ["a.org"], contact = "it""#, "not an e-mail"),
            (
                r#"domains = ["a.org"], contact = "it@a.org", directory = "http://ca/dir""#,
                "https://",
            ),
            (r#"domains = ["a.org"]"#, "contact"),
        ] {
            let e = acme(inner).unwrap_err().to_string();
            assert!(e.contains(says), "{inner}: {e}");
        }
        let e = Config::parse(
            "[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n\
             acme = { domains = [\"a.org\"], contact = \"it@a.org\" }\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("choose one"), "{e}");
    }

    #[test]
    fn turn_section_and_its_dangerous_allow_list() {
        let c = Config::parse(
            "[turn]\nlisten = \"127.0.0.1:0\"\ntls_listen = \"127.0.0.1:0\"\n\
             public_addresses = [\"203.0.113.5\", \"2001:db8::5\"]\nrelay_only = true\n\
             [dangerous]\nturn_allow_peers = [\"127.0.0.0/8\", \"fd00::/8\"]\n",
        )
        .unwrap();
        assert!(c.turn.relay_only);
        assert_eq!(c.turn.public_addresses.len(), 2);
        assert_eq!(c.dangerous.turn_allow_peers.len(), 2);
        assert_eq!(c.dangerous_in_use(), vec!["turn_allow_peers"]);
        let e = Config::parse("[dangerous]\nturn_allow_peers = [\"10.0.0.0/33\"]\n").unwrap_err();
        assert!(e.to_string().contains("turn_allow_peers"), "{e}");
        assert!(Config::parse("[turn]\npublic_addresses = [\"0.0.0.0\"]\n").is_err());
        assert!(Config::parse("[turn]\nkbit_per_session = 1\n").is_err());
        let e = Config::parse("[stun]\nenabled = false\n").unwrap_err();
        assert!(
            e.to_string().contains("stun"),
            "the old section is named: {e}"
        );
    }

    #[test]
    fn sections_are_read() {
        let c = Config::parse(
            "[server]\nlisten = \"127.0.0.1:9000\"\nsite_name = \"CHRS Les Lilas\"\n\
             [turn]\nlisten = \"127.0.0.1:0\"\n[dangerous]\nallow_any_origin = true\n",
        )
        .unwrap();
        assert_eq!(c.server.listen.port(), 9000);
        assert_eq!(c.server.site_name, "CHRS Les Lilas");
        assert_eq!(c.dangerous_in_use(), vec!["allow_any_origin"]);
        assert_eq!(c.audit.retention_days, 365);
        assert_eq!(c.public_url(), "https://localhost:9000");
        let c = Config::parse("[audit]\nretention_days = 30\n").unwrap();
        assert_eq!(c.audit.retention_days, 30);
        assert!(Config::parse("[audit]\nretention_days = 0\n").is_err());
        assert!(Config::parse("[server]\npublic_url = \"http://x\"\n").is_err());
    }

    #[test]
    fn passkeys_are_optional_by_default_and_their_rp_id_is_the_relays_name() {
        let c = Config::parse("").unwrap();
        assert_eq!(c.sign_in.passkeys, PasskeyPolicy::Optional);
        assert_eq!(c.rp_id(), "localhost");
        let c = Config::parse(
            "[server]\npublic_url = \"https://acote.example.org:8443/\"\n\
             [sign_in]\npasskeys = \"required\"\n",
        )
        .unwrap();
        assert_eq!(c.sign_in.passkeys, PasskeyPolicy::Required);
        assert_eq!(c.rp_id(), "acote.example.org");
        let e = Config::parse(
            "[tls]\nhostnames = [\"192.0.2.1\"]\n[sign_in]\npasskeys = \"required\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("rp_id"), "{e}");
        assert!(Config::parse("[sign_in]\npasskeys = \"always\"\n").is_err());
    }

    #[test]
    fn typos_and_bad_values_are_refused_with_the_key_named() {
        let e = Config::parse("[server]\nlisen = \"1.2.3.4:5\"\n").unwrap_err();
        assert!(e.to_string().contains("lisen"), "{e}");
        let e = Config::parse("[server]\nlisten = \"nowhere\"\n").unwrap_err();
        assert!(matches!(e, ConfigError::Invalid { .. }), "{e}");
        let e = Config::parse("[tls]\ncert = \"c.pem\"\n").unwrap_err();
        assert!(e.to_string().contains("both"), "{e}");
        let e = Config::parse("[server]\nsite_name = \" \"\n").unwrap_err();
        assert!(matches!(e, ConfigError::Value(_)));
    }
}
