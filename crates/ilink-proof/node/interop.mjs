// Interop proof: the official WeChat iLink client (@tencent-weixin/openclaw-weixin,
// its compiled dist/ modules) driven against ilink-simulator.
//
// Started by ../scripts/interop.sh, which unpacks the package, creates the
// openclaw stubs and starts the simulator. Two modes:
//
//   node interop.mjs run              drive the official client (env below);
//                                     writes the expectations to $ILINK_INTEROP_EXPECT
//   node interop.mjs verify EXPECT VIOLATIONS SENT
//                                     check what the simulator recorded
//
// Environment of `run`:
//   ILINK_INTEROP_URLS    the simulator's JSON line (api_url, cdn_url, redirect_url, control_url)
//   ILINK_INTEROP_PKG     the unpacked package directory (holding dist/)
//   ILINK_INTEROP_WORK    a scratch directory
//   ILINK_INTEROP_EXPECT  where to write the expectations

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const OFFICIAL_API = "https://ilinkai.weixin.qq.com";
const USER = "interop_alice@im.wechat";
const TOTAL_BUDGET_MS = 110_000;

/** The one problem the simulator must report for the official client. */
const EXPECTED_FILE_PROBLEM = "file_item.md5 missing: the file arrives as 0 bytes";

const md5 = (buf) => crypto.createHash("md5").update(buf).digest("hex");

function fail(message) {
  throw new Error(message);
}

function check(cond, message) {
  if (!cond) fail(message);
}

let stepNo = 0;
const reported = new WeakSet();
async function step(name, fn) {
  stepNo += 1;
  const started = Date.now();
  try {
    const out = await fn();
    console.log(`ok ${stepNo} - ${name} (${Date.now() - started} ms)`);
    return out;
  } catch (err) {
    console.log(`not ok ${stepNo} - ${name}: ${err?.stack ?? err}`);
    reported.add(err);
    throw err;
  }
}

// ---------------------------------------------------------------- run

