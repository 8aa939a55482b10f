//! What every HTTP provider shares: the client, retries with backoff that honour `Retry-After`,
//! mapping of HTTP failures to [`ModelError`], and Server-Sent Events decoding.

use std::time::Duration;

use eventsource_stream::{Event, EventStreamError, Eventsource};
use futures_util::{Stream, StreamExt};
use reqwest::{header::HeaderMap, RequestBuilder, Response, StatusCode};
use serde_json::Value;

use super::{ModelError, ModelEvent, ModelStream, ToolCall};
use crate::schema::{check_text_depth, MAX_JSON_DEPTH};

/// Turns a provider's SSE events into [`ModelEvent`]s.
pub(crate) trait SseDecoder: Send + 'static {
    /// Handles one event with data (blank ones are skipped); may yield several model events,
    /// or none.
    fn on_event(&mut self, event: &Event, t: &Transport) -> Result<Vec<ModelEvent>, ModelError>;
    /// Handles the end of the body.
    fn on_end(&mut self, t: &Transport) -> Result<Vec<ModelEvent>, ModelError>;
    /// Whether the provider said it is done (later events are ignored).
    fn is_done(&self) -> bool;
}

/// Retries after a 429 or 5xx, as the AI SDK Mastra builds on does by default (`maxRetries: 2`).
pub const DEFAULT_MAX_RETRIES: u32 = 2;

/// First backoff delay, the AI SDK's `initialDelayInMs` (2 s); each retry doubles it.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_secs(2);

/// Longest backoff between two attempts when the provider sends no `Retry-After`.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Longest `Retry-After` honoured; a provider asking for more fails the call instead of hanging it.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Longest silence between two reads of a response before the call fails as stalled.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(120);

/// Longest wait for a TCP connection to the provider.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How a provider retries rate limits (429) and server errors (5xx).
///
/// ```
/// use std::time::Duration;
/// use mastra_runtime::model::RetryPolicy;
/// let policy = RetryPolicy::default().max_retries(3).initial_backoff(Duration::from_millis(100));
/// assert_eq!(policy.backoff(2), Duration::from_millis(400));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: DEFAULT_MAX_RETRIES,
            initial_backoff: DEFAULT_INITIAL_BACKOFF,
            max_backoff: DEFAULT_MAX_BACKOFF,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        Self::default().max_retries(0)
    }

    /// Sets how many times a failed attempt is retried.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.max_retries = retries;
        self
    }

    /// Sets the first backoff delay (doubled on each retry).
    pub fn initial_backoff(mut self, delay: Duration) -> Self {
        self.initial_backoff = delay;
        self
    }

    /// Sets the longest backoff delay.
    pub fn max_backoff(mut self, delay: Duration) -> Self {
        self.max_backoff = delay;
        self
    }

    /// Sets the longest `Retry-After` honoured.
    pub fn max_retry_after(mut self, delay: Duration) -> Self {
        self.max_retry_after = delay;
        self
    }

    /// The delay before retry number `retry` (from 0) when the provider gives no `Retry-After`.
    pub fn backoff(&self, retry: u32) -> Duration {
        self.initial_backoff
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max_backoff)
    }
}

/// A provider's HTTP side.
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    pub(crate) provider: &'static str,
    pub(crate) client: reqwest::Client,
    pub(crate) retry: RetryPolicy,
}

impl Transport {
    pub(crate) fn new(provider: &'static str) -> Self {
        Self {
            provider,
            client: client(DEFAULT_READ_TIMEOUT),
            retry: RetryPolicy::default(),
        }
    }

    pub(crate) fn set_read_timeout(&mut self, timeout: Duration) {
        self.client = client(timeout);
    }

