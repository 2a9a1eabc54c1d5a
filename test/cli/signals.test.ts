// `cobbery serve` on SIGTERM: a request answered during the shutdown does not keep the process
// alive for the keep-alive timeout, and a second SIGTERM hands back live calls at once.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { waitFor } from "../helpers/app.ts";
import { type FakeLlm, fakeLlmEnv, startFakeLlm } from "../helpers/fakeLlm.ts";

const BIN = path.resolve("bin/cobbery");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Server {
  proc: ChildProcess;
  base: string;
  key: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

describe("serve and shutdown signals", () => {
  let fake: FakeLlm;
  before(async () => {
    fake = await startFakeLlm();
  });
  after(() => fake.close());

  /** A server on a fresh embedded database with the fake LLM, and an API key for it. */
  async function startServer(): Promise<Server> {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "cobbery-signals-"));
    const env = {
      ...process.env,
      DATABASE_URL: "",
      LOG_LEVEL: "warn",
      COBBERY_DATA_DIR: dataDir,
      ...fakeLlmEnv(fake),
      COBBERY_DISPATCH_POLL_MS: "50",
    };
    const proc = spawn(BIN, ["serve", "--port", "0"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    // The log (stdout) and the messages (stderr), together.
    proc.stdout?.on("data", (c: Buffer) => {
      err += c.toString();
    });
    const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
    const base = await new Promise<string>((resolve, reject) => {
      proc.stderr?.on("data", (c: Buffer) => {
        err += c.toString();
        const m = /listening on (http:\/\/[\d.:]+)/.exec(err);
        if (m) resolve(m[1] as string);
      });
      void exited.then((code) => reject(new Error(`server exited ${code}: ${err}`)));
    });
    const keys = spawnSync(BIN, ["keys", "create", "--org", "acme"], { env, encoding: "utf8" });
    assert.equal(keys.status, 0, keys.stderr);
    return { proc, base, key: keys.stdout.trim(), stderr: () => err, exited };
  }

  const post = (s: Server, p: string, body: unknown) =>
    fetch(`${s.base}${p}`, {
      method: "POST",
      headers: { authorization: `Bearer ${s.key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  const llmCampaign = (extra: Record<string, unknown>) => ({
    Name: "Signals",
    Agent: { Type: "llm", Prompt: "You are Ana." },
    Schedule: {
      TimeZone: "America/New_York",
      Windows: [{ Days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], Start: "00:00", End: "24:00" }],
      MaxAttempts: 3,
      RetryDelaySeconds: 0,
    },
    ...extra,
  });

  test("a request answered while the server shuts down does not hold the process for the keep-alive timeout", async () => {
    const s = await startServer();
    try {
      const cmp = await post(
        s,
        "/v1/campaigns",
        llmCampaign({ InboundMode: "create", PhoneNumbers: ["+14155550430"] }),
      );
      assert.equal(cmp.status, 201, await cmp.clone().text());
      fake.reset();
      // The agent's first answer takes 3 s; then it ends the call.
      fake.queue({ content: "Hello.", delayMs: 3_000 });
      fake.reply(() => ({ content: "Goodbye.", toolCalls: [{ name: "end_call", arguments: {} }] }));
      // fetch keeps its connection alive after the answer.
      const calling = post(s, "/v1/sim/calls", { From: "+14155550630", To: "+14155550430", Replies: ["hi"] });
      await sleep(500);
      const t0 = Date.now();
      s.proc.kill("SIGTERM");
      const answer = await calling;
      assert.equal(answer.status, 201, await answer.clone().text());
      assert.equal(await s.exited, 0, s.stderr());
      const took = Date.now() - t0;
      assert.ok(took < 15_000, `the server took ${took} ms to exit`);
    } finally {
      s.proc.kill("SIGKILL");
    }
  });

  test("a second SIGTERM hands back live calls at once instead of waiting out the grace", async () => {
    const s = await startServer();
    try {
      fake.reset();
      // The agent never answers within the test: the outbound call stays live.
      fake.reply(() => ({ content: "Hello.", delayMs: 60_000 }));
      const contact = await post(s, "/v1/sim/contacts", {
        PhoneNumber: "+14155550631",
        Calls: [{ Answer: "human", Replies: ["hi"] }],
      });
      assert.equal(contact.status, 201);
      const cmp = await post(s, "/v1/campaigns", llmCampaign({}));
      const cmpId = ((await cmp.json()) as { Id: string }).Id;
      const job = await post(s, `/v1/campaigns/${cmpId}/jobs`, { PhoneNumber: "+14155550631" });
      assert.equal(job.status, 201);
      await waitFor(async () => fake.requests.length > 0, 10_000, "the agent's first request");
      s.proc.kill("SIGTERM");
      await sleep(500);
      const t0 = Date.now();
      s.proc.kill("SIGTERM");
      assert.equal(await s.exited, 0, s.stderr());
      const took = Date.now() - t0;
      assert.ok(took < 10_000, `the server took ${took} ms to exit after the second SIGTERM`);
      assert.match(s.stderr(), /handing back live calls now/);
      assert.match(s.stderr(), /handed back live calls at shutdown/);
    } finally {
      s.proc.kill("SIGKILL");
    }
  });
});
