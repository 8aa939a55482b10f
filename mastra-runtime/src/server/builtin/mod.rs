//! Routes the runtime serves itself, one file per group.

mod health;

use crate::route::ApiRoute;

/// Every built-in route. `prefix` is the API prefix (`/api` by default).
pub(crate) fn routes(_prefix: &str) -> Vec<ApiRoute> {
    vec![health::route()]
}
