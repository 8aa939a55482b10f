//! Shared by the macro tests that check an expansion over HTTP: a real server for one test
//! file's annotated routes, and a raw `GET` against it.

use std::net::{SocketAddr, TcpListener};

use mastra_runtime::{Mastra, RunningServer, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves the `#[api_route]` functions of `module` (pass `module_path!()`) on 127.0.0.1, one
/// worker, no logger.
pub fn serve(module: &str) -> RunningServer {
    let mastra = Mastra::builder()
        .routes_from_module(module)
        .server(ServerConfig::default().install_logger(false).workers(1))
        .build()
        .expect("routes mount");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    mastra.start_on(listener).expect("server starts")
}

/// The raw HTTP/1.1 response to `GET path`, read until the server closes the connection.
pub async fn get(addr: SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}
