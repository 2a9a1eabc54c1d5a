import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BACKGROUND_TASKS } from "../../src/background.ts";
import { liveCallCountersTask } from "../../src/dispatcher/liveCounters.ts";
import { createLogger } from "../../src/logging/index.ts";
import { foldLiveCallCounters } from "../../src/store/dispatch/liveCalls.ts";
import { migrate } from "../../src/store/migrate.ts";
import { waitFor } from "../helpers/app.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";

let t: TestDatabase;
before(async () => {
  t = await freshDatabase();
  await migrate(t.db);
});
after(async () => {
  await t?.drop();
});

test("folding the live-call counters keeps every sum, one row per key, and drops the keys at zero", async () => {
  // Session shards as the trigger leaves them: calls inserted by one session and ended by another
  // leave rows that cancel out.
  await t.db.query(
    `insert into live_calls (org_id, campaign_id, direction, shard, n) values
       ('org_1', 'cmp_1', 'outbound', 0, 3), ('org_1', 'cmp_1', 'outbound', 5, -1), ('org_1', 'cmp_1', 'outbound', 7, -2),
       ('org_1', 'cmp_2', 'outbound', 1, 2), ('org_1', 'cmp_2', 'outbound', 2, 1), ('org_1', 'cmp_2', 'outbound', -1, 4),
       ('org_1', 'cmp_2', 'inbound', 3, 1), ('org_2', 'cmp_3', 'outbound', 9, 0)`,
  );
  const folded = await t.db.tx(foldLiveCallCounters);
  assert.equal(folded, 7);
  const rows = await t.db.query(
    "select org_id, campaign_id, direction, shard, n from live_calls order by org_id, campaign_id, direction",
  );
  assert.deepEqual(rows.rows, [
    { org_id: "org_1", campaign_id: "cmp_2", direction: "inbound", shard: -1, n: 1 },
    { org_id: "org_1", campaign_id: "cmp_2", direction: "outbound", shard: -1, n: 7 },
  ]);
  // Nothing left to fold: a second round changes nothing.
  assert.equal(await t.db.tx(foldLiveCallCounters), 0);
  assert.equal((await t.db.query("select count(*)::int as n from live_calls")).rows[0]?.n, 2);
});

test("every worker process folds them in the background", async () => {
  assert.ok(BACKGROUND_TASKS.includes(liveCallCountersTask), "the task is one of BACKGROUND_TASKS");
  await t.db.query(
    `insert into live_calls (org_id, campaign_id, direction, shard, n) values
       ('org_9', 'cmp_9', 'outbound', 4, 2), ('org_9', 'cmp_9', 'outbound', 8, -1)`,
  );
  const task = liveCallCountersTask({ db: t.db, logger: createLogger("silent") }, 20);
  await task.start();
  try {
    await waitFor(
      async () =>
        (await t.db.query("select shard, n from live_calls where campaign_id = 'cmp_9'")).rows.length === 1,
      5_000,
      "the task to fold cmp_9's counters",
    );
  } finally {
    await task.stop();
  }
  const rows = await t.db.query("select shard, n from live_calls where campaign_id = 'cmp_9'");
  assert.deepEqual(rows.rows, [{ shard: -1, n: 1 }]);
});
