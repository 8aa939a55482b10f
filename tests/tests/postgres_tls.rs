//! TLS to PostgreSQL, as managed databases require: a private cluster that accepts TCP only
//! over TLS, with a server certificate (for `localhost`) signed by a CA made here with the
//! openssl CLI. `sslmode=require` connects (encrypted, certificate unchecked);
//! `sslmode=verify-full` with the CA file connects to the name on the certificate and refuses
//! another name, another CA, or no CA file; `sslmode=disable` is refused by the server.

use std::{path::Path, process::Command};

use mastra_runtime::memory::{PostgresStorage, Storage, StorageError, Thread};
use mastra_tests::{
    pg_cluster::{PgCluster, ServerTls},
    temp_dir,
};

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A self-signed CA in `dir` (`<name>.crt`, `<name>.key`).
fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    );
}

/// A server certificate for `localhost` only, signed by the CA `ca`.
fn make_server_cert(dir: &Path, ca: &str) -> ServerTls {
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n\
         keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write the extensions");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            &format!("{ca}.crt"),
            "-CAkey",
            &format!("{ca}.key"),
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    );
    ServerTls {
        cert: dir.join("server.crt"),
        key: dir.join("server.key"),
    }
}

/// Opens a store at `url` and writes and reads a thread through it.
async fn round_trip(url: &str) -> Result<(), StorageError> {
    let storage = PostgresStorage::from_url(url)?;
    storage.init().await?;
    let id = format!("t-{}", url.len());
    if storage.get_thread(&id).await?.is_none() {
        storage.create_thread(&Thread::new(&id, "alice")).await?;
    }
    assert!(storage.get_thread(&id).await?.is_some());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_and_verify_full_with_a_ca_file_connect_over_tls() {
    let dir = temp_dir("pg-tls-certs");
    make_ca(&dir, "test-ca");
    make_ca(&dir, "other-ca");
    let tls = make_server_cert(&dir, "test-ca");
    let cluster = PgCluster::start("tls", Some(&tls));
    let ca = dir.join("test-ca.crt").display().to_string();
    let other_ca = dir.join("other-ca.crt").display().to_string();

    // The server takes TCP only over TLS.
    let plain = round_trip(&cluster.url("sslmode=disable")).await;
    assert!(
        matches!(&plain, Err(StorageError::Open { message, .. }) if message.contains("cannot connect")),
        "{plain:?}"
    );

    round_trip(&cluster.url("sslmode=require"))
        .await
        .expect("sslmode=require connects, whatever the certificate");
    round_trip(&cluster.localhost_url(&format!("sslmode=verify-full&sslrootcert={ca}")))
        .await
        .expect("verify-full connects to the name on the certificate, signed by the CA file");
    round_trip(&cluster.url(&format!("sslmode=verify-ca&sslrootcert={ca}")))
        .await
        .expect("verify-ca checks the chain, not the name");

    for (what, url) in [
        (
            "a name the certificate does not carry",
            cluster.url(&format!("sslmode=verify-full&sslrootcert={ca}")),
        ),
        (
            "a certificate from another CA",
            cluster.localhost_url(&format!("sslmode=verify-full&sslrootcert={other_ca}")),
        ),
        (
            "no CA file (only the public roots)",
            cluster.localhost_url("sslmode=verify-full"),
        ),
    ] {
        let refused = round_trip(&url).await;
        assert!(
            matches!(&refused, Err(StorageError::Open { .. })),
            "{what}: {refused:?}"
        );
        let text = refused.unwrap_err().to_string();
        assert!(text.contains("invalid peer certificate"), "{what}: {text}");
        assert!(!text.contains(mastra_tests::pg_cluster::PASSWORD), "{text}");
    }
}
