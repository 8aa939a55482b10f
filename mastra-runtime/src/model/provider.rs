//! What every HTTP provider shares above the transport: one configuration ([`HttpProvider`]:
//! model, API root, key, retries, timeouts, read from the provider's environment variables), the
//! streamed `POST` every call makes, and [`http_provider!`], which writes a provider type's
//! public builder and its [`LanguageModel`](super::LanguageModel) impl from a few literals.
//!
//! A provider module keeps only what is its own: the wire format of its request body and the
//! decoder of its answer.

use std::time::Duration;

use serde_json::Value;

use super::{
    env_var,
    http::{RetryPolicy, SseDecoder, Transport},
    ModelError, ModelStream,
};

/// How a provider expects its API key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ApiKeyAuth {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// The key alone, as the value of this header.
    Header(&'static str),
}

/// What tells one HTTP provider from another, short of its wire format.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ProviderSpec {
    /// The name in `provider/model` strings, logs and most errors (`openai`).
    pub(crate) provider: &'static str,
    /// The name a person knows it by, in the missing key error (`OpenAI`).
    pub(crate) name: &'static str,
    /// The environment variable holding the API key.
    pub(crate) api_key_env: &'static str,
    /// The environment variable that overrides the API root.
    pub(crate) base_url_env: &'static str,
    /// The API root when nothing overrides it.
    pub(crate) default_base_url: &'static str,
    /// The path below the API root that streams a completion (`/chat/completions`).
    pub(crate) endpoint: &'static str,
    /// How the key is sent.
    pub(crate) auth: ApiKeyAuth,
    /// Headers sent with every call, besides the key.
    pub(crate) headers: &'static [(&'static str, &'static str)],
}

/// The configuration of one model at one HTTP provider, and the call that streams from it.
#[derive(Debug, Clone)]
pub(crate) struct HttpProvider {
    spec: &'static ProviderSpec,
    model: String,
    base_url: String,
    api_key: Option<String>,
    transport: Transport,
}

impl HttpProvider {
    /// `model` at the provider's default API root, with no key.
    pub(crate) fn new(spec: &'static ProviderSpec, model: String) -> Self {
        Self {
            spec,
            model,
            base_url: spec.default_base_url.to_owned(),
            api_key: None,
            transport: Transport::new(spec.provider),
        }
    }

    /// `model` with the key and the API root the environment sets (blank values count as unset).
    pub(crate) fn from_env(spec: &'static ProviderSpec, model: String) -> Self {
        let mut this = Self::new(spec, model);
        this.api_key = env_var(spec.api_key_env);
        if let Some(base) = env_var(spec.base_url_env) {
            this.set_base_url(base);
        }
        this
    }

    /// Sets the API root; trailing slashes are dropped, the endpoint brings its own.
    pub(crate) fn set_base_url(&mut self, url: String) {
        self.base_url = url.trim_end_matches('/').to_owned();
    }

    /// Sets the API key.
    pub(crate) fn set_api_key(&mut self, key: String) {
        self.api_key = Some(key);
    }

    /// Sets how failed attempts are retried.
    pub(crate) fn set_retry(&mut self, policy: RetryPolicy) {
        self.transport.retry = policy;
    }

    /// Sets the longest silence tolerated between two reads of the answer.
    pub(crate) fn set_read_timeout(&mut self, timeout: Duration) {
        self.transport.set_read_timeout(timeout);
    }

    /// The provider's name (`openai`).
    pub(crate) fn provider(&self) -> &'static str {
        self.spec.provider
    }

    /// The model's id at the provider.
    pub(crate) fn model(&self) -> &str {
        &self.model
    }

    /// Posts `body` to the endpoint with the key and the provider's headers, asking for
    /// Server-Sent Events; retries as the policy says and decodes the answer with `decoder`.
    ///
    /// Fails with [`ModelError::MissingApiKey`] before any request when no key is set.
    pub(crate) async fn stream<D: SseDecoder>(
        &self,
        body: Value,
        decoder: D,
    ) -> Result<ModelStream, ModelError> {
        let spec = self.spec;
        let key = self
            .api_key
            .as_deref()
            .ok_or_else(|| ModelError::MissingApiKey {
                provider: spec.name.to_owned(),
                env_var: spec.api_key_env.to_owned(),
            })?;
        let url = format!("{}{}", self.base_url, spec.endpoint);
        let response = self
            .transport
            .send(&self.model, || {
                let request = self.transport.client.post(&url);
                let request = match spec.auth {
                    ApiKeyAuth::Bearer => request.bearer_auth(key),
                    ApiKeyAuth::Header(name) => request.header(name, key),
                };
                spec.headers
                    .iter()
                    .fold(request, |request, &(name, value)| {
                        request.header(name, value)
                    })
                    .header("accept", "text/event-stream")
                    .json(&body)
            })
            .await?;
        Ok(self.transport.decode(response, decoder))
    }
}

