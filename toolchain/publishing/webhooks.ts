/**
 * Receives the call events (Call API ${version}): checks a webhook delivery as the server
 * checks a request, then returns its typed event. The platform signs each delivery with
 * `X-Bot-Id`, `X-timestamp` (Unix seconds, within ${max_skew_seconds} s of the receiver's clock)
 * and `X-Signature`, the lowercase hex SHA-256 of `botId + secretKey + timestamp + body` over
 * the body exactly as sent. Added to the generated client by `nox -s publish`; uses Web Crypto
 * (Node 18 or newer).
 *
 *     const event = await verifyWebhook(request.headers, rawBody, botId, secretKey);
 *     if (event.${discriminator} === "call.dtmf") console.log(event.dtmfNumber);
 *
 * A refusal is a `WebhookError` whose `problem` says what is wrong and whose message names the
 * header or field; none shows the secret key.
 */
import {
${event_imports}} from "./models/index";

export const MAX_SKEW_SECONDS = ${max_skew_seconds};

/** Any of the call events, told apart by `${discriminator}` (narrow it with `===`). */
export type CallEvent =${event_union};

/** The model of each `${discriminator}`, from its JSON. */
const FROM_JSON: Record<string, (json: unknown) => CallEvent> = {
${event_parsers}};

export type WebhookProblem =
  | "missing-header"
  | "unknown-bot"
  | "invalid-timestamp"
  | "stale-timestamp"
  | "bad-signature"
  | "malformed-event"
  | "unknown-event-type";

export class WebhookError extends Error {
  constructor(
    readonly problem: WebhookProblem,
    message: string,
  ) {
    super(message);
    this.name = "WebhookError";
  }
}

interface FieldCheck {
  name: string;
  type: "string" | "integer";
  required: boolean;
  const?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}

/** The fields of each event type and what each must be, from the contract's schemas. */
const EVENTS: Record<string, FieldCheck[]> = ${event_checks};

/** Headers as `fetch` gives them (`get`) or as Node's `IncomingMessage.headers`. */
export type WebhookHeaders =
  | { get(name: string): string | null }
  | Record<string, string | string[] | undefined>;

function header(headers: WebhookHeaders, name: string): string {
  let value: string | string[] | null | undefined;
  if (typeof headers.get === "function") {
    value = (headers as { get(name: string): string | null }).get(name);
  } else {
    const all = headers as Record<string, string | string[] | undefined>;
    const key = Object.keys(all).find((key) => key.toLowerCase() === name.toLowerCase());
    value = key === undefined ? undefined : all[key];
  }
  if (Array.isArray(value)) {
    if (new Set(value).size > 1) {
      throw new WebhookError("missing-header", "the " + name + " header is given more than once");
    }
    value = value[0];
  }
  const text = (value ?? "").trim();
  if (!text) throw new WebhookError("missing-header", "the " + name + " header is missing");
  return text;
}

/** Compares two texts in a time that does not depend on where they differ. */
function sameText(a: string, b: string): boolean {
  let difference = a.length ^ b.length;
  for (let i = 0; i < a.length; i++) {
    difference |= a.charCodeAt(i) ^ b.charCodeAt(i % Math.max(b.length, 1));
  }
  return difference === 0;
}

async function signature(prefix: string, body: Uint8Array): Promise<string> {
  const head = new TextEncoder().encode(prefix);
  const bytes = new Uint8Array(head.length + body.length);
  bytes.set(head);
  bytes.set(body, head.length);
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => ("0" + b.toString(16)).slice(-2)).join("");
}

function problem(check: FieldCheck, value: unknown): string | null {
  if (check.type === "string" ? typeof value !== "string" : !Number.isInteger(value)) {
    return "must be a " + (check.type === "string" ? "string" : "whole number");
  }
  if (check.const !== undefined && value !== check.const) return "must be " + check.const;
  if (typeof value === "string") {
    const length = Array.from(value).length;
    if (check.minLength !== undefined && length < check.minLength) {
      return "must be at least " + check.minLength + " characters long";
    }
    if (check.maxLength !== undefined && length > check.maxLength) {
      return "must be at most " + check.maxLength + " characters long";
    }
    if (check.pattern !== undefined && !new RegExp(check.pattern, "u").test(value)) {
      return "must match " + check.pattern;
    }
  } else if (typeof value === "number") {
    if (check.minimum !== undefined && value < check.minimum) return "must be at least " + check.minimum;
    if (check.maximum !== undefined && value > check.maximum) return "must be at most " + check.maximum;
  }
  return null;
}

/** The event of a body, checked against the contract's schema of its type (no signature). */
export function parseEvent(body: string): CallEvent {
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch {
    throw new WebhookError("malformed-event", "the body is not JSON");
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new WebhookError("malformed-event", "the body is not a JSON object");
  }
  const fields = data as Record<string, unknown>;
  const eventType = fields["${discriminator}"];
  if (typeof eventType !== "string") {
    throw new WebhookError("malformed-event", "${discriminator} is missing or not a string");
  }
  const checks = EVENTS[eventType];
  const fromJson = FROM_JSON[eventType];
  if (checks === undefined || fromJson === undefined) {
    throw new WebhookError(
      "unknown-event-type",
      "unknown ${discriminator} " + JSON.stringify(eventType) + ": take it (2xx) and ignore it",
    );
  }
  for (const check of checks) {
    if (!(check.name in fields)) {
      if (check.required) throw new WebhookError("malformed-event", eventType + ": " + check.name + " is missing");
      continue;
    }
    const wrong = problem(check, fields[check.name]);
    if (wrong !== null) throw new WebhookError("malformed-event", eventType + ": " + check.name + " " + wrong);
  }
  return fromJson(fields);
}

/**
 * The event of a webhook delivery signed by the bot; `WebhookError` otherwise.
 * `body` is the request's body exactly as received (bytes, or text decoded as UTF-8).
 */
export async function verifyWebhook(
  headers: WebhookHeaders,
  body: Uint8Array | string,
  botId: string,
  secretKey: string,
  now: () => number = Date.now,
): Promise<CallEvent> {
  const sentBy = header(headers, "X-Bot-Id");
  const timestamp = header(headers, "X-timestamp");
  const given = header(headers, "X-Signature");
  if (!sameText(sentBy, botId)) {
    throw new WebhookError("unknown-bot", "X-Bot-Id names another bot than " + botId);
  }
  if (!/^[1-9][0-9]{0,17}$$/.test(timestamp)) {
    throw new WebhookError("invalid-timestamp", "X-timestamp is not whole Unix seconds");
  }
  if (Math.abs(Number(timestamp) - now() / 1000) > MAX_SKEW_SECONDS) {
    throw new WebhookError(
      "stale-timestamp",
      "X-timestamp is more than " + MAX_SKEW_SECONDS + " s from this receiver's clock",
    );
  }
  const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
  const expected = await signature(botId + secretKey + timestamp, bytes);
  if (!sameText(expected, /^[0-9a-f]{64}$$/.test(given) ? given : "")) {
    throw new WebhookError(
      "bad-signature",
      "X-Signature does not match the body signed with the secret key of bot " + botId,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new WebhookError("malformed-event", "the body is not UTF-8");
  }
  return parseEvent(text);
}
