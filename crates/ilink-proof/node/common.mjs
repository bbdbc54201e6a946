// Shared by the official client's benchmark scripts (send.mjs, upload.mjs,
// idle.mjs): arguments, the unpacked package's dist modules, and the
// simulator's control API.
//
// The scripts run the compiled dist/ modules of @tencent-weixin/openclaw-weixin
// as set up by official.sh beside them (the package in DIR/package, the
// openclaw host stubs in DIR/node_modules). ../scripts/bench-compare.sh starts
// them; each prints one `RESULT key=value ...` line on stdout and exits
// non-zero when the simulator did not accept everything.

import path from "node:path";
import { pathToFileURL } from "node:url";

/** The user every message goes to (the same as bench_ilink's). */
export const USER = "bench_user@im.wechat";
/** The text of every benchmark message. */
export const TEXT = "benchmark message";

/** `--flag value` pairs; `required` names must be present. */
export function parseArgs(required = []) {
  const argv = process.argv.slice(2);
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || i + 1 >= argv.length) usage(`bad argument ${argv[i]}`);
    args[argv[i].slice(2)] = argv[i + 1];
  }
  for (const name of ["pkg", "urls", ...required]) {
    if (args[name] === undefined) usage(`--${name} is required`);
  }
  args.urls = JSON.parse(args.urls);
  return args;
}

function usage(message) {
  console.error(`${path.basename(process.argv[1])}: ${message}`);
  process.exit(2);
}

/** Imports a module of the package's dist/src. */
export function dist(pkg, rel) {
  return import(pathToFileURL(path.join(pkg, "dist", "src", rel)).href);
}

/** The simulator's control API (plain fetch, outside the client under test). */
export class Control {
  constructor(url) {
    this.url = url;
  }

  async call(method, route, body) {
    const res = await fetch(this.url + route, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`control ${method} ${route}: ${res.status} ${text}`);
    return JSON.parse(text);
  }

  /** Creates an account: `{bot_id, token}`. */
  createAccount() {
    return this.call("POST", "/accounts");
  }

  /** Pushes a text from `from` (default USER); the context token issued with it. */
  async contextToken(botId, from = USER) {
    const pushed = await this.call("POST", `/accounts/${encodeURIComponent(botId)}/push`, {
      from,
      content: { type: "text", text: "hello, bot" },
    });
    return pushed.context_token;
  }

  /** The messages the simulator accepted from `botId`. */
  async sentBy(botId) {
    return (await this.call("GET", "/sent")).filter((m) => m.bot_id === botId);
  }

  /** Throws when the simulator recorded violations or dropped duplicates. */
  async checkClean() {
    for (const route of ["/violations", "/duplicates"]) {
      const v = await this.call("GET", route);
      if (v.length) throw new Error(`the simulator recorded ${route}: ${JSON.stringify(v)}`);
    }
  }

  /** How often `needle` occurs in the answer to a GET, counted while the
   * body streams (no large string in the measured process). */
  async count(route, needle) {
    const res = await fetch(this.url + route);
    if (!res.ok) throw new Error(`control GET ${route}: ${res.status}`);
    const pattern = Buffer.from(needle);
    let carry = Buffer.alloc(0);
    let count = 0;
    for await (const chunk of res.body) {
      const buf = Buffer.concat([carry, chunk]);
      for (let at = buf.indexOf(pattern); at !== -1; at = buf.indexOf(pattern, at + 1)) count += 1;
      carry = buf.subarray(Math.max(0, buf.length - (pattern.length - 1)));
    }
    return count;
  }
}

/** Prints the result line. */
export function result(fields) {
  console.log(
    `RESULT ${Object.entries(fields)
      .map(([k, v]) => `${k}=${v}`)
      .join(" ")}`,
  );
}

/** Runs `main`, exiting 1 on an error. */
export async function run(main) {
  try {
    await main();
    process.exit(0);
  } catch (err) {
    console.error(`${path.basename(process.argv[1])}: ${err?.stack ?? err}`);
    process.exit(1);
  }
}
