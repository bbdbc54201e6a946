// Idle accounts in the official client: N accounts long-polling
// ilink-simulator from one Node process, each with the official monitor's
// loop reduced to its requests (notifyStart, then getUpdates of
// dist/src/api/api.js again and again, adopting the returned cursor).
//
//   node --expose-gc idle.mjs --pkg DIR/package --urls JSON --accounts N \
//        [--window-secs S] [--settle-secs S] [--hold-secs S]
//
// As bench_ilink idle: memory per account is (RSS once every poll is held
// and the process has settled − RSS before the first account started) / N,
// then the CPU time (process.cpuUsage) over an idle window. With
// --expose-gc, a full GC runs before each RSS reading (in Node's favour).
// Failed calls are retried after 2 s, as the official monitor does, and
// counted. Checks that every account had a poll held at the simulator and
// that none returned or was retried during the settling and the window.

import { Control, dist, parseArgs, result, run } from "./common.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssKib = () => {
  globalThis.gc?.();
  return Math.round(process.memoryUsage().rss / 1024);
};

await run(async () => {
  const args = parseArgs(["accounts"]);
  const accounts = Math.max(1, Number(args.accounts));
  const windowSecs = Number(args["window-secs"] ?? 10);
  const settleSecs = Number(args["settle-secs"] ?? 12);
  const holdMs = Number(args["hold-secs"] ?? 120) * 1000;
  const api = await dist(args.pkg, "api/api.js");
  const ctl = new Control(args.urls.control_url);
  const bots = [];
  for (let i = 0; i < accounts; i++) bots.push(await ctl.createAccount());
  console.error(`idle: ${accounts} accounts created`);

  await sleep(200);
  const rssBefore = rssKib();
  const errors = [];
  const baseUrl = args.urls.api_url;
  const poll = async ({ token }) => {
    await api.notifyStart({ baseUrl, token }).catch((err) => errors.push(String(err)));
    let cursor = "";
    for (;;) {
      try {
        const resp = await api.getUpdates({ baseUrl, token, get_updates_buf: cursor, timeoutMs: holdMs });
        if (resp.get_updates_buf) cursor = resp.get_updates_buf;
      } catch (err) {
        errors.push(String(err));
        await sleep(2000);
      }
    }
  };
  const started = Date.now();
  for (const bot of bots) poll(bot);

  const needle = '"route":"get_updates"';
  let polls = 0;
  while ((polls = await ctl.count("/requests?route=get_updates", needle)) < accounts) {
    if (Date.now() - started > holdMs / 2) throw new Error(`only ${polls} of ${accounts} polls arrived`);
    await sleep(250);
  }
  const ramp = (Date.now() - started) / 1000;
  console.error(`idle: ${accounts} polls held after ${ramp.toFixed(1)} s`);
  await sleep(settleSecs * 1000);
  const pollsSettled = await ctl.count("/requests?route=get_updates", needle);
  const rssAfter = rssKib();

  const cpuBefore = process.cpuUsage();
  await sleep(windowSecs * 1000);
  const cpu = process.cpuUsage(cpuBefore);
  const measured = Date.now() - started;

  const records = await ctl.call("GET", "/requests?route=get_updates");
  polls = records.length;
  const held = new Set(records.map((r) => r.bot_id)).size;
  result({
    bench: "idle",
    impl: "official",
    accounts,
    rss_before_kib: rssBefore,
    rss_after_kib: rssAfter,
    per_account_kib: ((rssAfter - rssBefore) / accounts).toFixed(2),
    idle_cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
    window_s: windowSecs,
    polls,
    held,
    errors: errors.length,
    ramp_s: ramp.toFixed(1),
  });
  if (errors.length) console.error(`idle: ${errors.length} failed calls, first: ${errors[0]}`);
  if (held !== accounts) throw new Error(`only ${held} of ${accounts} accounts had a poll held`);
  if (polls !== pollsSettled) throw new Error(`${polls - pollsSettled} polls returned or were retried during the window`);
  if (measured >= holdMs) throw new Error("the window ran past the simulator's hold");
});
