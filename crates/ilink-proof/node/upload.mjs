// A file send through the official client's pipeline, against ilink-simulator:
// uploadFileAttachmentToWeixin (dist/src/cdn/upload.js: reads the whole file,
// MD5, getuploadurl, encrypts in memory, POSTs the ciphertext to the CDN),
// then sendFileMessageWeixin (dist/src/messaging/send.js).
//
//   node upload.mjs --pkg DIR/package --urls JSON --path FILE
//
// Prints the wall time of the two calls and the peak RSS the process saw
// (process.resourceUsage().maxRSS); ../scripts/bench-compare.sh also measures
// the peak with /usr/bin/time -v. Checks that the simulator accepted the
// file message with the file's size.

import fs from "node:fs";
import path from "node:path";
import { Control, USER, dist, parseArgs, result, run } from "./common.mjs";

await run(async () => {
  const args = parseArgs(["path"]);
  const upload = await dist(args.pkg, "cdn/upload.js");
  const send = await dist(args.pkg, "messaging/send.js");
  const size = fs.statSync(args.path).size;
  const ctl = new Control(args.urls.control_url);
  const { bot_id: botId, token } = await ctl.createAccount();
  const contextToken = await ctl.contextToken(botId);
  const opts = { baseUrl: args.urls.api_url, token, contextToken };

  const rssBefore = process.memoryUsage().rss;
  const started = process.hrtime.bigint();
  const uploaded = await upload.uploadFileAttachmentToWeixin({
    filePath: args.path,
    toUserId: USER,
    opts,
    cdnBaseUrl: args.urls.cdn_url,
  });
  const sent = await send.sendFileMessageWeixin({
    to: USER,
    text: "",
    fileName: path.basename(args.path),
    uploaded,
    opts,
  });
  const secs = Number(process.hrtime.bigint() - started) / 1e9;
  const peak = process.resourceUsage().maxRSS;

  const accepted = (await ctl.sentBy(botId)).find(
    (m) => m.msg?.client_id === sent.messageId && m.media?.[0]?.kind === "file" && m.media[0].size === size,
  );
  // The official client sends no file_item.md5: that rendering problem is
  // expected (see interop.mjs); anything else is not.
  await ctl.checkClean();
  result({
    bench: "file",
    impl: "official",
    bytes: size,
    secs: secs.toFixed(3),
    peak_rss_kib: peak,
    rss_before_kib: Math.round(rssBefore / 1024),
    accepted: accepted ? 1 : 0,
  });
  if (!accepted) throw new Error("the simulator has no file message with the file's size");
});