async function run() {
  const urls = JSON.parse(process.env.ILINK_INTEROP_URLS ?? fail("ILINK_INTEROP_URLS is not set"));
  const pkg = process.env.ILINK_INTEROP_PKG ?? fail("ILINK_INTEROP_PKG is not set");
  const work = process.env.ILINK_INTEROP_WORK ?? fail("ILINK_INTEROP_WORK is not set");
  const expectPath = process.env.ILINK_INTEROP_EXPECT ?? fail("ILINK_INTEROP_EXPECT is not set");
  fs.mkdirSync(work, { recursive: true });
  const dist = (rel) => import(pathToFileURL(path.join(pkg, "dist", "src", rel)).href);

  // The official client logs in at a fixed https host and follows
  // scaned_but_redirect to https://<redirect_host>: point both at the simulator.
  const realFetch = globalThis.fetch;
  const redirectHost = new URL(urls.redirect_url).host;
  const rewritten = { fixed: 0, redirect: 0 };
  globalThis.fetch = (input, init) => {
    let url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    if (url.startsWith(OFFICIAL_API + "/")) {
      rewritten.fixed += 1;
      url = urls.api_url + url.slice(OFFICIAL_API.length);
    } else if (url.startsWith(`https://${redirectHost}/`)) {
      rewritten.redirect += 1;
      url = `http://${url.slice("https://".length)}`;
    }
    return realFetch(url, init);
  };

  /** A control API call; returns the raw text and the parsed JSON. */
  async function ctl(method, route, body) {
    const res = await realFetch(urls.control_url + route, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined || typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) fail(`control ${method} ${route}: ${res.status} ${text}`);
    return { text, json: JSON.parse(text) };
  }

  /** Pushes an inbound message (an object, or JSON text to keep big numbers
   * exact); keeps `message_id` digit-for-digit. */
  async function push(botId, inbound) {
    const { text, json } = await ctl("POST", `/accounts/${encodeURIComponent(botId)}/push`, inbound);
    const id = /"message_id":(\d+)/.exec(text)?.[1] ?? fail(`no message_id in ${text}`);
    return { ...json, message_id: id };
  }

  const api = await dist("api/api.js");
  const expect = { media: [], texts: [], outboundFiles: [] };

  // 1. QR login through a scripted redirect.
  const login = await step("QR login (wait, scaned, scaned_but_redirect, confirmed)", async () => {
    await ctl("POST", "/login-scripts", {
      steps: [
        { step: "wait" },
        { step: "scanned" },
        { step: "redirect" },
        { step: "confirm", target: { target: "new_bot" } },
      ],
    });
    const lq = await dist("auth/login-qr.js");
    const started = await lq.startWeixinLoginWithQr({
      apiBaseUrl: "https://ignored.invalid",
      accountId: "interop",
      force: true,
    });
    check(started.qrcodeUrl, `no QR code: ${started.message}`);
    const r = await lq.waitForWeixinLogin({
      sessionKey: started.sessionKey,
      apiBaseUrl: "https://ignored.invalid",
      timeoutMs: 30_000,
    });
    check(r.connected, `login failed: ${r.message}`);
    check(r.botToken && r.accountId?.endsWith("@im.bot"), `bad credentials: ${JSON.stringify(r)}`);
    check(r.baseUrl === urls.api_url, `baseurl ${r.baseUrl} is not the simulator's ${urls.api_url}`);
    check(rewritten.fixed > 0 && rewritten.redirect > 0, `hosts not both used: ${JSON.stringify(rewritten)}`);
    const polls = (await ctl("GET", "/requests?route=get_qrcode_status")).json;
    check(polls.some((p) => p.host === "redirect"), "no status poll reached the redirect host");
    return { token: r.botToken, botId: r.accountId, baseUrl: r.baseUrl };
  });
  const opts = { baseUrl: login.baseUrl, token: login.token };

  // The same bot scanned again: the client lists its saved token in
  // local_token_list and the server answers binded_redirect.
  await step("QR login of an already-bound bot: binded_redirect", async () => {
    const accounts = await dist("auth/accounts.js");
    const { normalizeAccountId } = await import(
      pathToFileURL(path.join(pkg, "..", "node_modules", "openclaw", "plugin-sdk", "account-id.js")).href
    );
    const id = normalizeAccountId(login.botId);
    accounts.saveWeixinAccount(id, { token: login.token, baseUrl: login.baseUrl });
    accounts.registerWeixinAccountId(id);
    await ctl("POST", "/login-scripts", {
      steps: [{ step: "confirm", target: { target: "existing", bot_id: login.botId } }],
    });
    const lq = await dist("auth/login-qr.js");
    const started = await lq.startWeixinLoginWithQr({
      apiBaseUrl: "https://ignored.invalid",
      accountId: "interop-again",
      force: true,
    });
    check(started.qrcodeUrl, `no QR code: ${started.message}`);
    const r = await lq.waitForWeixinLogin({
      sessionKey: started.sessionKey,
      apiBaseUrl: "https://ignored.invalid",
      timeoutMs: 30_000,
    });
    check(r.alreadyConnected === true && !r.connected, `expected binded_redirect: ${JSON.stringify(r)}`);
    const qrs = (await ctl("GET", "/requests?route=get_bot_qrcode")).json;
    const listed = qrs.at(-1)?.body?.local_token_list;
    check(JSON.stringify(listed) === JSON.stringify([login.token]), `local_token_list ${JSON.stringify(listed)}`);
  });

  await step("notifystart", async () => {
    const r = await api.notifyStart(opts);
    check(r.ret === 0, `notifystart: ${JSON.stringify(r)}`);
  });

  // 2. One inbound text, one poll.
  let cursor = "";
  const inbound = await step("getupdates delivers a pushed text (ids lossless)", async () => {
    const pushed = await push(login.botId, {
      from: USER,
      content: { type: "text", text: "hello from the simulator" },
    });
    const resp = await api.getUpdates({ ...opts, get_updates_buf: cursor, timeoutMs: 15_000 });
    check((resp.ret ?? 0) === 0 && (resp.errcode ?? 0) === 0, `getupdates: ${JSON.stringify(resp)}`);
    check(resp.msgs?.length === 1, `expected 1 message, got ${JSON.stringify(resp.msgs)}`);
    const msg = resp.msgs[0];
    check(msg.item_list?.[0]?.text_item?.text === "hello from the simulator", "wrong text");
    check(msg.from_user_id === USER, `from_user_id ${msg.from_user_id}`);
    check(String(msg.message_id) === pushed.message_id, `message_id ${msg.message_id} != ${pushed.message_id}`);
    check(msg.context_token === pushed.context_token, "context_token differs from the pushed one");
    check(resp.get_updates_buf, "no cursor");
    cursor = resp.get_updates_buf;
    return msg;
  });
  const replyOpts = { ...opts, contextToken: inbound.context_token };

  // 3. Typing: getconfig through the official cache, then sendtyping.
  await step("getconfig + sendtyping", async () => {
    const { WeixinConfigManager } = await dist("api/config-cache.js");
    const logs = [];
    const manager = new WeixinConfigManager(opts, (line) => logs.push(line));
    const config = await manager.getForUser(USER, inbound.context_token);
    check(config.typingTicket, `no typing ticket (${logs.join("; ")})`);
    for (const status of [1, 2]) {
      await api.sendTyping({
        ...opts,
        body: { ilink_user_id: USER, typing_ticket: config.typingTicket, status },
      });
    }
    const typing = (await ctl("GET", "/typing")).json;
    check(typing.length === 2 && typing[0].status === 1 && typing[1].status === 2, `typing ${JSON.stringify(typing)}`);
  });

  // 4. The reply.
  const send = await dist("messaging/send.js");
  await step("sendmessage reply with the context token", async () => {
    await send.sendMessageWeixin({ to: USER, text: "pong", opts: replyOpts });
    expect.texts.push("pong");
  });

  // 5. Media out through the official upload pipeline (one CDN 500 first: it retries).
  const sendMedia = await dist("messaging/send-media.js");
  const outbound = [
    { kind: "image", name: "photo.png", size: 30_000, caption: "a caption" },
    { kind: "file", name: "report.pdf", size: 45_001, caption: "" },
    { kind: "video", name: "clip.mp4", size: 70_016, caption: "" },
  ];
  await ctl("POST", "/faults", { route: "cdn_upload", kind: { kind: "status500" }, count: 1 });
  for (const o of outbound) {
    await step(`upload and send the ${o.kind} (${o.name}, ${o.size} bytes)`, async () => {
      const bytes = crypto.randomBytes(o.size);
      const filePath = path.join(work, o.name);
      fs.writeFileSync(filePath, bytes);
      await sendMedia.sendWeixinMediaFile({
        filePath,
        to: USER,
        text: o.caption,
        opts: replyOpts,
        cdnBaseUrl: urls.cdn_url,
      });
      if (o.caption) expect.texts.push(o.caption);
      expect.media.push({ kind: o.kind, md5: md5(bytes), size: o.size, name: o.name });
    });
  }
  await step("the injected CDN 500 was retried", async () => {
    const uploads = (await ctl("GET", "/requests?route=cdn_upload")).json;
    check(uploads.length === outbound.length + 1, `${uploads.length} CDN uploads`);
  });

  // 6. Inbound media in every key form, downloaded and decrypted by the official code.
  const download = await dist("media/media-download.js");
  const pushes = [
    { label: "image, key base64 of raw bytes", content: { type: "image", key: "base64_raw" }, size: 20_000 },
    { label: "image, key base64 of hex, full_url", content: { type: "image", key: "base64_hex" }, size: 20_001, full_url: true },
    { label: "image, hex aeskey only", content: { type: "image", key: "hex_only" }, size: 19_999 },
    { label: "file", content: { type: "file", name: "in.bin" }, size: 33_333 },
    { label: "video", content: { type: "video" }, size: 50_000 },
    { label: "voice (no transcript: raw SILK kept)", content: { type: "voice", encode_type: 6, playtime_ms: 1500 }, size: 3_000 },
  ];
  const pushed = [];
  for (const p of pushes) {
    const bytes = crypto.randomBytes(p.size);
    const r = await push(login.botId, {
      from: USER,
      content: { ...p.content, bytes: bytes.toString("base64") },
      full_url: p.full_url ?? false,
    });
    check(r.media_md5 === md5(bytes), `pushed md5 ${r.media_md5}`);
    pushed.push({ ...p, md5: md5(bytes) });
  }
  const batch = await step("getupdates delivers the inbound media", async () => {
    const resp = await api.getUpdates({ ...opts, get_updates_buf: cursor, timeoutMs: 15_000 });
    check(resp.msgs?.length === pushes.length, `expected ${pushes.length} messages, got ${resp.msgs?.length}`);
    cursor = resp.get_updates_buf || cursor;
    return resp.msgs;
  });
  for (const [i, p] of pushed.entries()) {
    await step(`download + decrypt inbound ${p.label}`, async () => {
      const errors = [];
      const saved = [];
      const result = await download.downloadMediaFromItem(batch[i].item_list[0], {
        cdnBaseUrl: urls.cdn_url,
        saveMedia: async (buf, contentType, subdir, maxBytes, name) => {
          saved.push(buf);
          return { path: path.join(work, `inbound-${i}${name ? `-${name}` : ""}`) };
        },
        log: () => {},
        errLog: (line) => errors.push(line),
        label: "interop",
      });
      check(errors.length === 0, errors.join("; "));
      check(saved.length === 1, `saved ${saved.length} buffers (${JSON.stringify(result)})`);
      check(md5(saved[0]) === p.md5, `md5 ${md5(saved[0])} != ${p.md5}`);
    });
  }

  // 7. The official inbound parsing: a quote of part of a text (uint64
  // svr_id), and a voice note with a transcript.
  await step("official inbound parsing: quote with partial_text, voice transcript", async () => {
    const inboundMod = await dist("messaging/inbound.js");
    const { resolvePartialQuote } = await dist("messaging/partial-quote.js");
    const quoted = "the quick brown fox";
    const svrId = "18446744073709551614";
    const quote = {
      svr_id: 0,
      text: quoted,
      title: "alice",
      partial: { start: "quick", startindex: 0, end: "brown", endindex: 0, quotemd5: md5("quick brown") },
    };
    const body = JSON.stringify({ from: USER, content: { type: "text", text: "quoting you" }, quote })
      .replace('"svr_id":0', `"svr_id":${svrId}`);
    const q = await push(login.botId, body);
    await push(login.botId, {
      from: USER,
      content: { type: "voice", bytes: Buffer.from("#!SILK_V3").toString("base64"), transcript: "spoken words" },
    });
    const resp = await api.getUpdates({ ...opts, get_updates_buf: cursor, timeoutMs: 15_000 });
    check(resp.msgs?.length === 2, `expected 2 messages, got ${resp.msgs?.length}`);
    cursor = resp.get_updates_buf || cursor;
    const [quoteMsg, voiceMsg] = resp.msgs;
    const ctx = inboundMod.weixinMessageToMsgContext(quoteMsg, login.botId);
    check(ctx.Body === "quoting you", `Body ${ctx.Body}`);
    check(ctx.MessageSidFull === q.message_id, `MessageSidFull ${ctx.MessageSidFull} != ${q.message_id}`);
    check(ctx.ReplyToIsQuote === true, "not a quote");
    check(ctx.ReplyToId === svrId, `ReplyToId ${ctx.ReplyToId} != ${svrId}`);
    check(ctx.ReplyToBody === `alice | ${quoted}`, `ReplyToBody ${ctx.ReplyToBody}`);
    check(ctx.context_token === q.context_token, "context_token");
    const partial = resolvePartialQuote(quoted, quoteMsg.item_list[0].ref_msg.partial_text);
    check(!partial.fallback && partial.resolved === "quick brown", `partial quote ${JSON.stringify(partial)}`);
    const voiceCtx = inboundMod.weixinMessageToMsgContext(voiceMsg, login.botId);
    check(voiceCtx.Body === "spoken words", `voice Body ${voiceCtx.Body}`);
  });

  await step("notifystop", async () => {
    const r = await api.notifyStop(opts);
    check(r.ret === 0, `notifystop: ${JSON.stringify(r)}`);
  });

  // 8. An expired session: getupdates reports -14, a send throws.
  await step("expired session: getupdates -14, sendmessage refused", async () => {
    await ctl("POST", `/accounts/${encodeURIComponent(login.botId)}/expire`);
    const resp = await api.getUpdates({ ...opts, get_updates_buf: cursor, timeoutMs: 15_000 });
    check(resp.ret === -14 || resp.errcode === -14, `getupdates after expiry: ${JSON.stringify(resp)}`);
    let threw = false;
    try {
      await send.sendMessageWeixin({ to: USER, text: "too late", opts: replyOpts });
    } catch (err) {
      threw = /ret=-14/.test(String(err));
    }
    check(threw, "sendmessage with an expired token did not fail with ret=-14");
  });

  fs.writeFileSync(expectPath, JSON.stringify({ botId: login.botId, user: USER, ...expect }, null, 2));
}

