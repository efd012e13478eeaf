// The official TypeScript SDK (@anthropic-ai/sdk) against a target, for the clients.* checks.
//
// Reads its configuration as JSON on stdin (base_url, model, scenarios, style, timeout_ms,
// total_ms, headers, hello, wrong_key, unknown_model) and the API key from the environment
// (CONFORMANCE_DRIVER_KEY; never from argv). The SDK is loaded from the harness's install
// directory (CONFORMANCE_CLIENTS_ROOT). Every scenario runs with maxRetries 0 and its own
// time limit, all at once, each against base_url + "/_/<scenario>" (the recording proxy files
// its exchanges under that label and strips it). Prints one JSON line per scenario:
//   {"scenario": name, "ok": true, "value": ...} or {"scenario": name, "ok": false, "error": {...}}
// then {"done": true, "sdk": version, "node": version}. It starts no other program.
'use strict';

const root = process.env.CONFORMANCE_CLIENTS_ROOT;
const key = process.env.CONFORMANCE_DRIVER_KEY || '';
const sdk = require(require.resolve('@anthropic-ai/sdk', { paths: [root] }));
const Anthropic = sdk.default || sdk.Anthropic || sdk;
const { VERSION } = require(require.resolve('@anthropic-ai/sdk/version', { paths: [root] }));

// most specific first: the first class an error is an instance of names it
const ERROR_CLASSES = [
  'BadRequestError',
  'AuthenticationError',
  'PermissionDeniedError',
  'NotFoundError',
  'ConflictError',
  'UnprocessableEntityError',
  'RateLimitError',
  'InternalServerError',
  'APIConnectionTimeoutError',
  'APIUserAbortError',
  'APIConnectionError',
  'APIError',
  'AnthropicError',
];

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

function errorClass(err) {
  for (const name of ERROR_CLASSES) {
    const cls = Anthropic[name] || sdk[name];
    if (typeof cls === 'function' && err instanceof cls) return name;
  }
  return (err && err.constructor && err.constructor.name) || typeof err;
}

function describeError(err) {
  const body = err && err.error;
  const type =
    (body && body.error && typeof body.error.type === 'string' && body.error.type) ||
    (err && typeof err.type === 'string' ? err.type : null);
  return {
    class: errorClass(err),
    name: (err && err.name) || null,
    status: err && typeof err.status === 'number' ? err.status : null,
    type,
    message: String((err && err.message) || err).slice(0, 500),
  };
}

function describeMessage(msg) {
  if (msg === null || typeof msg !== 'object') return { kind: typeof msg, text: String(msg).slice(0, 200) };
  const content = Array.isArray(msg.content)
    ? msg.content.map((b) => {
        const out = { type: b && b.type };
        if (b && typeof b.text === 'string') out.text = b.text.slice(0, 200);
        if (b && typeof b.name === 'string') out.name = b.name;
        return out;
      })
    : msg.content === undefined
      ? null
      : { not_an_array: typeof msg.content };
  return {
    kind: 'object',
    id: msg.id,
    type: msg.type,
    role: msg.role,
    model: msg.model,
    content,
    stop_reason: msg.stop_reason,
    usage: msg.usage
      ? { input_tokens: msg.usage.input_tokens, output_tokens: msg.usage.output_tokens }
      : msg.usage === undefined
        ? null
        : msg.usage,
    request_id: msg._request_id || null,
  };
}

async function main() {
  const cfg = JSON.parse(await readStdin());
  const base = (scenario) => `${cfg.base_url}/_/${scenario}`;
  const params = (extra) => ({
    model: cfg.model,
    max_tokens: 64,
    messages: [{ role: 'user', content: cfg.hello }],
    ...extra,
  });

  function client(scenario, style, apiKey) {
    const options = {
      baseURL: base(scenario),
      maxRetries: 0,
      timeout: cfg.timeout_ms,
      defaultHeaders: { ...(cfg.headers || {}) },
    };
    if (style === 'x-api-key') {
      // SDK 1.x sends its apiKey as Authorization: Bearer; x-api-key (what SDK 0.x and Claude
      // Code send) is a default header, with the Bearer header left out
      options.apiKey = apiKey;
      options.defaultHeaders['x-api-key'] = apiKey;
      options.defaultHeaders['Authorization'] = null;
    } else {
      options.apiKey = apiKey;
    }
    return new Anthropic(options);
  }

  const limit = () => ({ signal: AbortSignal.timeout(cfg.total_ms) });

  const scenarios = {
    create: () => client('create', cfg.style, key).messages.create(params(), limit()).then(describeMessage),
    'create-stream': async () => {
      const stream = await client('create-stream', cfg.style, key).messages.create(params({ stream: true }), limit());
      const types = [];
      for await (const event of stream) types.push(event && event.type);
      return { types };
    },
    'stream-final': async () => {
      const stream = client('stream-final', cfg.style, key).messages.stream(params(), limit());
      return describeMessage(await stream.finalMessage());
    },
    'bad-request': () => {
      const p = params();
      delete p.max_tokens; // required by the contract (§1.1)
      return client('bad-request', cfg.style, key).messages.create(p, limit()).then(describeMessage);
    },
    authentication: () =>
      client('authentication', cfg.style, cfg.wrong_key).messages.create(params(), limit()).then(describeMessage),
    'not-found': () =>
      client('not-found', cfg.style, key)
        .messages.create(params({ model: cfg.unknown_model }), limit())
        .then(describeMessage),
    'auth-bearer': () => client('auth-bearer', 'bearer', key).messages.create(params(), limit()).then(describeMessage),
    'auth-x-api-key': () =>
      client('auth-x-api-key', 'x-api-key', key).messages.create(params(), limit()).then(describeMessage),
  };

  await Promise.all(
    cfg.scenarios.map(async (name) => {
      const started = Date.now();
      let line;
      try {
        if (!scenarios[name]) throw new Error(`unknown scenario ${name}`);
        line = { scenario: name, ok: true, value: await scenarios[name]() };
      } catch (err) {
        line = { scenario: name, ok: false, error: describeError(err) };
      }
      line.elapsed_ms = Date.now() - started;
      process.stdout.write(JSON.stringify(line) + '\n');
    }),
  );
  process.stdout.write(JSON.stringify({ done: true, sdk: VERSION, node: process.version }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`driver: ${(err && err.stack) || err}\n`);
  process.exit(2);
});
