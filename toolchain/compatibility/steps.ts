/**
 * What the TypeScript drivers share: the run's parameters, signing, and running the steps of
 * toolchain/compatibility/__init__.py one after another, printed as JSON for toolchain/compat.py.
 * Copied beside each driver as `./steps`.
 */
declare const process: {
  argv: string[];
  exitCode: number;
  stdout: { write(text: string): boolean };
};

/** The run's parameters, given as JSON in the first argument. */
export interface Given {
  baseUrl: string;
  teamId: string;
  botId: string;
  secretKey: string;
  threads: string[];
  users: string[];
}

/** One step as toolchain/compat.py reads it. */
export interface Step {
  name: string;
  status: number | null;
  code: number | null;
  data: unknown;
  error: string | null;
  sent: string | null;
}

/** The body of the request the current step sent, as signed (set by `signatureHeaders`). */
const sent: { last: string | null } = { last: null };

export function given(): Given {
  return JSON.parse(process.argv[2]) as Given;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The three headers of a bot's signature over `body`, signed now. */
export async function signatureHeaders(
  botId: string,
  secretKey: string,
  body: string,
): Promise<Record<string, string>> {
  sent.last = body;
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    "X-Bot-Id": botId,
    "X-timestamp": timestamp,
    "X-Signature": await sha256Hex(botId + secretKey + timestamp + body),
  };
}

export function firstLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.split("\n")[0];
}

/**
 * Send each step in turn; `read` fills a step from its answer, `readError` from what it threw
 * (after `error` is set to the first line). Prints `{steps}` as JSON.
 */
export async function runSteps<T>(
  steps: [string, () => Promise<T>][],
  read: (answer: T, step: Step) => void,
  readError: (error: unknown, step: Step) => Promise<void> = async () => undefined,
): Promise<void> {
  const done: Step[] = [];
  for (const [name, send] of steps) {
    const step: Step = { name, status: null, code: null, data: null, error: null, sent: null };
    sent.last = null;
    try {
      read(await send(), step);
    } catch (error) {
      step.error = firstLine(error);
      await readError(error, step);
    }
    step.sent = sent.last;
    done.push(step);
  }
  process.stdout.write(JSON.stringify({ steps: done }));
}

export function start(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