// ---------------------------------------------------------------- verify

function verify(expectPath, violationsPath, sentPath) {
  const expect = JSON.parse(fs.readFileSync(expectPath, "utf8"));
  const violations = JSON.parse(fs.readFileSync(violationsPath, "utf8"));
  const sent = JSON.parse(fs.readFileSync(sentPath, "utf8"));
  const failures = [];
  const notes = [];
  const result = (ok, line) => {
    console.log(`${ok ? "ok" : "not ok"} - ${line}`);
    if (!ok) failures.push(line);
  };

  result(violations.length === 0, `no protocol violations${violations.length ? `: ${JSON.stringify(violations)}` : ""}`);

  const texts = sent.filter((m) => m.msg?.item_list?.[0]?.type === 1).map((m) => m.msg.item_list[0].text_item?.text);
  result(
    JSON.stringify(texts) === JSON.stringify(expect.texts),
    `texts sent in order: ${JSON.stringify(texts)} (expected ${JSON.stringify(expect.texts)})`,
  );
  result(sent.length === expect.texts.length + expect.media.length, `${sent.length} messages sent`);
  for (const m of sent) {
    const items = m.msg?.item_list ?? [];
    if (items.length !== 1) result(false, `message ${m.message_id} has ${items.length} items`);
    if (!m.in_conversation) result(false, `message ${m.message_id} is not in the conversation`);
    if (m.msg?.to_user_id !== expect.user) result(false, `message ${m.message_id} went to ${m.msg?.to_user_id}`);
  }

  for (const e of expect.media) {
    const m = sent.find((s) => s.media?.some((r) => r.kind === e.kind && r.md5 === e.md5));
    if (!m) {
      result(false, `${e.kind} ${e.name}: no sent message carries md5 ${e.md5}`);
      continue;
    }
    const r = m.media.find((x) => x.md5 === e.md5);
    result(r.size === e.size, `${e.kind} ${e.name}: md5 ${e.md5} matches, size ${r.size}, key ${r.key_format}`);
    const problems = m.rendering_problems ?? [];
    const expected = e.kind === "file" ? [EXPECTED_FILE_PROBLEM] : [];
    const unexpected = problems.filter((p) => !expected.includes(p));
    result(unexpected.length === 0, `${e.kind} ${e.name}: no unexpected rendering problem${unexpected.length ? `: ${JSON.stringify(unexpected)}` : ""}`);
    for (const p of problems.filter((p) => expected.includes(p))) {
      notes.push(`${e.kind} ${e.name}: "${p}" (expected: the official client sends no file_item.md5)`);
    }
    if (e.kind === "file") {
      result(problems.includes(EXPECTED_FILE_PROBLEM), `${e.kind} ${e.name}: the missing md5 is reported`);
    }
  }
  for (const m of sent.filter((s) => !(s.media?.length))) {
    if ((m.rendering_problems ?? []).length) {
      result(false, `text ${m.message_id}: rendering problems ${JSON.stringify(m.rendering_problems)}`);
    }
  }
  for (const n of notes) console.log(`note: ${n}`);
  return failures.length === 0;
}

// ---------------------------------------------------------------- main

const [mode = "run", ...rest] = process.argv.slice(2);
const budget = setTimeout(() => {
  console.log(`not ok - the interop script ran out of its ${TOTAL_BUDGET_MS} ms budget`);
  process.exit(1);
}, TOTAL_BUDGET_MS);
budget.unref();
try {
  if (mode === "run") {
    await run();
    process.exit(0);
  } else if (mode === "verify" && rest.length === 3) {
    process.exit(verify(...rest) ? 0 : 1);
  } else {
    console.error("usage: node interop.mjs run | node interop.mjs verify EXPECT VIOLATIONS SENT");
    process.exit(2);
  }
} catch (err) {
  if (!(err instanceof Object && reported.has(err))) console.log(`not ok - ${err?.stack ?? err}`);
  process.exit(1);
}