/// Writes the public builder (`new`, `from_env`, `base_url`, `api_key`, `retry`,
/// `read_timeout`) and the [`LanguageModel`](super::LanguageModel) impl of an HTTP provider.
///
/// The type must be a struct whose one field is `http: HttpProvider`, with a method
/// `fn body(&self, request: &ModelRequest) -> serde_json::Value` that writes the request in the
/// provider's wire format; `decoder` is a `SseDecoder + Default` reading its answer. `env` is the
/// prefix of the provider's variables (`OPENAI` for `OPENAI_API_KEY` and `OPENAI_BASE_URL`); the
/// literals also write the methods' documentation.
macro_rules! http_provider {
    (
        $ty:ident {
            provider: $provider:literal, name: $name:literal, env: $env:literal,
            default_base_url: $default_base_url:expr, endpoint: $endpoint:literal,
            auth: $auth:expr, key_sent_as: $key_sent_as:literal, headers: $headers:expr,
            decoder: $decoder:ty $(,)?
        }
    ) => {
        impl $ty {
            const SPEC: $crate::model::provider::ProviderSpec =
                $crate::model::provider::ProviderSpec {
                    provider: $provider,
                    name: $name,
                    api_key_env: concat!($env, "_API_KEY"),
                    base_url_env: concat!($env, "_BASE_URL"),
                    default_base_url: $default_base_url,
                    endpoint: $endpoint,
                    auth: $auth,
                    headers: $headers,
                };

            #[doc = concat!("`model` at ", $name, ", with no key yet.")]
            pub fn new(model: impl Into<String>) -> Self {
                Self {
                    http: $crate::model::provider::HttpProvider::new(&Self::SPEC, model.into()),
                }
            }

            #[doc = concat!(
                "`model` with `", $env, "_API_KEY` and `", $env, "_BASE_URL` from the environment."
            )]
            pub fn from_env(model: impl Into<String>) -> Self {
                Self {
                    http: $crate::model::provider::HttpProvider::from_env(
                        &Self::SPEC,
                        model.into(),
                    ),
                }
            }

            #[doc = concat!("Sets the API root (everything before `", $endpoint, "`).")]
            pub fn base_url(mut self, url: impl Into<String>) -> Self {
                self.http.set_base_url(url.into());
                self
            }

            #[doc = concat!("Sets the API key sent as ", $key_sent_as, ".")]
            pub fn api_key(mut self, key: impl Into<String>) -> Self {
                self.http.set_api_key(key.into());
                self
            }

            /// Sets how 408, 429 and 5xx answers, and failed connections, are retried.
            pub fn retry(mut self, policy: $crate::model::RetryPolicy) -> Self {
                self.http.set_retry(policy);
                self
            }

            /// Sets the longest silence tolerated between two reads of the answer.
            pub fn read_timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.http.set_read_timeout(timeout);
                self
            }
        }

        #[::async_trait::async_trait]
        impl $crate::model::LanguageModel for $ty {
            fn provider(&self) -> &str {
                self.http.provider()
            }

            fn model_id(&self) -> &str {
                self.http.model()
            }

            async fn stream(
                &self,
                request: $crate::model::ModelRequest,
            ) -> Result<$crate::model::ModelStream, $crate::model::ModelError> {
                let body = self.body(&request);
                self.http.stream(body, <$decoder>::default()).await
            }
        }
    };
}

pub(crate) use http_provider;

#[cfg(test)]
mod tests {
    use super::*;

    static SPEC: ProviderSpec = ProviderSpec {
        provider: "acme",
        name: "Acme",
        api_key_env: "MASTRA_TEST_PROVIDER_SPEC_UNSET_KEY",
        base_url_env: "MASTRA_TEST_PROVIDER_SPEC_UNSET_BASE",
        default_base_url: "https://acme.test/v1",
        endpoint: "/complete",
        auth: ApiKeyAuth::Bearer,
        headers: &[],
    };

    #[test]
    fn base_urls_lose_trailing_slashes_and_unset_variables_keep_the_defaults() {
        let mut http = HttpProvider::from_env(&SPEC, "m".to_owned());
        assert_eq!(http.base_url, "https://acme.test/v1");
        assert_eq!(http.api_key, None);
        http.set_base_url("http://127.0.0.1:9/v1//".to_owned());
        assert_eq!(http.base_url, "http://127.0.0.1:9/v1");
        assert_eq!((http.provider(), http.model()), ("acme", "m"));
    }

    #[derive(Default)]
    struct NoEvents;

    impl SseDecoder for NoEvents {
        fn on_event(
            &mut self,
            _event: &eventsource_stream::Event,
            _t: &Transport,
        ) -> Result<Vec<super::super::ModelEvent>, ModelError> {
            Ok(Vec::new())
        }

        fn on_end(&mut self, _t: &Transport) -> Result<Vec<super::super::ModelEvent>, ModelError> {
            Ok(Vec::new())
        }

        fn is_done(&self) -> bool {
            false
        }
    }

    #[tokio::test]
    async fn a_missing_key_fails_before_any_request_and_names_the_variable() {
        let http = HttpProvider::new(&SPEC, "m".to_owned());
        let error = match http.stream(Value::Null, NoEvents).await {
            Ok(_) => panic!("a keyless call must fail"),
            Err(error) => error,
        };
        assert_eq!(
            error.to_string(),
            "Acme API key is missing: set MASTRA_TEST_PROVIDER_SPEC_UNSET_KEY"
        );
    }
}
