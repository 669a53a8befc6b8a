/**
 * Driver: openapi-typescript's types (`./schema`, dist/types/schema.d.ts) with openapi-fetch,
 * signing every request itself in an `onRequest` middleware over the body as sent.
 * Runs the steps of toolchain/compatibility/__init__.py and prints them as JSON.
 */
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { given, runSteps, signatureHeaders, start } from "./steps";

type Users = components["schemas"]["UsersRequest"];

function signing(botId: string, secretKey: string): Middleware {
  return {
    async onRequest({ request }) {
      const body = await request.clone().text();
      for (const [name, value] of Object.entries(await signatureHeaders(botId, secretKey, body))) {
        request.headers.set(name, value);
      }
      return request;
    },
  };
}

interface Answer {
  data?: unknown;
  error?: unknown;
  response: Response;
}

async function main(): Promise<void> {
  const run = given();
  const { baseUrl, teamId, botId, secretKey } = run;
  const [thread, idle, other] = run.threads;
  const [first, second, third] = run.users;
  const signed = createClient<paths>({ baseUrl });
  signed.use(signing(botId, secretKey));
  const wrong = createClient<paths>({ baseUrl });
  wrong.use(signing(botId, secretKey + "-wrong"));
  const params = { path: { teamId } };
  const on = { threadId: thread };
  // A body the types refuse, sent as a user without types (JavaScript) would send it.
  const neither = { threadId: thread } as unknown as Users;

  const steps: [string, () => Promise<Answer>][] = [
    // The README's body: `direction` has a default and stays optional.
    ["start", () => signed.POST("/{teamId}/call/start", { params, body: on })],
    ["invite userIds", () => signed.POST("/{teamId}/call.user/invite", { params, body: { ...on, userIds: [first, second] } })],
    [
      "invite userId and userIds",
      () => signed.POST("/{teamId}/call.user/invite", { params, body: { ...on, userId: third, userIds: [first] } }),
    ],
    ["pause userId", () => signed.POST("/{teamId}/call/pause", { params, body: { ...on, userId: first } })],
    ["unpause userIds", () => signed.POST("/{teamId}/call/unpause", { params, body: { ...on, userIds: [first] } })],
    ["exclude userId", () => signed.POST("/{teamId}/call.user/exclude", { params, body: { ...on, userId: second } })],
    ["recording start", () => signed.POST("/{teamId}/call.recording/start", { params, body: on })],
    ["recording stop", () => signed.POST("/{teamId}/call.recording/stop", { params, body: on })],
    ["end", () => signed.POST("/{teamId}/call/end", { params, body: on })],
    [
      "409 invite with no active call",
      () => signed.POST("/{teamId}/call.user/invite", { params, body: { threadId: idle, userId: first } }),
    ],
    ["401 wrong signature", () => wrong.POST("/{teamId}/call/start", { params, body: { threadId: other } })],
    ["400 repeated user id", () => signed.POST("/{teamId}/call.user/invite", { params, body: { ...on, userIds: [first, first] } })],
    ["400 neither userId nor userIds", () => signed.POST("/{teamId}/call.user/invite", { params, body: neither })],
    [
      "415 text/plain body",
      () => signed.POST("/{teamId}/call/start", {
        params, body: { threadId: other }, headers: { "Content-Type": "text/plain" },
      }),
    ],
  ];
  await runSteps(steps, (answer, step) => {
    step.status = answer.response.status;
    const envelope = (answer.data ?? answer.error) as { code?: number; data?: unknown; message?: string } | undefined;
    step.code = envelope?.code ?? null;
    if (answer.response.ok) step.data = envelope?.data ?? null;
    else step.error = `${answer.response.status}: ${envelope?.message ?? ""}`.split("\n")[0];
  });
}

start(main);
