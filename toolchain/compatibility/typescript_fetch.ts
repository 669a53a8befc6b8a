/**
 * Driver: a client of openapi-generator's `typescript-fetch` generator (copied beside this file
 * as `./client`), signing every request itself in a `pre` middleware over the body as sent.
 * Runs the steps of toolchain/compatibility/__init__.py and prints them as JSON.
 */
import {
  CallApi,
  CallRecordingApi,
  CallUserApi,
  Configuration,
  ResponseError,
  type Middleware,
  type UsersRequest,
} from "./client";
import { given, runSteps, signatureHeaders, start } from "./steps";

function signing(botId: string, secretKey: string): Middleware {
  return {
    async pre(context) {
      const body = typeof context.init.body === "string" ? context.init.body : "";
      const headers: Record<string, string> = {
        ...(context.init.headers as Record<string, string> | undefined),
        ...(await signatureHeaders(botId, secretKey, body)),
      };
      return { url: context.url, init: { ...context.init, headers } };
    },
  };
}

const textPlain: Middleware = {
  async pre(context) {
    const headers = { ...(context.init.headers as Record<string, string>) };
    headers["Content-Type"] = "text/plain";
    return { url: context.url, init: { ...context.init, headers } };
  },
};

async function main(): Promise<void> {
  const run = given();
  const { baseUrl: basePath, teamId, botId, secretKey } = run;
  const [thread, idle, other] = run.threads;
  const [first, second, third] = run.users;
  const config = (...middleware: Middleware[]) => new Configuration({ basePath, middleware });
  const signed = config(signing(botId, secretKey));
  const call = new CallApi(signed);
  const users = new CallUserApi(signed);
  const recording = new CallRecordingApi(signed);
  const on = { threadId: thread };
  // A body the types refuse, sent as a user without types (JavaScript) would send it.
  const neither = { threadId: thread } as unknown as UsersRequest;

  const steps: [string, () => Promise<unknown>][] = [
    ["start", () => call.callStart({ teamId, callStartRequest: on })],
    ["invite userIds", () => users.callUserInvite({ teamId, usersRequest: { ...on, userIds: [first, second] } })],
    [
      "invite userId and userIds",
      () => users.callUserInvite({ teamId, usersRequest: { ...on, userId: third, userIds: [first] } }),
    ],
    ["pause userId", () => call.callPause({ teamId, usersRequest: { ...on, userId: first } })],
    ["unpause userIds", () => call.callUnpause({ teamId, usersRequest: { ...on, userIds: [first] } })],
    ["exclude userId", () => users.callUserExclude({ teamId, usersRequest: { ...on, userId: second } })],
    ["recording start", () => recording.callRecordingStart({ teamId, threadRequest: on })],
    ["recording stop", () => recording.callRecordingStop({ teamId, threadRequest: on })],
    ["end", () => call.callEnd({ teamId, threadRequest: on })],
    [
      "409 invite with no active call",
      () => users.callUserInvite({ teamId, usersRequest: { threadId: idle, userId: first } }),
    ],
    [
      "401 wrong signature",
      () => new CallApi(config(signing(botId, secretKey + "-wrong"))).callStart({
        teamId, callStartRequest: { threadId: other },
      }),
    ],
    ["400 repeated user id", () => users.callUserInvite({ teamId, usersRequest: { ...on, userIds: [first, first] } })],
    ["400 neither userId nor userIds", () => users.callUserInvite({ teamId, usersRequest: neither })],
    [
      "415 text/plain body",
      () => new CallApi(config(textPlain, signing(botId, secretKey))).callStart({
        teamId, callStartRequest: { threadId: other },
      }),
    ],
  ];
  await runSteps(
    steps,
    (answer, step) => {
      const envelope = JSON.parse(JSON.stringify(answer)) as { code?: number; data?: unknown };
      step.status = step.code = envelope.code ?? null;
      step.data = envelope.data ?? null;
    },
    async (error, step) => {
      if (error instanceof ResponseError) {
        step.status = error.response.status;
        const envelope = (await error.response.json().catch(() => null)) as { code?: number } | null;
        step.code = envelope?.code ?? null;
      }
    },
  );
}

start(main);
