// Send rate of the official client: `sendMessage` of its dist/src/api/api.js
// from N concurrent async loops, against ilink-simulator.
//
//   node send.mjs --pkg DIR/package --urls JSON --concurrency N --messages M [--users U]
//
// As bench_ilink send: one bot account, U users (default 1) each with a
// context token from a pushed inbound text, message n to user n % U, each send its own client_id (built as the official send.js does:
// generateId("openclaw-weixin")), one warm-up send per loop, then M sends;
// rate = M / wall time. Checks that the simulator accepted all M.

import { Control, TEXT, USER, dist, parseArgs, result, run } from "./common.mjs";

await run(async () => {
  const args = parseArgs(["concurrency", "messages"]);
  const concurrency = Math.max(1, Number(args.concurrency));
  const messages = Number(args.messages);
  const api = await dist(args.pkg, "api/api.js");
  const { generateId } = await dist(args.pkg, "util/random.js");
  const ctl = new Control(args.urls.control_url);
  const { bot_id: botId, token } = await ctl.createAccount();
  const users = Math.max(1, Number(args.users ?? 1));
  const targets = [];
  for (let i = 0; i < users; i++) {
    const user = users === 1 ? USER : `bench_user_${String(i).padStart(4, "0")}@im.wechat`;
    targets.push({ user, contextToken: await ctl.contextToken(botId, user) });
  }

  const sendOne = ({ user, contextToken }) =>
    api.sendMessage({
      baseUrl: args.urls.api_url,
      token,
      body: {
        msg: {
          from_user_id: "",
          to_user_id: user,
          client_id: generateId("openclaw-weixin"),
          message_type: 2,
          message_state: 2,
          item_list: [{ type: 1, text_item: { text: TEXT } }],
          context_token: contextToken,
        },
      },
    });
  const sendAll = async (total) => {
    let next = 0;
    const loop = async () => {
      while (next < total) await sendOne(targets[next++ % users]);
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
  };

  await sendAll(concurrency);
  await ctl.call("POST", "/reset-records");
  const started = process.hrtime.bigint();
  await sendAll(messages);
  const secs = Number(process.hrtime.bigint() - started) / 1e9;

  const sent = await ctl.sentBy(botId);
  const ids = new Set(
    sent.filter((m) => m.msg?.item_list?.[0]?.text_item?.text === TEXT).map((m) => m.msg.client_id),
  );
  await ctl.checkClean();
  result({
    bench: "send",
    impl: "official",
    users,
    concurrency,
    messages,
    secs: secs.toFixed(3),
    rate: (messages / secs).toFixed(1),
    accepted: ids.size,
  });
  if (ids.size !== messages) throw new Error(`the simulator accepted ${ids.size} distinct messages of ${messages}`);
});
