//! What a test binary logs through `tracing`, captured in memory. It installs the global
//! subscriber, so a test file that reads logs is a test binary of its own.

use std::{
    io::Write,
    sync::{Arc, Mutex, OnceLock},
};

/// A `tracing` writer appending to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything logged by this test binary so far, as plain text (no ANSI colours), at `INFO`
/// and above. The first call installs the global subscriber that captures it; call it once
/// before the code whose logs you want to read.
pub fn captured_logs() -> String {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    let captured = CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
        captured
    });
    let bytes = captured.0.lock().expect("log buffer").clone();
    String::from_utf8_lossy(&bytes).into_owned()
}
