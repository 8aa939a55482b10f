//! The agent's `delete-item` tool: it removes an item from the catalogue of `/items`, and every
//! call waits for a person's approval (`require_approval(true)`). The agent's stream stops at a
//! `tool-call-approval` chunk; `POST /api/agents/my-agent/approve-tool-call` deletes the item
//! and finishes the turn, `decline-tool-call` leaves it (README, "A tool call that waits for
//! approval").

use mastra_runtime::prelude::*;

use crate::routes::{remove_item, Item};

/// The tool's id.
pub const DELETE_TOOL_ID: &str = "delete-item";

/// Input of the delete tool.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteItemInput {
    /// The id of the item to delete.
    #[schemars(length(min = 1))]
    pub item_id: String,
}

/// Output of the delete tool.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DeleteItemOutput {
    /// The item deleted.
    pub deleted: Item,
}

/// Deletes an item of the catalogue, once a person approved the call.
pub fn delete_item_tool() -> Tool {
    Tool::builder(DELETE_TOOL_ID)
        .description("Deletes an item from the catalogue by id (a person must approve each call)")
        .require_approval(true)
        .execute(|input: DeleteItemInput, _ctx: ToolContext| async move {
            match remove_item(&input.item_id) {
                Some(deleted) => {
                    tracing::info!(item = %deleted.id, "item deleted after approval");
                    Ok(DeleteItemOutput { deleted })
                }
                None => Err(ToolError::new(format!("Item {} not found", input.item_id))),
            }
        })
}
