import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import { type Db, migrate, openPglite } from "../../src/store/index.ts";
import { createCampaign } from "../../src/usecases/campaigns/index.ts";
import { createApiKey } from "../../src/usecases/keys/index.ts";
import { freshDatabase } from "../helpers/db.ts";

const BIN = path.resolve("bin/cobbery");
const MINIMAL_CAMPAIGN = {
  Name: "t",
  Agent: { Type: "flow", Flow: { Start: "a", Nodes: { a: { Say: "Hi", End: true } } } },
};

const CSV = [
  "PhoneNumber,ContactName,metadata.zip,data.note",
  '+14155550123,"Doe, Jane",94110,a',
  "+14155550124,Secret Name,10001,b",
  "not-a-number,Other Secret,1,c",
  "",
].join("\n");

function cli(args: string[], env: Record<string, string>) {
  const r = spawnSync(BIN, args, {
    env: { ...process.env, DATABASE_URL: "", ...env },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function newCampaign(db: Db): Promise<string> {
  const deps = { db, config: loadConfig({}), logger: createLogger("silent") };
  const { orgId } = await db.tx((q) => createApiKey(q, "t"));
  return (await createCampaign({ ctx: { deps, orgId }, input: MINIMAL_CAMPAIGN })).Id;
}

const countJobs = async (db: Db, campaignId: string): Promise<number> =>
  (await db.query<{ n: number }>("select count(*)::int as n from jobs where campaign_id = $1", [campaignId]))
    .rows[0]!.n;

function assertImported(r: { code: number | null; stdout: string; stderr: string }) {
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    "Read 3 rows: 2 jobs created, 1 rejected.\nRejected rows:\nline 4: /PhoneNumber \"not…er\" is not E.164: give an E.164 number such as +14155550123 ('+', country code, then the number, no spaces).\n",
  );
  assert.equal(r.stderr, "", "no progress lines for a small file off a terminal");
  assert.doesNotMatch(r.stdout + r.stderr, /Secret|Jane|4155550124/);
}

test("bin/cobbery jobs import on the embedded database, opened by the CLI itself", async () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "cobbery-import-cli-"));
  const file = path.join(dataDir, "jobs.csv");
  writeFileSync(file, CSV);
  let db = await openPglite(path.join(dataDir, "pgdata"));
  await migrate(db);
  const campaignId = await newCampaign(db);
  await db.close();

  const env = { COBBERY_DATA_DIR: dataDir };
  assertImported(cli(["jobs", "import", "--campaign", campaignId, file], env));

  const missing = cli(["jobs", "import", "--campaign", "cmp_missing", file], env);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, "");
  assert.equal(missing.stderr, "Campaign cmp_missing does not exist (or belongs to another organization).\n");

  const allBad = path.join(dataDir, "bad.csv");
  writeFileSync(allBad, "PhoneNumber\n123\n");
  const bad = cli(["jobs", "import", "--campaign", campaignId, allBad], env);
  assert.equal(bad.code, 1, "nothing created and rows rejected");
  assert.match(
    bad.stdout,
    /^Read 1 row: 0 jobs created, 1 rejected\.\nRejected rows:\nline 2: \/PhoneNumber /,
  );

  const badHeader = path.join(dataDir, "header.csv");
  writeFileSync(badHeader, "PhoneNumber,Name\n+14155550123,x\n");
  const h = cli(["jobs", "import", "--campaign", campaignId, badHeader], env);
  assert.equal(h.code, 1);
  assert.match(
    h.stderr,
    /^The CSV header is not usable: column 2 "Name" is not a known column\. Allowed columns: /,
  );
  assert.equal(h.stderr.trim().split("\n").length, 1, "one line");

  const nofile = cli(["jobs", "import", "--campaign", campaignId, path.join(dataDir, "none.csv")], env);
  assert.equal(nofile.code, 1);
  assert.match(nofile.stderr, /^Cannot read .*none\.csv: no such file\.\n$/);

  db = await openPglite(path.join(dataDir, "pgdata"));
  try {
    assert.equal(await countJobs(db, campaignId), 2);
  } finally {
    await db.close();
  }
});

describe("bin/cobbery jobs import through a running server's socket", () => {
  let dataDir: string;
  let server: ChildProcess;
  let base: string;
  before(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), "cobbery-import-srv-"));
    server = spawn(BIN, ["serve", "--port", "0", "--data-dir", dataDir, "--no-worker"], {
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
      server.on("exit", (code) => reject(new Error(`server exited ${code}`)));
    });
  });
  after(() => {
    server.kill("SIGTERM");
  });

  test("the import goes through the server, which holds the database", async () => {
    const env = { COBBERY_DATA_DIR: dataDir };
    const key = cli(["keys", "create", "--org", "acme"], env).stdout.trim();
    const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
    const res = await fetch(`${base}/v1/campaigns`, {
      method: "POST",
      headers,
      body: JSON.stringify(MINIMAL_CAMPAIGN),
    });
    assert.equal(res.status, 201);
    const campaignId = ((await res.json()) as { Id: string }).Id;
    const file = path.join(dataDir, "jobs.csv");
    writeFileSync(file, CSV);
    assertImported(cli(["jobs", "import", "--campaign", campaignId, file], env));
    const list = await fetch(`${base}/v1/jobs?CampaignId=${campaignId}`, { headers });
    const body = (await list.json()) as {
      Items: Array<{ Metadata: unknown; Data: unknown; ContactName: string }>;
    };
    assert.deepEqual(
      body.Items.map((j) => [j.ContactName, j.Metadata, j.Data]),
      [
        ["Doe, Jane", { zip: "94110" }, { note: "a" }],
        ["Secret Name", { zip: "10001" }, { note: "b" }],
      ],
    );
  });
});

test("bin/cobbery jobs import with DATABASE_URL (the COPY bulk path)", {
  skip: process.env.COBBERY_TEST_DATABASE_URL ? false : "COBBERY_TEST_DATABASE_URL is not set",
}, async () => {
  const t = await freshDatabase("postgres");
  try {
    await migrate(t.db);
    const campaignId = await newCampaign(t.db);
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "cobbery-import-pg-"));
    const file = path.join(dataDir, "jobs.csv");
    writeFileSync(file, CSV);
    assertImported(
      cli(["jobs", "import", "--campaign", campaignId, file], {
        DATABASE_URL: t.url!,
        COBBERY_DATA_DIR: dataDir,
      }),
    );
    assert.equal(await countJobs(t.db, campaignId), 2);
  } finally {
    await t.drop();
  }
});
