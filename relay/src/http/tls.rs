//! The relay's TLS identity: a configured certificate, or a self-signed one created in
//! the data dir on first start and reused after, so that agents can pin its fingerprint.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

use crate::config::TlsConfig;

/// Why the TLS identity could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file could not be read or parsed.
    #[error("cannot load {what} from {path}: {message}")]
    Load {
        /// "certificate" or "private key".
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// The self-signed certificate could not be created or saved.
    #[error("cannot create the self-signed certificate in {dir}: {message}")]
    Create {
        /// The folder.
        dir: PathBuf,
        /// The cause.
        message: String,
    },
    /// The system has no root certificate to check the ACME authority's HTTPS with.
    #[error("no root certificate to check the ACME authority's HTTPS with: {0}")]
    NoRoots(String),
    /// The certificate comes from ACME: there is no file to load again.
    #[error("the certificate comes from ACME and renews by itself: nothing to reload")]
    FromAcme,
    /// rustls refused the certificate and key together.
    #[error("the certificate and key do not form a usable TLS identity: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A ready server configuration and the fingerprint agents pin.
pub struct TlsIdentity {
    /// For the HTTPS listener.
    pub server_config: Arc<rustls::ServerConfig>,
    /// SHA-256 of the leaf certificate (DER), lowercase hex.
    pub fingerprint: String,
}

/// SHA-256 of a DER certificate as lowercase hex: what `--fingerprint` takes.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    hex::encode(Sha256::digest(cert.as_ref()))
}

/// Loads the configured certificate, or the self-signed one in `data_dir/tls/`
/// (creating it on first start).
pub fn load_or_create(tls: &TlsConfig, data_dir: &Path) -> Result<TlsIdentity, TlsError> {
    let (cert_path, key_path) = match (&tls.cert, &tls.key) {
        (Some(c), Some(k)) => (c.clone(), k.clone()),
        _ => {
            let dir = data_dir.join("tls");
            let pair = (dir.join("cert.pem"), dir.join("key.pem"));
            if !pair.0.exists() || !pair.1.exists() {
                create_self_signed(&dir, &pair.0, &pair.1, &tls.hostnames)?;
            }
            pair
        }
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| load_err("certificate", &cert_path, e))?;
    let Some(leaf) = chain.first() else {
        return Err(load_err(
            "certificate",
            &cert_path,
            "no certificate in the file",
        ));
    };
    let fingerprint = fingerprint(leaf);
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| load_err("private key", &key_path, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server_config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    // HTTP/1.1 only: WebSocket upgrades need it, and the viewer is a handful of files.
    server_config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsIdentity {
        server_config: Arc::new(server_config),
        fingerprint,
    })
}

fn load_err(what: &'static str, path: &Path, e: impl std::fmt::Display) -> TlsError {
    TlsError::Load {
        what,
        path: path.to_owned(),
        message: e.to_string(),
    }
}

fn create_self_signed(
    dir: &Path,
    cert: &Path,
    key: &Path,
    extra: &[String],
) -> Result<(), TlsError> {
    let err = |e: &dyn std::fmt::Display| TlsError::Create {
        dir: dir.to_owned(),
        message: e.to_string(),
    };
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    names.extend(extra.iter().cloned());
    let certified = rcgen::generate_simple_self_signed(names).map_err(|e| err(&e))?;
    std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
    write_private(key, certified.key_pair.serialize_pem().as_bytes()).map_err(|e| err(&e))?;
    std::fs::write(cert, certified.cert.pem()).map_err(|e| err(&e))?;
    tracing::info!(dir = %dir.display(), "created a self-signed certificate");
    Ok(())
}

/// Writes a file only the relay's user can read: it holds the TLS private key.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("acote-tls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn self_signed_is_created_once_and_reused() {
        let dir = temp_dir("reuse");
        let a = load_or_create(&TlsConfig::default(), &dir).unwrap();
        let b = load_or_create(&TlsConfig::default(), &dir).unwrap();
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.fingerprint.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("tls/key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key must not be readable by others");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn configured_files_that_are_not_pem_are_refused_clearly() {
        let dir = temp_dir("bad");
        std::fs::create_dir_all(&dir).unwrap();
        let cert = dir.join("c.pem");
        std::fs::write(&cert, "not a certificate").unwrap();
        let tls = TlsConfig {
            cert: Some(cert),
            key: Some(dir.join("missing.pem")),
            hostnames: vec![],
            acme: None,
        };
        let e = load_or_create(&tls, &dir).err().unwrap();
        assert!(e.to_string().contains("certificate"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
