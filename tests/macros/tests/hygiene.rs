//! The expansion names everything through `::mastra_runtime::__private` and `::core`, so a module
//! with no imports that shadows common names (`Result`, `Option`, `Vec`, `inventory`,
//! `ApiRoute`, even `line!`) still compiles and registers its route.

#![allow(dead_code, non_camel_case_types, unused_macros)]

mod shadowing {
    struct Result;
    struct Option;
    struct Vec;
    struct String;
    struct Some;
    struct None;
    struct ApiRoute;
    struct RouteDef;
    struct RouteMethod;
    struct OperationFragment;
    struct ResponseFragment;
    struct Inference;
    struct Probe;
    trait InferInput {}
    trait InferOutputFallback {}
    mod inventory {}
    mod mastra_runtime {}
    mod core {}
    mod std {}
    fn assert_extractor() {}
    fn assert_responder() {}
    macro_rules! line {
        () => {
            "not a line number"
        };
    }
    macro_rules! module_path {
        () => {
            0
        };
    }
    macro_rules! submit {
        ($($t:tt)*) => {};
    }

    #[derive(::mastra_runtime::schemars::JsonSchema)]
    #[schemars(crate = "::mastra_runtime::schemars")]
    struct Body {
        text: ::std::string::String,
    }

    async fn pass_through(
        req: ::mastra_runtime::actix_web::dev::ServiceRequest,
        next: ::mastra_runtime::actix_web::middleware::Next<
            ::mastra_runtime::actix_web::body::BoxBody,
        >,
    ) -> ::core::result::Result<
        ::mastra_runtime::actix_web::dev::ServiceResponse<
            ::mastra_runtime::actix_web::body::BoxBody,
        >,
        ::mastra_runtime::actix_web::Error,
    > {
        next.call(req).await
    }

    /// Shadowed everything
    ///
    /// Still registered.
    #[::mastra_runtime::api_route(
        "/hygiene/:id",
        method = "GET",
        requires_auth = false,
        middleware(pass_through),
        openapi(
            summary = "s",
            tags("T"),
            parameters((name = "id", schema = "string")),
            request_body(body = Body),
            responses((status = 200, body = Body), (status = 404)),
        )
    )]
    pub(super) async fn hygienic(
        ::mastra_runtime::Path(id): ::mastra_runtime::Path<::std::string::String>,
    ) -> ::core::result::Result<::std::string::String, ::mastra_runtime::ApiError> {
        ::core::result::Result::Ok(id)
    }
}

#[test]
fn route_in_a_module_shadowing_common_names_is_registered() {
    let defs: ::std::vec::Vec<_> = mastra_runtime::route::RouteDef::all()
        .filter(|def| def.is_in_module("hygiene::shadowing"))
        .collect();
    assert_eq!(defs.len(), 1);
    assert_eq!(defs[0].module_path(), "hygiene::shadowing");
    assert_eq!(defs[0].name(), "hygienic");
    let route = defs[0].route();
    assert_eq!(route.path(), "/hygiene/:id");
    assert_eq!(route.operation().responses.len(), 2);
}

#[test]
fn route_declared_inside_a_function_body_is_registered() {
    #[mastra_runtime::api_route("/local", method = "GET")]
    async fn local() -> &'static str {
        "local"
    }

    let def = mastra_runtime::route::RouteDef::all()
        .find(|def| def.module_path() == "hygiene" && def.name() == "local")
        .expect("registered");
    assert_eq!(def.route().path(), "/local");
}
