// The official client as an echo bot, for the latency benchmark: getUpdates
// of its dist/src/api/api.js in a loop (adopting the returned cursor), and
// for every text a sendMessage reply "re: <text>" to its sender with the
// message's context token, the replies of one batch sent concurrently.
//
//   node echo.mjs --pkg DIR/package --urls JSON
//
// The account comes from ILINK_BENCH_BOT_ID and ILINK_BENCH_TOKEN (bench_ilink
// latency starts this script with them). Runs until killed.

import { dist, parseArgs } from "./common.mjs";

const args = parseArgs([]);
const api = await dist(args.pkg, "api/api.js");
const { generateId } = await dist(args.pkg, "util/random.js");
const baseUrl = args.urls.api_url;
const token = process.env.ILINK_BENCH_TOKEN;
if (!token) throw new Error("ILINK_BENCH_TOKEN is not set");

const reply = (msg) => {
  const text = msg.item_list?.find((i) => i.type === 1)?.text_item?.text;
  if (text === undefined || !msg.from_user_id) return Promise.resolve();
  return api.sendMessage({
    baseUrl,
    token,
    body: {
      msg: {
        from_user_id: "",
        to_user_id: msg.from_user_id,
        client_id: generateId("openclaw-weixin"),
        message_type: 2,
        message_state: 2,
        item_list: [{ type: 1, text_item: { text: `re: ${text}` } }],
        context_token: msg.context_token,
      },
    },
  });
};

let cursor = "";
for (;;) {
  try {
    const resp = await api.getUpdates({ baseUrl, token, get_updates_buf: cursor, timeoutMs: 35000 });
    if (resp.get_updates_buf) cursor = resp.get_updates_buf;
    await Promise.all((resp.msgs ?? []).map(reply));
  } catch (err) {
    console.error(String(err));
    await new Promise((r) => setTimeout(r, 200));
  }
}
