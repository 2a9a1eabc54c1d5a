import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

const BIN = path.resolve("bin/cobbery");
/** A line of a stack trace: a failure around Cobbery is told in words alone. */
const STACK = /^\s+at /m;

function cli(args: string[], env: Record<string, string>) {
  const r = spawnSync(BIN, args, {
    env: { ...process.env, DATABASE_URL: "", ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("CLI beside a running server on the embedded database", () => {
  let dataDir: string;
  let server: ChildProcess;
  let base: string;
  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "cobbery-cli-"));
    server = spawn(BIN, ["serve", "--port", "0", "--data-dir", dataDir], {
      env: { ...process.env, DATABASE_URL: "", LOG_LEVEL: "warn" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    base = await new Promise<string>((resolve, reject) => {
      let err = "";
      server.stderr?.on("data", (c: Buffer) => {
        err += c.toString();
        const m = /listening on (http:\/\/[\d.:]+)/.exec(err);
        if (m) resolve(m[1] as string);
      });
      server.on("exit", (code) => reject(new Error(`server exited ${code}: ${err}`)));
    });
  });
  after(() => {
    server.kill("SIGTERM");
  });

  test("keys create reaches the server through the owner-only socket, and the key works", async () => {
    const r = cli(["keys", "create", "--org", "acme"], { COBBERY_DATA_DIR: dataDir });
    assert.equal(r.code, 0, r.stderr);
    const key = r.stdout.trim();
    assert.match(key, /^cbk_[A-Za-z0-9_-]{32}$/);
    assert.equal(r.stdout.split("\n").filter(Boolean).length, 1, "the key alone, one line");
    assert.equal(statSync(path.join(dataDir, "cobbery.sock")).mode & 0o777, 0o600);
    const res = await fetch(`${base}/v1/campaigns`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(res.status, 200);
    const list = cli(["keys", "list", "--org", "acme"], { COBBERY_DATA_DIR: dataDir });
    assert.equal(list.code, 0);
    const keyId = list.stdout.split("\n")[1]?.split("\t")[0] as string;
    assert.match(keyId, /^key_/);
    assert.equal(cli(["keys", "revoke", keyId], { COBBERY_DATA_DIR: dataDir }).code, 0);
    const revoked = await fetch(`${base}/v1/campaigns`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(revoked.status, 401);
  });

  test("migrate reaches the running server too, and says the database is up to date", () => {
    const r = cli(["migrate"], { COBBERY_DATA_DIR: dataDir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), "Database is up to date.");
  });

  test("a second server on the same data directory is refused with a clear message", () => {
    const r = cli(["serve", "--port", "0"], { COBBERY_DATA_DIR: dataDir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /in use by process/);
    assert.doesNotMatch(r.stderr, STACK);
  });

  test("a port already taken: exit 1 with what to do, no stack, nothing left running", () => {
    const port = new URL(base).port;
    const other = mkdtempSync(path.join(os.tmpdir(), "cobbery-port-"));
    const r = cli(["serve", "--port", port, "--data-dir", other], { LOG_LEVEL: "info" });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /EADDRINUSE.*Choose another with --port/);
    assert.doesNotMatch(r.stderr, STACK);
    // The port is taken before the worker starts: a server that cannot listen dials no one.
    assert.doesNotMatch(r.stderr, /dispatcher started/);
  });

  test("keys and migrate take --data-dir as serve does", () => {
    const r = cli(["keys", "create", "--org", "beta", "--data-dir", dataDir], { COBBERY_DATA_DIR: "" });
    assert.equal(r.code, 0, r.stderr);
    const list = cli(["keys", "list", "--org", "beta", "--data-dir", dataDir], { COBBERY_DATA_DIR: "" });
    assert.equal(list.stdout.trim().split("\n").length, 2, list.stderr);
    const m = cli(["migrate", "--data-dir", dataDir], { COBBERY_DATA_DIR: "" });
    assert.equal(m.stdout.trim(), "Database is up to date.", m.stderr);
  });

  test("worker on the embedded database exits 1 and says to set DATABASE_URL", () => {
    const r = cli(["worker"], { COBBERY_DATA_DIR: dataDir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /DATABASE_URL/);
  });
});

describe("CLI on its own", () => {
  test("migrate applies the migrations once, and the data survives a restart", () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "cobbery-migrate-"));
    const first = cli(["migrate"], { COBBERY_DATA_DIR: dataDir });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Applied 0001_init\.sql/);
    const key = cli(["keys", "create", "--org", "solo"], { COBBERY_DATA_DIR: dataDir });
    assert.equal(key.code, 0, key.stderr);
    const second = cli(["migrate"], { COBBERY_DATA_DIR: dataDir });
    assert.match(second.stdout, /up to date/);
    const list = cli(["keys", "list", "--org", "solo"], { COBBERY_DATA_DIR: dataDir });
    assert.equal(list.stdout.trim().split("\n").length, 2, "the key made before is still there");
  });

  test("a bad LOG_LEVEL, an unbuilt carrier or an unreachable database: exit 1, named, no stack", () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "cobbery-bad-"));
    for (const [args, env, said] of [
      [["serve", "--port", "0"], { LOG_LEVEL: "bogus" }, /LOG_LEVEL must be one of/],
      [["serve", "--port", "0"], { COBBERY_TELEPHONY: "twilio" }, /Twilio adapter is not part of this build/],
      [
        ["worker"],
        { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" },
        /Cannot use the database of DATABASE_URL/,
      ],
      [
        ["keys", "list", "--org", "x"],
        { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none" },
        /DATABASE_URL/,
      ],
    ] as const) {
      const r = cli([...args], { COBBERY_DATA_DIR: dataDir, ...env });
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, said);
      assert.doesNotMatch(r.stderr, STACK);
    }
  });

  test("the database is its owner's alone, whatever the umask; an existing directory keeps its mode", () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), "cobbery-mode-"));
    const made = path.join(parent, "new");
    const existing = path.join(parent, "existing");
    mkdirSync(existing, { mode: 0o755 });
    chmodSync(existing, 0o755);
    for (const dir of [made, existing]) {
      const r = cli(["keys", "create", "--org", "x", "--data-dir", dir], {});
      assert.equal(r.code, 0, r.stderr);
      assert.equal(statSync(path.join(dir, "pgdata")).mode & 0o777, 0o700, dir);
    }
    assert.equal(statSync(made).mode & 0o777, 0o700, "a directory made here is private");
    assert.equal(statSync(existing).mode & 0o777, 0o755, "the user's own directory is left as it was");
  });

  test("a data directory that cannot be one, or too long for its socket: one line, exit 1, nothing left", () => {
    const parent = mkdtempSync(path.join(os.tmpdir(), "cobbery-dd-"));
    const file = path.join(parent, "a-file");
    writeFileSync(file, "");
    for (const dir of [file, path.join(file, "below")]) {
      const r = cli(["keys", "list", "--org", "x", "--data-dir", dir], {});
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /a file stands where the data directory should be/);
      assert.doesNotMatch(r.stderr, STACK);
    }
    const long = path.join(parent, "d".repeat(110 - parent.length));
    const r = cli(["serve", "--port", "0", "--data-dir", long], { LOG_LEVEL: "warn" });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /too long for its local socket/);
    assert.doesNotMatch(r.stderr, STACK);
    assert.deepEqual(readdirSync(parent).sort(), ["a-file", path.basename(long)], "no socket beside it");
    assert.ok(!existsSync(path.join(long, "cobbery.lock")), "the lock is released");
  });

  test("bad LLM and PostHog settings are refused at start, named", () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "cobbery-badurl-"));
    for (const [env, said] of [
      [{ COBBERY_LLM_BASE_URL: "notaurl" }, /COBBERY_LLM_BASE_URL must be an http\(s\) URL/],
      [{ COBBERY_LLM_BASE_URL: "ftp://x/v1" }, /COBBERY_LLM_BASE_URL must be an http\(s\) URL/],
      [{ COBBERY_POSTHOG_HOST: "https://ph.example", COBBERY_POSTHOG_API_KEY: "" }, /go together/],
      [{ COBBERY_POSTHOG_HOST: "notaurl", COBBERY_POSTHOG_API_KEY: "phc" }, /COBBERY_POSTHOG_HOST must be/],
    ] as const) {
      const r = cli(["serve", "--port", "0"], { COBBERY_DATA_DIR: dataDir, ...env });
      assert.equal(r.code, 1, `${JSON.stringify(env)}: ${r.stderr}`);
      assert.match(r.stderr, said);
      assert.doesNotMatch(r.stderr, STACK);
    }
  });

  test("COBBERY_API_KEY that is another organization's key is refused at start", () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "cobbery-apikey-"));
    const acme = cli(["keys", "create", "--org", "acme"], { COBBERY_DATA_DIR: dataDir }).stdout.trim();
    const r = cli(["serve", "--port", "0"], { COBBERY_DATA_DIR: dataDir, COBBERY_API_KEY: acme });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /COBBERY_API_KEY is already the key of another organization/);
    const list = cli(["keys", "list", "--org", "default"], { COBBERY_DATA_DIR: dataDir });
    assert.notEqual(list.code, 0, "no organization default was left behind without a key");
  });

  test("unknown commands and missing flags exit 2 with usage", () => {
    assert.equal(cli(["frobnicate"], {}).code, 2);
    const r = cli(["keys", "create"], {});
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--org NAME is required/);
  });
});
