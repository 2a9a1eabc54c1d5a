import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { type AdminOps, directAdmin } from "../../src/cli/adminOps.ts";
import { importJobsFile } from "../../src/cli/importJobs.ts";
import { loadConfig } from "../../src/config/index.ts";
import { AppError } from "../../src/errors/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import { BulkJobBatch, insertJobsBulk } from "../../src/store/bulkJobs.ts";
import { type Db, migrate } from "../../src/store/index.ts";
import type { PostgresDb } from "../../src/store/postgres.ts";
import { createCampaign } from "../../src/usecases/campaigns/index.ts";
import type { Deps } from "../../src/usecases/context.ts";
import { createApiKey } from "../../src/usecases/keys/index.ts";
import { addOptOut } from "../../src/usecases/optOuts/index.ts";
import {
  archiveUncommitted,
  closeWindowsUncommitted,
  freshDatabase,
  type TestDatabase,
} from "../helpers/db.ts";

const MINIMAL_CAMPAIGN = {
  Name: "t",
  Agent: { Type: "flow", Flow: { Start: "a", Nodes: { a: { Say: "Hi", End: true } } } },
};

const dir = mkdtempSync(path.join(os.tmpdir(), "cobbery-import-"));
let fileNo = 0;
function file(content: string | Buffer, ext = ".csv"): string {
  const f = path.join(dir, `f${++fileNo}${ext}`);
  writeFileSync(f, content);
  return f;
}

interface JobRowLite {
  phone_number: string;
  contact_name: string | null;
  external_id: string | null;
  metadata: Record<string, unknown>;
  data: Record<string, unknown> | null;
  test_job: boolean;
  state: string;
  failure_reason: string | null;
  next_call_at: Date | null;
}

/** The backends: the embedded database always, a real PostgreSQL (the COPY bulk path) when configured. */
const BACKENDS: Array<"pglite" | "postgres"> = process.env.COBBERY_TEST_DATABASE_URL
  ? ["pglite", "postgres"]
  : ["pglite"];