    /// Sends the request built by `build`, retrying 429, 5xx and connection failures.
    pub(crate) async fn send(
        &self,
        model: &str,
        build: impl Fn() -> RequestBuilder,
    ) -> Result<Response, ModelError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let retries_left = attempt <= self.retry.max_retries;
            let failure = match build().send().await {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let status = response.status();
                    let wait = retry_after(response.headers());
                    let message = error_message(response).await;
                    if !is_retryable(status) || !retries_left {
                        return Err(self.classify(status, model, message, attempt));
                    }
                    match wait {
                        Some(wait) if wait > self.retry.max_retry_after => {
                            return Err(ModelError::Upstream {
                                provider: self.provider.to_owned(),
                                status: status.as_u16(),
                                attempts: attempt,
                                message: format!(
                                    "{message} (asked to retry after {}s, more than the {}s allowed)",
                                    wait.as_secs(),
                                    self.retry.max_retry_after.as_secs()
                                ),
                            })
                        }
                        Some(wait) => (wait, format!("HTTP {status}")),
                        None => (self.retry.backoff(attempt - 1), format!("HTTP {status}")),
                    }
                }
                Err(error) => {
                    let message = describe_reqwest(&error);
                    if !retries_left || !(error.is_connect() || error.is_timeout()) {
                        return Err(ModelError::Transport {
                            provider: self.provider.to_owned(),
                            message,
                        });
                    }
                    (self.retry.backoff(attempt - 1), message)
                }
            };
            let (delay, reason) = failure;
            tracing::warn!(
                provider = self.provider,
                model,
                attempt,
                delay_ms = delay.as_millis() as u64,
                %reason,
                "model call failed; retrying"
            );
            tokio::time::sleep(delay).await;
        }
    }

    fn classify(
        &self,
        status: StatusCode,
        model: &str,
        message: String,
        attempts: u32,
    ) -> ModelError {
        let provider = self.provider.to_owned();
        match status.as_u16() {
            401 | 403 => ModelError::Auth {
                provider,
                status: status.as_u16(),
                message,
            },
            404 => ModelError::UnknownModel {
                provider,
                model: model.to_owned(),
                message,
            },
            400 if message.contains("model_not_found") || message.contains("does not exist") => {
                ModelError::UnknownModel {
                    provider,
                    model: model.to_owned(),
                    message,
                }
            }
            code => ModelError::Upstream {
                provider,
                status: code,
                attempts,
                message,
            },
        }
    }

    pub(crate) fn malformed(&self, detail: impl Into<String>) -> ModelError {
        ModelError::Malformed {
            provider: self.provider.to_owned(),
            detail: detail.into(),
        }
    }

    /// An `error` the provider sent inside the stream: its `message`, else the whole value.
    pub(crate) fn reported(&self, error: &Value) -> ModelError {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| error.to_string());
        ModelError::Provider {
            provider: self.provider.to_owned(),
            message,
        }
    }

    /// The tool call `id`/`name` with the arguments streamed for it as JSON text (none means
    /// `{}`). Arguments nested deeper than [`MAX_JSON_DEPTH`] are refused before they are
    /// parsed (an [`ModelEvent::InvalidToolCall`], which the agent answers with a tool error);
    /// text that does not parse is malformed, as `invalid` says of the tool's name (the parse
    /// error follows).
    pub(crate) fn tool_call(
        &self,
        id: String,
        name: String,
        json: &str,
        invalid: impl FnOnce(&str) -> String,
    ) -> Result<ModelEvent, ModelError> {
        let call = ToolCall {
            id,
            name,
            args: Value::Object(serde_json::Map::new()),
        };
        if json.trim().is_empty() {
            return Ok(ModelEvent::ToolCall(call));
        }
        if let Err(error) = check_text_depth(json.as_bytes(), MAX_JSON_DEPTH) {
            return Ok(call.with_args_text(json).refused(error));
        }
        let args = serde_json::from_str(json)
            .map_err(|e| self.malformed(format!("{} ({e})", invalid(&call.name))))?;
        Ok(ModelEvent::ToolCall(ToolCall { args, ..call }))
    }

    /// The response body as Server-Sent Events.
    pub(crate) fn events(
        &self,
        response: Response,
    ) -> impl Stream<Item = Result<Event, ModelError>> + Send + 'static {
        let provider = self.provider;
        response.bytes_stream().eventsource().map(move |item| {
            item.map_err(|error| {
                let detail = match error {
                    EventStreamError::Transport(e) => {
                        return ModelError::Transport {
                            provider: provider.to_owned(),
                            message: describe_reqwest(&e),
                        }
                    }
                    EventStreamError::Utf8(e) => format!("the event stream is not UTF-8: {e}"),
                    // nom's message is its error kind in debug form followed by all the
                    // unparsed input: neither belongs in an answer.
                    EventStreamError::Parser(_) => "an event could not be parsed".to_owned(),
                };
                ModelError::Malformed {
                    provider: provider.to_owned(),
                    detail,
                }
            })
        })
    }
}

