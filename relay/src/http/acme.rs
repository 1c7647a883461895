//! Certificates from an ACME authority (Let's Encrypt by default) for sites with a public
//! DNS name: ordered on first start, kept in `data_dir/acme/` (0700: it holds the keys),
//! renewed a third of their lifetime before they expire, all by the relay itself. The
//! authority proves the name with TLS-ALPN-01 on the HTTPS port, so nothing else listens.

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::StreamExt;
use rustls_acme::caches::DirCache;
use rustls_acme::{AcmeConfig as Order, EventOk, UseChallenge};

use super::tls::TlsError;
use crate::config::AcmeConfig;

/// What the HTTPS listener needs from ACME, and the task that gets and renews the
/// certificate (run it for as long as the relay serves).
pub struct Acme {
    /// Answers TLS-ALPN-01 validations itself and hands every other connection on.
    pub acceptor: rustls_acme::axum::AxumAcceptor,
    /// The server configuration whose certificate follows the orders (TURN over TLS uses
    /// it too).
    pub server_config: Arc<rustls::ServerConfig>,
    /// Orders, deploys and renews; logs each step.
    pub task: Pin<Box<dyn Future<Output = ()> + Send>>,
}

/// Prepares the ACME state from the cache in `data_dir/acme`. Nothing is fetched yet:
/// [`Acme::task`] does it once the relay serves (the validation needs the listener).
pub fn start(config: &AcmeConfig, data_dir: &Path) -> Result<Acme, TlsError> {
    let dir = data_dir.join("acme");
    private_dir(&dir).map_err(|e| TlsError::Create {
        dir: dir.clone(),
        message: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = Arc::new(
        rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(authority_roots()?)
            .with_no_client_auth(),
    );
    let mut state = Order::new_with_client_config(&config.domains, client)
        .contact_push(config.contact_url())
        .directory(&config.directory)
        .challenge_type(UseChallenge::TlsAlpn01)
        .cache(DirCache::new(dir))
        .state();
    let mut server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(state.resolver());
    // As with a certificate from files: HTTP/1.1 only (WebSocket upgrades need it).
    server_config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let server_config = Arc::new(server_config);
    let acceptor = state.axum_acceptor(server_config.clone());
    let domains = config.domains.join(", ");
    let task = Box::pin(async move {
        while let Some(event) = state.next().await {
            match event {
                Ok(EventOk::DeployedNewCert) => {
                    tracing::info!(%domains, "ACME: new certificate in use")
                }
                Ok(EventOk::DeployedCachedCert) => {
                    tracing::info!(%domains, "ACME: saved certificate in use")
                }
                Ok(EventOk::CertCacheStore) => {
                    tracing::info!(%domains, "ACME: certificate saved in the data folder")
                }
                Ok(step) => tracing::debug!(?step, "ACME"),
                // rustls-acme waits and tries again by itself (backing off), and a
                // certificate in use stays in use until it is replaced.
                Err(e) => tracing::warn!(%domains, error = %e, "ACME: no certificate this time"),
            }
        }
    });
    Ok(Acme {
        acceptor,
        server_config,
        task,
    })
}

/// The roots the authority's own HTTPS certificate is checked against: the system's
/// (`SSL_CERT_FILE` names another bundle, e.g. a test authority's).
fn authority_roots() -> Result<rustls::RootCertStore, TlsError> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    let (added, _ignored) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let why = found
            .errors
            .first()
            .map_or_else(|| "none found".to_string(), ToString::to_string);
        return Err(TlsError::NoRoots(why));
    }
    Ok(roots)
}

/// Creates `dir` readable by the relay's user only (account and certificate keys).
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