for (const kind of BACKENDS) {
  describe(`jobs import (${kind})`, () => {
    let t: TestDatabase;
    let deps: Deps;
    let orgId: string;
    let ops: AdminOps;

    before(async () => {
      t = await freshDatabase(kind);
      await migrate(t.db);
      deps = { db: t.db, config: loadConfig({}), logger: createLogger("silent") };
      orgId = (await t.db.tx((q) => createApiKey(q, "t"))).orgId;
      ops = directAdmin(deps, () => migrate(t.db));
      assert.equal(typeof ops.importBulk, kind === "postgres" ? "function" : "undefined");
    });
    after(async () => {
      await t.drop();
    });

    const newCampaign = async (): Promise<string> =>
      (await createCampaign({ ctx: { deps, orgId }, input: MINIMAL_CAMPAIGN })).Id;

    async function run(
      campaignId: string,
      f: string,
      opts: { batchRows?: number; tty?: boolean; ops?: AdminOps } = {},
    ) {
      let out = "";
      let progress = "";
      const summary = await importJobsFile({
        ops: opts.ops ?? ops,
        campaignId,
        file: f,
        progress: { isTTY: opts.tty ?? false, write: (s: string) => (progress += s) },
        out: (s) => {
          out += s;
        },
        ...(opts.batchRows ? { batchRows: opts.batchRows } : {}),
      });
      return { summary, out, progress };
    }

    const jobs = async (db: Db, campaignId: string): Promise<JobRowLite[]> =>
      (await db.query<JobRowLite>("select * from jobs where campaign_id = $1 order by id", [campaignId]))
        .rows;

    test("CSV with a BOM, CRLF, quoted commas and metadata./data. columns", async () => {
      const campaignId = await newCampaign();
      const csv = [
        "\uFEFFPhoneNumber,ContactName,TestJob,ExternalId,metadata.zip,metadata.segment,data.note,TimeZone",
        '+14155550123,"Doe, Jane",true,ext-1,94110,retail,"said ""call later""",',
        "+12125550142,John,NO,ext-2,10001,,,America/Chicago",
        '+16175550199,,,,02139,smb,"two\r\nlines",',
        "",
      ].join("\r\n");
      const { summary, out } = await run(campaignId, file(csv));
      assert.deepEqual(summary, { rows: 3, created: 3, rejected: 0 });
      assert.equal(out, "Read 3 rows: 3 jobs created, 0 rejected.\n");
      const rows = await jobs(t.db, campaignId);
      assert.deepEqual(
        rows.map((r) => [
          r.phone_number,
          r.contact_name,
          r.external_id,
          r.metadata,
          r.data,
          r.test_job,
          r.state,
        ]),
        [
          [
            "+14155550123",
            "Doe, Jane",
            "ext-1",
            { zip: "94110", segment: "retail" },
            { note: 'said "call later"' },
            true,
            "pending",
          ],
          ["+12125550142", "John", "ext-2", { zip: "10001" }, null, false, "pending"],
          [
            "+16175550199",
            null,
            null,
            { zip: "02139", segment: "smb" },
            { note: "two\r\nlines" },
            false,
            "pending",
          ],
        ],
      );
      assert.ok(
        rows.every((r) => r.next_call_at instanceof Date),
        "NextCallAt computed",
      );
      const ev = await t.db.query<{ n: number }>(
        "select count(*)::int as n from events where campaign_id = $1 and event = 'job.created'",
        [campaignId],
      );
      assert.equal(ev.rows[0]!.n, 3);
    });

    test("bad rows are reported by line number and reason, the valid ones are imported", async () => {
      const campaignId = await newCampaign();
      const csv = [
        "PhoneNumber,ContactName,TestJob,metadata.note", // line 1
        "+14155550123,Ann,false,ok", // 2
        "12345,Bob Secret,false,x", // 3: not E.164
        '+14155550124,"Multi', // 4-5: one record on two lines
        'line",true,',
        `+14155550125,Cy Secret,false,${"x".repeat(600)}`, // 6: metadata value too long
        "+14155550126,Di Secret,perhaps,y", // 7: bad TestJob
        "+14155550127,Ed,1,z", // 8
        "+1415555012,Fy Secret,0,w", // 9: too short for the US
      ].join("\n");
      const { summary, out } = await run(campaignId, file(csv));
      assert.deepEqual(summary, { rows: 7, created: 3, rejected: 4 });
      const lines = out.trim().split("\n");
      assert.equal(lines[0], "Read 7 rows: 3 jobs created, 4 rejected.");
      assert.equal(lines[1], "Rejected rows:");
      assert.match(lines[2]!, /^line 3: \/PhoneNumber .*E\.164/);
      assert.match(lines[3]!, /^line 6: \/Metadata\/note is 600 characters long/);
      assert.match(lines[4]!, /^line 7: \/TestJob must be true or false/);
      assert.match(lines[5]!, /^line 9: \/PhoneNumber is not a valid phone number/);
      assert.equal(lines.length, 6);
      assert.doesNotMatch(out, /Secret|12345|4155550125|4155550126|415555012\b/, "no PII in the summary");
      const rows = await jobs(t.db, campaignId);
      assert.deepEqual(
        rows.map((r) => [r.phone_number, r.contact_name, r.test_job, r.metadata]),
        [
          ["+14155550123", "Ann", false, { note: "ok" }],
          ["+14155550124", "Multi\nline", true, {}],
          ["+14155550127", "Ed", true, { note: "z" }],
        ],
      );
    });

    test("NDJSON: blank lines skipped, a malformed line is a rejected row", async () => {
      const campaignId = await newCampaign();
      const nd = [
        '{"PhoneNumber":"+14155550123","Metadata":{"a":"1"},"Data":{"x":[1,2]},"TestJob":true}',
        "",
        '{"PhoneNumber": "+14155550124", "ContactName": oops Secret}',
        '{"PhoneNumber":"+14155550125","Unknown":1}',
        '["+14155550126"]',
        '{"PhoneNumber":"+14155550127","ExternalId":"e1","HangupOptOut":true}',
        "   ",
      ].join("\r\n");
      // No extension: recognised by its first character.
      const { summary, out } = await run(campaignId, file(nd, ""));
      assert.deepEqual(summary, { rows: 5, created: 2, rejected: 3 });
      assert.match(out, /^line 3: is not valid JSON/m);
      assert.match(out, /^line 4: \/Unknown is not a known field/m);
      assert.match(out, /^line 5: must be a JSON object/m);
      assert.doesNotMatch(out, /Secret|4155550126/);
      const rows = await jobs(t.db, campaignId);
      assert.deepEqual(
        rows.map((r) => [r.phone_number, r.metadata, r.data, r.test_job, r.external_id]),
        [
          ["+14155550123", { a: "1" }, { x: [1, 2] }, true, null],
          ["+14155550127", {}, null, false, "e1"],
        ],
      );
    });

    test("rows not in UTF-8 or nested too deep are rejected; the others are imported", async () => {
      const campaignId = await newCampaign();
      // A spreadsheet's Latin-1 export: "José" as the bytes 4a 6f 73 e9.
      const latin1 = Buffer.concat([
        Buffer.from("PhoneNumber,ContactName\n+14155550140,Ann\n+14155550141,"),
        Buffer.from([0x4a, 0x6f, 0x73, 0xe9]),
        Buffer.from("\n"),
      ]);
      const csv = await run(campaignId, file(latin1));
      assert.deepEqual(csv.summary, { rows: 2, created: 1, rejected: 1 });
      assert.match(csv.out, /^line 3: is not UTF-8 text: save the file as UTF-8/m);
      // A U+FFFD the file spells in UTF-8 is text like any other.
      const spelled = await run(campaignId, file("PhoneNumber,ContactName\n+14155550144,J\uFFFDrg\n"));
      assert.deepEqual(spelled.summary, { rows: 1, created: 1, rejected: 0 });
      const deep = `{"PhoneNumber":"+14155550142","Data":{"a":${"[".repeat(5_000)}${"]".repeat(5_000)}}}`;
      const nd = await run(campaignId, file(`${deep}\n{"PhoneNumber":"+14155550143"}\n`, ".ndjson"));
      assert.deepEqual(nd.summary, { rows: 2, created: 1, rejected: 1 });
      assert.match(nd.out, /^line 1: \/Data\/a(\/0)+ is nested more than 64 levels deep/m);
      assert.deepEqual(
        (await jobs(t.db, campaignId)).map((r) => [r.phone_number, r.contact_name]),
        [
          ["+14155550140", "Ann"],
          ["+14155550144", "J\uFFFDrg"],
          ["+14155550143", null],
        ],
      );
    });

    test("an unknown CSV column is refused before any row is imported", async () => {
      const campaignId = await newCampaign();
      const f = file("PhoneNumber,Phone2,metadata.zip\n+14155550123,x,1\n");
      await assert.rejects(run(campaignId, f), (e: AppError) => {
        assert.equal(e.code, "validation_failed");
        assert.match(e.message, /"Phone2" is not a known column/);
        assert.match(
          e.message,
          /PhoneNumber, ContactName, TimeZone, TestJob, ExternalId, HangupOptOut, metadata.<key>, data.<key>/,
        );
        return true;
      });
      assert.equal((await jobs(t.db, campaignId)).length, 0);
    });

    test("a duplicate ExternalId (in the campaign or in the file) is a rejected row", async () => {
      const campaignId = await newCampaign();
      await run(campaignId, file("PhoneNumber,ExternalId\n+14155550123,ext-1\n"));
      const csv = [
        "PhoneNumber,ExternalId",
        "+14155550124,ext-1", // 2: taken by the first import
        "+14155550125,ext-2", // 3
        "+14155550126,ext-2", // 4: same batch as line 3
        "+14155550127,ext-3", // 5
        "+14155550128,", // 6
        "+14155550129,ext-3", // 7: another batch than line 5
      ].join("\n");
      const { summary, out } = await run(campaignId, file(csv), { batchRows: 3 });
      assert.deepEqual(summary, { rows: 6, created: 3, rejected: 3 });
      for (const line of [2, 4, 7]) {
        assert.match(
          out,
          new RegExp(`^line ${line}: /ExternalId is already used by another job of this campaign\\.$`, "m"),
        );
      }
      const rows = await jobs(t.db, campaignId);
      assert.deepEqual(
        rows.map((r) => [r.phone_number, r.external_id]),
        [
          ["+14155550123", "ext-1"],
          ["+14155550125", "ext-2"],
          ["+14155550127", "ext-3"],
          ["+14155550128", null],
        ],
      );
    });

    test("a number on the opt-out list gives a job failed/opted_out with its events", async () => {
      const campaignId = await newCampaign();
      await addOptOut({ ctx: { deps, orgId }, input: { PhoneNumber: "+14155550177" } });
      const { summary } = await run(
        campaignId,
        file("PhoneNumber,TestJob\n+14155550177,true\n+14155550178,\n"),
      );
      assert.deepEqual(summary, { rows: 2, created: 2, rejected: 0 });
      const rows = await jobs(t.db, campaignId);
      assert.deepEqual(
        rows.map((r) => [r.state, r.failure_reason, r.next_call_at === null]),
        [
          ["failed", "opted_out", true],
          ["pending", null, false],
        ],
      );
      const ev = await t.db.query<{ event: string; test_job: boolean; properties: unknown }>(
        "select e.event, e.test_job, e.properties from events e join jobs j on j.id = e.job_id where j.campaign_id = $1 order by e.seq",
        [campaignId],
      );
      assert.deepEqual(
        ev.rows.map((e) => [e.event, e.test_job, e.properties]),
        [
          ["job.created", true, { state: "pending" }],
          ["job.opted_out", true, { state: "failed", failure_reason: "opted_out" }],
          ["job.failed", true, { state: "failed", failure_reason: "opted_out" }],
          ["job.created", false, { state: "pending" }],
        ],
      );
    });

    test("an import the server stops answering says how many jobs were created at least", async () => {
      const campaignId = await newCampaign();
      let sent = 0;
      const wrap =
        <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
        async (...a: A): Promise<R> => {
          // The first call is the early check; the third batch's answer never comes.
          if (++sent === 4) throw new AppError("internal", "The running server stopped before it answered.");
          return f(...a);
        };
      const failing: AdminOps = {
        ...ops,
        importBatch: wrap(ops.importBatch.bind(ops)),
        ...(ops.importBulk ? { importBulk: wrap(ops.importBulk.bind(ops)) } : {}),
      };
      const rows = Array.from({ length: 8 }, (_, i) => `+1415555072${i}`).join("\n");
      await assert.rejects(
        run(campaignId, file(`PhoneNumber\n${rows}\n`), { batchRows: 2, ops: failing }),
        (e: AppError) => {
          assert.match(
            e.message,
            /^Import stopped at the batch starting on line \d+: The running server stopped/,
          );
          assert.match(
            e.message,
            /At least \d+ jobs were created before it, and a batch sent with it may have been too/,
          );
          assert.match(e.message, /ExternalId/);
          return true;
        },
      );
    });

    test("a missing file or campaign gives one clear error", async () => {
      const campaignId = await newCampaign();
      await assert.rejects(run(campaignId, path.join(dir, "nope.csv")), (e: AppError) => {
        assert.equal(e.code, "not_found");
        assert.match(e.message, /nope\.csv: no such file/);
        return true;
      });
      await assert.rejects(run("cmp_nope", file("PhoneNumber\n+14155550123\n")), (e: AppError) => {
        assert.ok(e instanceof AppError);
        assert.equal(e.code, "not_found");
        assert.match(e.message, /Campaign cmp_nope does not exist/);
        return true;
      });
    });

    test("many batches in flight keep line numbers; the summary lists 50 rejections then counts", async () => {
      const campaignId = await newCampaign();
      const lines = ["PhoneNumber,metadata.i"];
      for (let i = 0; i < 500; i++) {
        const bad = i % 8 === 3;
        lines.push(`${bad ? "+1000" : "+1415555"}${String(1000 + i).padStart(4, "0")},${i}`);
      }
      const { summary, out, progress } = await run(campaignId, file(lines.join("\n")), {
        batchRows: 7,
        tty: true,
      });
      const expectedBad = Array.from({ length: 500 }, (_, i) => i).filter((i) => i % 8 === 3);
      assert.deepEqual(summary, {
        rows: 500,
        created: 500 - expectedBad.length,
        rejected: expectedBad.length,
      });
      const listed = [...out.matchAll(/^line (\d+): /gm)].map((m) => Number(m[1]));
      assert.deepEqual(
        listed,
        expectedBad.slice(0, 50).map((i) => i + 2),
      );
      assert.match(out, new RegExp(`^\\.\\.\\. and ${expectedBad.length - 50} more$`, "m"));
      const lastDraw = progress.split("\r").at(-1);
      assert.match(lastDraw ?? "", /^\[#+\] 100% .* rows\/s {2}created 437 {2}rejected 63/);
      assert.ok(
        lastDraw?.endsWith("\u001b[K\n"),
        "the bar is cleared to the line end and left on a new line",
      );
      const rows = await jobs(t.db, campaignId);
      assert.equal(rows.length, summary.created);
      assert.ok(
        rows.every((r, k) => k === 0 || Number(r.metadata.i) > Number(rows[k - 1]!.metadata.i)),
        "file order kept",
      );
    });

    if (kind === "postgres") {
      test("the bulk path creates exactly what the batch path creates", async () => {
        await addOptOut({ ctx: { deps, orgId }, input: { PhoneNumber: "+14155550166" } });
        const csv = [
          "PhoneNumber,ContactName,TestJob,HangupOptOut,TimeZone,ExternalId,metadata.k,data.d",
          "+14155550161,A\\B\tC,0,1,,x1,m1,",
          "+442079460000,,1,,Europe/London,x2,,d2",
          "+14155550166,Opted,,,,,,",
          "+18005550100,,no,no,,x3,m3,d3",
          "+61291234567,,,,,x1,,",
        ].join("\n");
        const bulk = await newCampaign();
        const batch = await newCampaign();
        const viaBulk = await run(bulk, file(csv));
        const viaBatch = await run(batch, file(csv), { ops: { ...ops, importBulk: undefined } });
        assert.deepEqual(viaBulk.summary, viaBatch.summary);
        assert.equal(viaBulk.out, viaBatch.out);
        // Times come from the database's now() a moment apart: compare them as set or not, and close.
        const times = (rows: JobRowLite[]) =>
          rows.map(
            (r) =>
              Object.entries(r as unknown as Record<string, unknown>).filter(
                ([, v]) => v instanceof Date,
              ) as Array<[string, Date]>,
          );
        const strip = (rows: JobRowLite[]) =>
          rows.map((r) => {
            const rest = Object.entries(r as unknown as Record<string, unknown>).filter(
              ([k, v]) => !(v instanceof Date) && k !== "id" && k !== "campaign_id",
            );
            return Object.fromEntries(rest);
          });
        const a = await jobs(t.db, bulk);
        const b = await jobs(t.db, batch);
        assert.equal(a.length, 4);
        assert.deepEqual(strip(a), strip(b));
        const ta = times(a);
        const tb = times(b);
        for (let i = 0; i < a.length; i++) {
          assert.deepEqual(
            ta[i]!.map(([k]) => k),
            tb[i]!.map(([k]) => k),
          );
          ta[i]!.forEach(([k, v], j) => {
            assert.ok(Math.abs(v.getTime() - tb[i]![j]![1].getTime()) < 60_000, k);
          });
        }
        const events = async (c: string) =>
          (
            await t.db.query<{ event: string; test_job: boolean; properties: unknown }>(
              "select e.event, e.test_job, e.properties from events e join jobs j on j.id = e.job_id where j.campaign_id = $1 order by e.seq",
              [c],
            )
          ).rows;
        assert.deepEqual(await events(bulk), await events(batch));
      });

      test("the bulk move reads the campaign's windows in its own transaction, after a change under way", async () => {
        const campaign = await newCampaign();
        const rows = new BulkJobBatch();
        rows.add(
          0,
          {
            id: "job_bulk_windows_1",
            phone_number: "+14155550171",
            external_id: null,
            contact_name: null,
            metadata: {},
            data: null,
            test_job: false,
            hangup_opt_out: null,
            time_zone: null,
          },
          1,
        );
        const change = await closeWindowsUncommitted(t.url ?? "", campaign);
        const seen: number[] = [];
        const moving = insertJobsBulk(t.db as PostgresDb, orgId, campaign, rows, ({ schedule: s }) => {
          seen.push(s.Windows.length);
          return [s.Windows.length === 0 ? null : "2030-01-07T15:00:00.000Z"];
        });
        await new Promise((r) => setTimeout(r, 300));
        const seenEarly = [...seen];
        await change.commit();
        assert.deepEqual(seenEarly, [], "the move read the windows while the change was under way");
        assert.deepEqual(await moving, []);
        assert.deepEqual(seen, [0]);
        assert.deepEqual(
          (await jobs(t.db, campaign)).map((j) => j.next_call_at),
          [null],
        );
      });

      test("a campaign archived while a batch waits to move takes none of its jobs", async () => {
        const campaign = await newCampaign();
        // The import's early check passed before the archive began: the bulk move meets it.
        const late: AdminOps = { ...ops, importBatch: async () => ({ Created: 0, Items: [], Errors: [] }) };
        const archive = await archiveUncommitted(t.url ?? "", campaign);
        const importing = run(campaign, file("PhoneNumber\n+14155550123\n+14155550124\n"), {
          ops: late,
        }).catch((e: unknown) => e);
        await new Promise((r) => setTimeout(r, 300));
        await archive.commit();
        const e = (await importing) as AppError;
        assert.equal(e.code, "conflict", String(e));
        assert.match(e.message, /archived/);
        assert.deepEqual(await jobs(t.db, campaign), []);
      });
    }
  });
}