impl Transport {
    /// Decodes the response body with `decoder`. After the first error the stream ends.
    pub(crate) fn decode<D: SseDecoder>(&self, response: Response, decoder: D) -> ModelStream {
        let events = Box::pin(self.events(response));
        let state = (events, decoder, self.clone(), false);
        futures_util::stream::unfold(state, |(mut events, mut decoder, t, stop)| async move {
            if stop || decoder.is_done() {
                return None;
            }
            loop {
                let batch = match events.next().await {
                    // Blank keep-alive events carry nothing for any provider.
                    Some(Ok(event)) if event.data.trim().is_empty() => continue,
                    Some(Ok(event)) => decoder.on_event(&event, &t),
                    Some(Err(e)) => Err(e),
                    None => decoder.on_end(&t).and_then(|batch| {
                        if decoder.is_done() {
                            Ok(batch)
                        } else {
                            Err(t.malformed("the stream ended before the model finished"))
                        }
                    }),
                };
                match batch {
                    Ok(batch) if batch.is_empty() => continue,
                    Ok(batch) => {
                        let items: Vec<_> = batch.into_iter().map(Ok).collect();
                        return Some((items, (events, decoder, t, false)));
                    }
                    Err(e) => return Some((vec![Err(e)], (events, decoder, t, true))),
                }
            }
        })
        .flat_map(futures_util::stream::iter)
        .boxed()
    }
}

fn client(read_timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(DEFAULT_CONNECT_TIMEOUT)
        .read_timeout(read_timeout)
        .build()
        .unwrap_or_else(|error| {
            // Only a broken TLS backend fails here; fall back to the defaults rather than panic.
            tracing::error!(%error, "could not build the HTTP client with timeouts");
            reqwest::Client::new()
        })
}

fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
}

/// `Retry-After` (seconds or an HTTP date) or OpenAI's `retry-after-ms`.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(Duration::from_millis(ms as u64));
        }
    }
    let value = text("retry-after")?;
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// The provider's error message: `error.message` of its JSON body, else the body text.
async fn error_message(response: Response) -> String {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let parsed: Option<Value> = serde_json::from_str(&body).ok();
    let from_json = parsed.as_ref().and_then(|v| {
        let error = v.get("error")?;
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .or_else(|| error.as_str())?;
        let code = error
            .get("code")
            .or_else(|| error.get("type"))
            .and_then(Value::as_str);
        Some(match code {
            Some(code) => format!("{message} ({code})"),
            None => message.to_owned(),
        })
    });
    let text = from_json.unwrap_or_else(|| body.trim().chars().take(500).collect());
    if text.is_empty() {
        status.canonical_reason().unwrap_or("no message").to_owned()
    } else {
        text
    }
}

fn describe_reqwest(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut message = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_reads_seconds_milliseconds_and_dates() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
        headers.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(250)));
        let mut dated = HeaderMap::new();
        dated.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&dated), Some(Duration::ZERO));
        let mut junk = HeaderMap::new();
        junk.insert("retry-after", HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&junk), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let policy = RetryPolicy::default()
            .initial_backoff(Duration::from_secs(1))
            .max_backoff(Duration::from_secs(5));
        assert_eq!(policy.backoff(0), Duration::from_secs(1));
        assert_eq!(policy.backoff(1), Duration::from_secs(2));
        assert_eq!(policy.backoff(5), Duration::from_secs(5));
    }
}
