//! What `#[api_route]` submits to `inventory`: a named constructor of an [`ApiRoute`].

use super::{ApiRoute, RouteOrigin};

/// A route declared with `#[api_route]`, collected at link time.
///
/// Not built by hand; the macro writes one next to each annotated function.
#[derive(Debug)]
pub struct RouteDef {
    module_path: &'static str,
    name: &'static str,
    file: &'static str,
    line: u32,
    build: fn() -> ApiRoute,
}

impl RouteDef {
    /// Describes one annotated function. Used by the macro's generated code.
    #[doc(hidden)]
    pub const fn new(
        module_path: &'static str,
        name: &'static str,
        file: &'static str,
        line: u32,
        build: fn() -> ApiRoute,
    ) -> Self {
        Self {
            module_path,
            name,
            file,
            line,
            build,
        }
    }

    /// The module the function lives in, as `module_path!()` spells it.
    pub fn module_path(&self) -> &'static str {
        self.module_path
    }

    /// The function's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether the function lives in `module` or below it (`a::b` covers `a::b::c`, not `a::bc`).
    pub fn is_in_module(&self, module: &str) -> bool {
        self.module_path == module
            || self
                .module_path
                .strip_prefix(module)
                .is_some_and(|rest| rest.starts_with("::"))
    }

    /// Builds the route.
    pub fn route(&self) -> ApiRoute {
        (self.build)().origin(RouteOrigin::Macro {
            module_path: self.module_path,
            name: self.name,
            file: self.file,
            line: self.line,
        })
    }

    /// Every `#[api_route]` function linked into this binary.
    pub fn all() -> impl Iterator<Item = &'static RouteDef> {
        inventory::iter::<RouteDef>.into_iter()
    }
}

inventory::collect!(RouteDef);
