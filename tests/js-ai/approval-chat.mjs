// useChat's engine (the pinned `ai` package: AbstractChat + DefaultChatTransport, which checks
// every chunk against the SDK's schema) sees a tool call waiting for approval as the
// `data-tool-call-approval` part and answers it through the same chat_route with
// `runId` + `resumeData`. Not named *.test.mjs: tests/tests/agents_approval_use_chat.rs runs it
// on its own against a server whose agent `clerk` has a `delete-item` tool requiring approval.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbstractChat, DefaultChatTransport } from 'ai';

const base = process.env.MASTRA_URL;
assert.ok(base, 'MASTRA_URL must be set');

class MemoryState {
  status = 'ready';
  error = undefined;
  messages = [];
  pushMessage = (message) => { this.messages = this.messages.concat(message); };
  popMessage = () => { this.messages = this.messages.slice(0, -1); };
  replaceMessage = (index, message) => {
    this.messages = [...this.messages.slice(0, index), message, ...this.messages.slice(index + 1)];
  };
  snapshot = (thing) => structuredClone(thing);
}

class Chat extends AbstractChat {
  constructor() {
    super({ transport: new DefaultChatTransport({ api: `${base}/chat/clerk` }), state: new MemoryState() });
  }
  get messages() { return this.state.messages; }
  get status() { return this.state.status; }
  get error() { return this.state.error; }
}

const textOf = (message) => message.parts.filter((p) => p.type === 'text').map((p) => p.text).join('');

/** Asks to delete `id`; answers the chat and the approval part's data. */
async function ask(id) {
  const chat = new Chat();
  await chat.sendMessage({ text: `remove @delete-item {"itemId":"${id}"}` });
  assert.equal(chat.status, 'ready', String(chat.error));
  const answer = chat.messages.at(-1);
  assert.equal(answer.role, 'assistant');
  const tool = answer.parts.find((p) => p.type === 'tool-delete-item');
  assert.ok(tool, JSON.stringify(answer.parts));
  assert.equal(tool.state, 'input-available');
  const approval = answer.parts.find((p) => p.type === 'data-tool-call-approval');
  assert.ok(approval, JSON.stringify(answer.parts));
  assert.equal(approval.id, tool.toolCallId);
  assert.equal(approval.data.toolCallId, tool.toolCallId);
  assert.equal(approval.data.toolName, 'delete-item');
  assert.deepEqual(approval.data.args, { itemId: id });
  assert.equal(approval.data.runId, answer.id);
  return { chat, approval: approval.data };
}

test('useChat approves a pending tool call and reads the rest of the turn', async () => {
  const { chat, approval } = await ask('c3');
  await chat.sendMessage(undefined, { body: { runId: approval.runId, resumeData: { approved: true } } });
  assert.equal(chat.status, 'ready', String(chat.error));
  assert.equal(chat.messages.length, 2, 'the answer continues the same assistant message');
  const answer = chat.messages.at(-1);
  const tool = answer.parts.find((p) => p.type === 'tool-delete-item');
  assert.equal(tool.state, 'output-available');
  assert.deepEqual(tool.output, { deleted: 'c3' });
  assert.equal(textOf(answer), 'delete-item returned {"deleted":"c3"}');
});

test('useChat declines a pending tool call: the tool part ends as an output error', async () => {
  const { chat, approval } = await ask('c4');
  await chat.sendMessage(undefined, {
    body: { runId: approval.runId, resumeData: { approved: false, toolCallId: approval.toolCallId } },
  });
  assert.equal(chat.status, 'ready', String(chat.error));
  const answer = chat.messages.at(-1);
  const tool = answer.parts.find((p) => p.type === 'tool-delete-item');
  assert.equal(tool.state, 'output-error');
  assert.equal(tool.errorText, 'Tool call was not approved by the user');
  assert.equal(textOf(answer), 'delete-item returned "Tool call was not approved by the user"');
});
