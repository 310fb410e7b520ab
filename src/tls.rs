//! TLS client configuration: rustls with the ring provider, the system's
//! trust store, plus an optional extra CA file (a private PKI, or the
//! throwaway CA of the tests).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

pub fn client_config(extra_ca: Option<&Path>) -> anyhow::Result<Arc<rustls::ClientConfig>> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        // A broken system certificate is skipped, not fatal.
        let _ = roots.add(cert);
    }
    if let Some(path) = extra_ca {
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path)
            .with_context(|| format!("reading CA file {}", path.display()))?
        {
            let cert = cert.with_context(|| format!("CA file {}", path.display()))?;
            roots
                .add(cert)
                .with_context(|| format!("CA file {}", path.display()))?;
            added += 1;
        }
        anyhow::ensure!(added > 0, "CA file {} holds no certificate", path.display());
    }
    anyhow::ensure!(
        !roots.is_empty(),
        "no trusted CA certificates: install ca-certificates or set ca_file"
    );
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}
