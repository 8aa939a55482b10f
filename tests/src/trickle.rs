//! A client that sends its request head at once and then its body a byte at a time, watching
//! for the server's answer between bytes: the slow-body attack, on a plain TCP socket.

use std::time::{Duration, Instant};

use tokio::{io::AsyncWriteExt, net::TcpStream};

use crate::wire::{self, WireReply};

/// How a trickled request ended.
#[derive(Debug)]
pub struct Trickled {
    /// The server's answer, when it gave one before closing or before the client gave up.
    pub reply: Option<WireReply>,
    /// Time from the first body byte to the first byte of the answer (or to the end).
    pub elapsed: Duration,
    /// Body bytes written.
    pub sent: usize,
    /// Whether the server closed the connection (after its answer, if any) within a few seconds.
    pub closed: bool,
}

/// How long after its answer the server may take to close a cut connection.
pub const CLOSE_WITHIN: Duration = Duration::from_secs(5);

/// How a body is sent: `bytes` of it at a time, every `every`, starting over when it runs out.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    /// Bytes per write.
    pub bytes: usize,
    /// Pause between writes.
    pub every: Duration,
}

impl Pace {
    /// One byte every `every`.
    pub fn byte_every(every: Duration) -> Pace {
        Pace { bytes: 1, every }
    }
}

/// Opens a connection to `base`, writes `head`, then `body` at `pace` until the server answers
/// or closes, or `give_up` has passed since the first byte.
pub async fn trickle(
    base: &str,
    head: &[u8],
    body: &[u8],
    pace: Pace,
    give_up: Duration,
) -> Trickled {
    let mut stream = wire::connect(base).await;
    stream.write_all(head).await.expect("write the head");
    trickle_on(&mut stream, body, pace, give_up).await
}

/// [`trickle`] on a connection whose head was already written.
pub async fn trickle_on(
    stream: &mut TcpStream,
    body: &[u8],
    pace: Pace,
    give_up: Duration,
) -> Trickled {
    let started = Instant::now();
    let mut sent = 0;
    let mut probe = [0u8; 1];
    let mut closed = false;
    while started.elapsed() < give_up {
        let piece: Vec<u8> = (sent..sent + pace.bytes)
            .map(|i| body[i % body.len()])
            .collect();
        if stream.write_all(&piece).await.is_err() {
            closed = true;
            break;
        }
        sent += piece.len();
        match tokio::time::timeout(pace.every, stream.peek(&mut probe)).await {
            Err(_) => continue,
            Ok(Ok(n)) if n > 0 => {
                let elapsed = started.elapsed();
                let reply = wire::read_reply(stream).await;
                let closed = wire::closed_within(stream, CLOSE_WITHIN).await;
                return Trickled {
                    reply: Some(reply),
                    elapsed,
                    sent,
                    closed,
                };
            }
            Ok(_) => {
                closed = true;
                break;
            }
        }
    }
    Trickled {
        reply: None,
        elapsed: started.elapsed(),
        sent,
        closed,
    }
}
