//! Code generation: turns a checked [`RouteArgs`] and [`Handler`] into the registration that
//! follows the function. Never parses; every name goes through `::mastra_runtime::__private`
//! or `::core`, so user items called `Result`, `Option` or `ApiRoute` cannot interfere.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::{ext::IdentExt, spanned::Spanned, LitStr, Type};

use crate::{
    args::RouteArgs,
    handler::{has_impl_trait, Handler},
    openapi::{Operation, Parameter, RequestBody, Response},
};

/// The `const _: () = { ... };` block that checks the handler's types and submits its route.
pub(crate) fn route(args: &RouteArgs, handler: &Handler) -> TokenStream {
    let ident = &handler.ident;
    let name = ident.unraw().to_string();
    let method = runtime_variant(args.method);
    let path = &args.path;
    // Builder calls that would only restate `ApiRoute::new`'s defaults are left out: every
    // token crosses the compiler's proc-macro bridge, and every call is one more for it to check.
    let requires_auth = (!args.requires_auth).then(|| quote!(.requires_auth(false)));
    let assertions = type_assertions(handler);
    // Spanned at the name: if the types are wrong, this error lands next to the assertions'.
    let handler_call = quote_spanned!(ident.span()=> .handler(#ident));
    let middleware = &args.middleware;
    let docs = (handler.docs.summary.is_some() || handler.docs.description.is_some()).then(|| {
        let summary = optional_str(handler.docs.summary.as_deref());
        let description = optional_str(handler.docs.description.as_deref());
        quote!(.docs(#summary, #description))
    });
    let openapi = args.openapi.as_ref().map(|operation| {
        let operation = operation_fragment(operation);
        quote!(.openapi(#operation))
    });
    let mcp = args.mcp.as_ref().map(|mcp| {
        let name = &mcp.name;
        let description = setter("description", mcp.description.as_ref());
        quote!(.mcp(__mastra_private::McpExposure::new(#name) #description))
    });
    let infer = infer(handler);
    // The probes' traits, for method resolution only; `as _` binds no name the user could see.
    let probe_traits = infer.as_ref().map(|_| {
        quote! {
            #[allow(unused_imports)]
            use ::mastra_runtime::__private::infer::{
                InferInput as _, InferInputFallback as _, InferOutput as _,
                InferOutputFallback as _,
            };
        }
    });
    quote! {
        const _: () = {
            // One short name for the runtime's hidden items keeps the expansion small.
            use ::mastra_runtime::__private as __mastra_private;
            #probe_traits
            #(#assertions)*
            fn __mastra_route() -> __mastra_private::ApiRoute {
                __mastra_private::ApiRoute::new(
                    __mastra_private::RouteMethod::#method,
                    #path,
                )
                #handler_call
                .handler_name(#name)
                #requires_auth
                #(.middleware(#middleware))*
                #docs
                #openapi
                #mcp
                #infer
            }
            __mastra_private::inventory::submit! {
                __mastra_private::RouteDef::new(
                    ::core::module_path!(),
                    #name,
                    ::core::file!(),
                    ::core::line!(),
                    __mastra_route,
                )
            }
        };
    }
}

/// One assertion per nameable argument type and one for the return type, each spanned at the
/// type so a wrong type is reported where the user wrote it.
fn type_assertions(handler: &Handler) -> Vec<TokenStream> {
    let mut assertions: Vec<TokenStream> = nameable(&handler.inputs)
        .map(|ty| {
            quote_spanned! {ty.span()=>
                const _: fn() = || {
                    __mastra_private::assert_extractor::<#ty>();
                };
            }
        })
        .collect();
    let output = match &handler.output {
        Some(ty) if has_impl_trait(ty) => None,
        Some(ty) => Some((ty.span(), quote!(#ty))),
        None => {
            let span = handler.ident.span();
            Some((span, quote_spanned!(span=> ())))
        }
    };
    if let Some((span, ty)) = output {
        assertions.push(quote_spanned! {span=>
            const _: fn() = || {
                __mastra_private::assert_responder::<#ty>();
            };
        });
    }
    assertions
}

/// `.infer_steps(&[...])` with one probe per nameable argument type and one for the return
/// type, or nothing when no type can be named. Each probe evaluates to a function pointer, so a
/// route adds no closure of its own for the compiler to build.
fn infer(handler: &Handler) -> Option<TokenStream> {
    let inputs: Vec<&Type> = nameable(&handler.inputs).collect();
    let output = handler.output.iter().find(|ty| !has_impl_trait(ty));
    if inputs.is_empty() && output.is_none() {
        return None;
    }
    let output = output.map(|ty| {
        quote! {
            (&&__mastra_private::infer::Probe::<#ty>::new()).output_step(),
        }
    });
    Some(quote! {
        .infer_steps(&[
            #((&&__mastra_private::infer::Probe::<#inputs>::new()).input_step(),)*
            #output
        ])
    })
}

/// The runtime enum variant a model value stands for: `Method`, `Location` and `Schema` name
/// their variants exactly as `RouteMethod`, `ParamLocation` and `SchemaType` do.
fn runtime_variant(value: impl std::fmt::Debug) -> proc_macro2::Ident {
    format_ident!("{value:?}")
}

fn nameable(types: &[Type]) -> impl Iterator<Item = &Type> {
    types.iter().filter(|ty| !has_impl_trait(ty))
}

fn optional_str(text: Option<&str>) -> TokenStream {
    match text {
        Some(text) => quote!(::core::option::Option::Some(#text)),
        None => quote!(::core::option::Option::None),
    }
}

/// `.name(value)` for each present value.
fn setter<T: quote::ToTokens>(name: &str, value: Option<&T>) -> Option<TokenStream> {
    let name = format_ident!("{name}");
    value.map(|value| quote!(.#name(#value)))
}

/// `.body::<T>()`, spanned at `T` so a type without a schema is reported there.
fn body_setter(body: Option<&Type>) -> Option<TokenStream> {
    body.map(|ty| quote_spanned!(ty.span()=> .body::<#ty>()))
}

fn operation_fragment(op: &Operation) -> TokenStream {
    let summary = setter("summary", op.summary.as_ref());
    let description = setter("description", op.description.as_ref());
    let tags = op.tags.iter().map(|tag: &LitStr| quote!(.tag(#tag)));
    let operation_id = setter("operation_id", op.operation_id.as_ref());
    let deprecated = setter("deprecated", op.deprecated.as_ref());
    let hidden = setter("hidden", op.hidden.as_ref());
    let parameters = op.parameters.iter().map(parameter_fragment);
    let request_body = op.request_body.as_ref().map(|body| {
        let body = request_body_fragment(body);
        quote!(.request_body(#body))
    });
    let responses = op.responses.iter().map(response_fragment);
    quote! {
        __mastra_private::OperationFragment::new()
            #summary
            #description
            #(#tags)*
            #operation_id
            #deprecated
            #hidden
            #(.parameter(#parameters))*
            #request_body
            #(.response(#responses))*
    }
}

fn parameter_fragment(parameter: &Parameter) -> TokenStream {
    let name = &parameter.name;
    let location = runtime_variant(parameter.location);
    let required = setter("required", parameter.required.as_ref());
    let description = setter("description", parameter.description.as_ref());
    let schema = parameter.schema.map(|schema| {
        let schema = runtime_variant(schema);
        quote!(.schema(__mastra_private::SchemaType::#schema))
    });
    quote! {
        __mastra_private::ParameterFragment::new(
            #name,
            __mastra_private::ParamLocation::#location,
        )
        #required
        #description
        #schema
    }
}

fn request_body_fragment(body: &RequestBody) -> TokenStream {
    let content_type = setter("content_type", body.content_type.as_ref());
    let schema = body_setter(body.body.as_ref());
    let required = setter("required", body.required.as_ref());
    let description = setter("description", body.description.as_ref());
    quote! {
        __mastra_private::RequestBodyFragment::new()
            #content_type
            #schema
            #required
            #description
    }
}

fn response_fragment(response: &Response) -> TokenStream {
    let mut status = Literal::u16_unsuffixed(response.status);
    status.set_span(response.status_span);
    let description = setter("description", response.description.as_ref());
    let body = body_setter(response.body.as_ref());
    let content_type = setter("content_type", response.content_type.as_ref());
    quote! {
        __mastra_private::ResponseFragment::new(#status)
            #description
            #body
            #content_type
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    fn pretty(tokens: proc_macro2::TokenStream) -> String {
        prettyplease::unparse(&syn::parse2::<syn::File>(tokens).expect("expansion parses"))
    }

    #[test]
    fn expansion_of_a_route_using_every_key() {
        let attr = quote! {
            "/items/:itemId",
            method = "get",
            requires_auth = false,
            middleware(log_request, auth::check),
            openapi(
                summary = "Fetch one item",
                description = "Looks the item up by id.",
                tags("Items", "Public"),
                operation_id = "getItem",
                deprecated,
                hidden = false,
                parameters(
                    (name = "itemId", description = "The item's id", schema = "string"),
                    (name = "verbose", in = "query", required = false, schema = "boolean"),
                ),
                request_body(content_type = "application/json", body = ItemQuery,
                    required = false, description = "Optional filter"),
                responses(
                    (status = 200, description = "The item", body = Item),
                    (status = 404, description = "Item not found",
                        body = HashMap<String, String>, content_type = "application/json"),
                ),
            ),
            mcp(name = "get_item", description = "Looks one item up by id."),
        };
        let item = quote! {
            /// Get item by ID
            ///
            /// Retrieves a single item
            /// by its identifier.
            #[allow(clippy::unused_async)]
            async fn get_item(Path(item_id): Path<String>, _req: HttpRequest)
                -> Result<Json<Item>, ApiError>
            {
                Ok(Json(Item { id: item_id }))
            }
        };
        insta::assert_snapshot!(pretty(crate::route::api_route(attr, item)));
    }

    #[test]
    fn expansion_of_a_route_offered_over_mcp_by_name_only() {
        let attr = quote!("/items", method = "POST", mcp(name = "create_item"));
        let item = quote! {
            /// Create an item
            async fn create_item(Json(item): Json<Item>) -> Created<Json<Item>> {
                Created(Json(item))
            }
        };
        insta::assert_snapshot!(pretty(crate::route::api_route(attr, item)));
    }

    #[test]
    fn expansion_without_openapi_docs_or_nameable_types() {
        let attr = quote!("/{id}", method = "ALL");
        let item = quote! {
            async fn any() -> impl Responder { "ok" }
        };
        insta::assert_snapshot!(pretty(crate::route::api_route(attr, item)));
    }

    #[test]
    fn on_error_only_the_function_and_the_errors_are_emitted() {
        let attr = quote!("/x", method = "FETCH");
        let item = quote!(
            async fn f() -> HttpResponse {
                todo!()
            }
        );
        let output = crate::route::api_route(attr, item).to_string();
        assert!(output.starts_with("async fn f"), "{output}");
        assert!(output.contains("compile_error"), "{output}");
        assert!(!output.contains("submit"), "{output}");
    }
}
