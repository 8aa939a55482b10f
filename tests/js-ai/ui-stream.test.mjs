// The AI SDK's own code (the `ai` package, pinned in package-lock.json) reads mastra-rs's UI
// message streams: useChat's engine (AbstractChat + DefaultChatTransport, which validates every
// chunk against the SDK's schema), readUIMessageStream, and parseJsonEventStream.
//
// MASTRA_URL points at a server started by tests/tests/ai_sdk_reader.rs: the streaming example
// (agent `my-agent` on the offline echo model, 40 ms per word) plus `broken` (a model that
// fails) and a chat_route with keep-alive comments at /chat-keep-alive/:agentId.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AbstractChat,
  DefaultChatTransport,
  parseJsonEventStream,
  readUIMessageStream,
  uiMessageChunkSchema,
} from 'ai';

const base = process.env.MASTRA_URL;
assert.ok(base, 'MASTRA_URL must be set');

/** The chat state useChat keeps in React, kept in plain memory. */
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

/** useChat without React: the same engine, transport and stream processing. */
class Chat extends AbstractChat {
  constructor({ api, body, onFinish }) {
    super({ transport: new DefaultChatTransport({ api: `${base}${api}`, body }), state: new MemoryState(), onFinish });
  }
  get messages() { return this.state.messages; }
  get status() { return this.state.status; }
  get error() { return this.state.error; }
}

const textOf = (message) => message.parts.filter((p) => p.type === 'text').map((p) => p.text).join('');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function eventually(what, check, within = 5000) {
  const deadline = Date.now() + within;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${within} ms`);
    await sleep(20);
  }
}

async function threadMessages(thread) {
  const res = await fetch(`${base}/api/memory/threads/${thread}/messages`);
  return res.status === 200 ? (await res.json()).messages : null;
}

test('useChat sends a message to chat_route and reads the streamed answer', async () => {
  let finished;
  const chat = new Chat({ api: '/chat/my-agent', onFinish: (event) => { finished = event; } });
  await chat.sendMessage({ text: 'Hello there' });
  assert.equal(chat.status, 'ready', String(chat.error));
  assert.equal(chat.messages.length, 2);
  const [user, answer] = chat.messages;
  assert.equal(textOf(user), 'Hello there');
  assert.equal(answer.role, 'assistant');
  assert.equal(textOf(answer), 'You said: Hello there');
  assert.deepEqual(answer.parts.map((p) => p.type), ['step-start', 'text']);
  assert.equal(answer.parts[1].state, 'done');
  assert.equal(finished.finishReason, 'stop');
  assert.equal(finished.isAbort, false);
});

test('a tool run becomes a tool part with its input and output, then the text', async () => {
  const chat = new Chat({ api: '/chat/my-agent' });
  await chat.sendMessage({ text: '@celsius-to-fahrenheit {"celsius": 21}' });
  assert.equal(chat.status, 'ready', String(chat.error));
  const answer = chat.messages.at(-1);
  const tool = answer.parts.find((p) => p.type === 'tool-celsius-to-fahrenheit');
  assert.ok(tool, JSON.stringify(answer.parts));
  assert.equal(tool.state, 'output-available');
  assert.deepEqual(tool.input, { celsius: 21 });
  assert.deepEqual(tool.output, { fahrenheit: 69.8 });
  assert.equal(textOf(answer), 'celsius-to-fahrenheit returned {"fahrenheit":69.8}');
  assert.equal(answer.parts.filter((p) => p.type === 'step-start').length, 2);
});

test('a second turn sends the whole conversation; the memory thread keeps one copy', async () => {
  const chat = new Chat({ api: '/chat/my-agent', body: { memory: { thread: 'js-turns', resource: 'js' } } });
  await chat.sendMessage({ text: 'one' });
  await chat.sendMessage({ text: 'two' });
  assert.equal(chat.status, 'ready', String(chat.error));
  assert.deepEqual(chat.messages.map(textOf), ['one', 'You said: one', 'two', 'You said: two']);
  const saved = await threadMessages('js-turns');
  assert.deepEqual(saved.map((m) => m.content.content).sort(), ['You said: one', 'You said: two', 'one', 'two']);
});

test('keep-alive comments on the wire are skipped by the reader', async () => {
  const res = await fetch(`${base}/chat-keep-alive/my-agent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'c', trigger: 'submit-message', messages: [{ id: 'u', role: 'user', parts: [{ type: 'text', text: 'slow words here' }] }] }),
  });
  const wire = await res.text();
  assert.match(wire, /^: keep-alive$/m, 'the server sent no keep-alive comment');
  const chat = new Chat({ api: '/chat-keep-alive/my-agent' });
  await chat.sendMessage({ text: 'slow words here' });
  assert.equal(chat.status, 'ready', String(chat.error));
  assert.equal(textOf(chat.messages.at(-1)), 'You said: slow words here');
});

