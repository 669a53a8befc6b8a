/**
 * Signs every request as Workonflow's bot API asks (Call API ${version}): the headers
 * `X-Bot-Id`, `X-timestamp` (Unix seconds) and `X-Signature`, the lowercase hex SHA-256 of
 * `botId + secretKey + timestamp + body` over the body exactly as sent. Added to the
 * generated client by `nox -s publish`; uses Web Crypto (Node 18 or newer, any browser).
 *
 *     const api = new CallApi(new Configuration({
 *       basePath: "https://api.workonflow.com",
 *       middleware: [botSignature(botId, secretKey)],
 *     }));
 */
import type { FetchParams, Middleware, RequestContext } from "./runtime";

export function botSignature(
  botId: string,
  secretKey: string,
  now: () => number = Date.now,
): Middleware {
  return {
    async pre(context: RequestContext): Promise<FetchParams> {
      const body = typeof context.init.body === "string" ? context.init.body : "";
      const timestamp = String(Math.floor(now() / 1000));
      const bytes = new TextEncoder().encode(botId + secretKey + timestamp + body);
      const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes));
      const signature = Array.from(digest, (b) => ("0" + b.toString(16)).slice(-2)).join("");
      const headers: Record<string, string> = {
        ...(context.init.headers as Record<string, string> | undefined),
        "X-Bot-Id": botId,
        "X-timestamp": timestamp,
        "X-Signature": signature,
      };
      return { url: context.url, init: { ...context.init, headers } };
    },
  };
}
