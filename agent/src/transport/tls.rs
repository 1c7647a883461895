//! How the agent trusts its relay: the system's root certificates, or — for a site with a
//! self-signed relay — exactly one certificate, named by its SHA-256 fingerprint. A
//! mismatch is an error; there is no fallback to trusting anything.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A SHA-256 certificate fingerprint.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Why a fingerprint or the trust setup was refused.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// Not 64 hex digits (colons allowed).
    #[error("the fingerprint must be 64 hexadecimal digits (SHA-256), colons allowed")]
    BadFingerprint,
    /// The system has no usable root certificates.
    #[error("no system root certificates could be loaded; give the relay's --fingerprint instead")]
    NoRoots,
    /// rustls refused the configuration.
    #[error("TLS setup failed: {0}")]
    Rustls(#[from] rustls::Error),
}

impl std::str::FromStr for Fingerprint {
    type Err = TrustError;

    fn from_str(s: &str) -> Result<Self, TrustError> {
        let digits: String = s.trim().chars().filter(|c| *c != ':').collect();
        let bytes = hex::decode(digits).map_err(|_| TrustError::BadFingerprint)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| TrustError::BadFingerprint)?;
        Ok(Self(arr))
    }
}

/// The certificate presented does not have the pinned fingerprint.
#[derive(Debug, thiserror::Error)]
#[error("the relay's certificate (sha256 {got}) is not the pinned one (sha256 {expected})")]
pub struct FingerprintMismatch {
    /// Pinned.
    pub expected: String,
    /// Presented.
    pub got: String,
}

/// A TLS failure in words a person can act on (rustls shows only `Debug` of ours).
pub fn describe(e: &rustls::Error) -> String {
    if let rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) = e
        && let Some(mismatch) = other.0.downcast_ref::<FingerprintMismatch>()
    {
        return mismatch.to_string();
    }
    format!("the relay's certificate is not trusted ({e})")
}

#[derive(Debug)]
struct PinnedVerifier {
    pin: Fingerprint,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got: [u8; 32] = Sha256::digest(end_entity.as_ref()).into();
        if bool::from(got.ct_eq(&self.pin.0)) {
            Ok(ServerCertVerified::assertion())
        } else {
            let mismatch = FingerprintMismatch {
                expected: hex::encode(self.pin.0),
                got: hex::encode(got),
            };
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::Other(rustls::OtherError(Arc::new(mismatch))),
            ))
        }
    }

    // The handshake signature is still checked: pinning replaces the chain of trust, not
    // the proof that the server holds the certificate's key.
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A TLS client configuration trusting the pinned certificate, or the system roots.
pub fn client_config(pin: Option<Fingerprint>) -> Result<Arc<rustls::ClientConfig>, TrustError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?;
    let config = match pin {
        Some(pin) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier { pin, provider }))
            .with_no_client_auth(),
        None => {
            let mut roots = rustls::RootCertStore::empty();
            let loaded = rustls_native_certs::load_native_certs();
            for cert in loaded.certs {
                let _ = roots.add(cert);
            }
            if roots.is_empty() {
                return Err(TrustError::NoRoots);
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_with_or_without_colons() {
        let plain = "4c0f5a70f465a4a903f9bb2a044bba617621b50e5e687de78886bf4fe3620d02";
        let a: Fingerprint = plain.parse().unwrap();
        let colons: String = plain
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap().to_uppercase())
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(a, colons.parse().unwrap());
        assert!("abc".parse::<Fingerprint>().is_err());
        assert!(format!("{plain}00").parse::<Fingerprint>().is_err());
        assert!(plain.replace('4', "g").parse::<Fingerprint>().is_err());
    }

    #[test]
    fn mismatch_is_refused() {
        let v = PinnedVerifier {
            pin: Fingerprint([7; 32]),
            provider: Arc::new(rustls::crypto::ring::default_provider()),
        };
        let cert = CertificateDer::from(vec![1u8, 2, 3]);
        let name = ServerName::try_from("localhost").unwrap();
        let err = v
            .verify_server_cert(&cert, &[], &name, &[], UnixTime::now())
            .unwrap_err();
        assert!(
            describe(&err).starts_with("the relay's certificate (sha256 0390"),
            "{err}"
        );
        assert!(describe(&err).contains("is not the pinned one (sha256 0707"));
        let right = PinnedVerifier {
            pin: Fingerprint(Sha256::digest([1u8, 2, 3]).into()),
            ..v
        };
        assert!(
            right
                .verify_server_cert(&cert, &[], &name, &[], UnixTime::now())
                .is_ok()
        );
    }
}