test('an error part puts the chat in the error state with the server message', async () => {
  const errors = [];
  const chat = new Chat({ api: '/chat/broken' });
  chat.onError = (error) => errors.push(error);
  await chat.sendMessage({ text: 'Hello' });
  assert.equal(chat.status, 'error');
  assert.match(chat.error.message, /the model is down/);
});

test('stop() on chat_route cancels the run: the thread is never written', async () => {
  const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
  const chat = new Chat({ api: '/chat/my-agent', body: { memory: { thread: 'js-stopped', resource: 'js' } } });
  const sending = chat.sendMessage({ text: words });
  await eventually('the first words', () => chat.messages.length === 2 && textOf(chat.messages[1]).length > 0);
  await chat.stop();
  await sending;
  assert.equal(chat.status, 'ready');
  assert.ok(textOf(chat.messages[1]).length < `You said: ${words}`.length);
  // The whole answer would take about 1.3 s.
  await sleep(1800);
  assert.equal(await threadMessages('js-stopped'), null);
});

test('stop() on the persist route leaves the run going: the answer is saved', async () => {
  const words = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
  const chat = new Chat({ api: '/chat/persist/my-agent', body: { memory: { thread: 'js-persisted', resource: 'js' } } });
  const sending = chat.sendMessage({ text: words });
  await eventually('the first words', () => chat.messages.length === 2 && textOf(chat.messages[1]).length > 0);
  await chat.stop();
  await sending;
  await eventually('the answer saved', async () => (await threadMessages('js-persisted'))?.length === 2);
  const saved = await threadMessages('js-persisted');
  assert.equal(saved.find((m) => m.role === 'assistant').content.content, `You said: ${words}`);
});

test('on the wire: the protocol header, and every frame a valid UI message chunk', async () => {
  const res = await fetch(`${base}/chat/my-agent`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'c', trigger: 'submit-message', messages: [{ id: 'u', role: 'user', parts: [{ type: 'text', text: 'Hi' }] }] }),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-vercel-ai-ui-message-stream'), 'v1');
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  assert.equal(res.headers.get('x-accel-buffering'), 'no');
  const [forParse, forRead] = res.body.tee();
  const types = [];
  const reader = parseJsonEventStream({ stream: forParse, schema: uiMessageChunkSchema }).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    assert.ok(value.success, `invalid chunk: ${JSON.stringify(value.rawValue)} (${value.error})`);
    types.push(value.value.type);
  }
  assert.deepEqual(types, ['start', 'start-step', 'text-start', 'text-delta', 'text-delta', 'text-delta', 'text-end', 'finish-step', 'finish']);
  // readUIMessageStream assembles the same message useChat shows.
  const chunks = parseJsonEventStream({ stream: forRead, schema: uiMessageChunkSchema })
    .pipeThrough(new TransformStream({ transform(chunk, controller) { controller.enqueue(chunk.value); } }));
  let last;
  for await (const message of readUIMessageStream({ stream: chunks, terminateOnError: true })) last = message;
  assert.equal(textOf(last), 'You said: Hi');
});
