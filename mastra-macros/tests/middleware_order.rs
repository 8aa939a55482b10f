//! `middleware(a, b)` runs `a` outermost: a request passes `a`, then `b`, then the handler.
//! Checked over HTTP against a real server on 127.0.0.1.

use std::{cell::RefCell, net::TcpListener};

use mastra_runtime::{
    actix_web::{
        self,
        dev::{ServiceRequest, ServiceResponse},
        middleware::Next,
        HttpMessage,
    },
    prelude::*,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The names of the middleware a request went through, in order.
#[derive(Clone, Default)]
struct Trail(Vec<&'static str>);

fn visit(req: &ServiceRequest, name: &'static str) {
    let mut extensions = req.extensions_mut();
    let trail = extensions.get_mut::<Trail>();
    match trail {
        Some(trail) => trail.0.push(name),
        None => {
            extensions.insert(Trail(vec![name]));
        }
    }
}

async fn outer(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    visit(&req, "outer");
    next.call(req).await
}

mod layers {
    use super::*;

    pub async fn inner(
        req: ServiceRequest,
        next: Next<impl MessageBody>,
    ) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
        visit(&req, "inner");
        next.call(req).await
    }
}

#[api_route(
    "/trail",
    method = "GET",
    requires_auth = false,
    middleware(outer, layers::inner)
)]
async fn trail(req: HttpRequest) -> String {
    let trail = RefCell::new(req.extensions().get::<Trail>().cloned().unwrap_or_default());
    trail.borrow_mut().0.push("handler");
    trail.into_inner().0.join(",")
}

async fn get(addr: std::net::SocketAddr, path: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_middleware_listed_is_outermost() {
    let mastra = Mastra::builder()
        .routes_from_module(module_path!())
        .server(ServerConfig::default().install_logger(false).workers(1))
        .build()
        .expect("routes mount");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let server = mastra.start_on(listener).expect("server starts");
    let response = get(server.local_addr(), "/trail").await;
    server.stop(false).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.ends_with("\r\n\r\nouter,inner,handler"),
        "{response}"
    );
}
