//! Language models for tests that need a model to misbehave.

use mastra_runtime::model::{LanguageModel, ModelError, ModelRequest, ModelStream};

/// A model that fails every call: a provider error from `test` saying "the model is down".
#[derive(Debug)]
pub struct DownModel;

#[async_trait::async_trait]
impl LanguageModel for DownModel {
    fn provider(&self) -> &str {
        "test"
    }
    fn model_id(&self) -> &str {
        "down"
    }
    async fn stream(&self, _: ModelRequest) -> Result<ModelStream, ModelError> {
        Err(ModelError::Provider {
            provider: "test".into(),
            message: "the model is down".into(),
        })
    }
}
