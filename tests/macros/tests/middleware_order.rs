//! `middleware(a, b)` runs `a` outermost: a request passes `a`, then `b`, then the handler.
//! Checked over HTTP against a real server on 127.0.0.1.

mod support;

use std::cell::RefCell;

use mastra_runtime::{
    actix_web::{
        self,
        dev::{ServiceRequest, ServiceResponse},
        middleware::Next,
        HttpMessage,
    },
    prelude::*,
};
use support::{get, serve};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_middleware_listed_is_outermost() {
    let server = serve(module_path!());
    let response = get(server.local_addr(), "/trail").await;
    server.stop(false).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.ends_with("\r\n\r\nouter,inner,handler"),
        "{response}"
    );
}
