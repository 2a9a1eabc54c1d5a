import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { registerWorker } from "../../src/store/dispatch/reap.ts";
import { migrate } from "../../src/store/index.ts";
import { freshDatabase, type TestDatabase } from "../helpers/db.ts";

let d: TestDatabase;
before(async () => {
  d = await freshDatabase();
  await migrate(d.db);
});
after(async () => {
  await d.drop();
});

test("a starting worker deletes the rows of workers stopped or silent for over a week, and keeps the rest", async () => {
  await d.db.query(
    `insert into workers (id, pid, host, started_at, heartbeat_at, stopped_at) values
       ('w_stopped_long_ago', 1, 'h', now() - interval '30 days', now() - interval '9 days', now() - interval '8 days'),
       ('w_killed_long_ago', 2, 'h', now() - interval '30 days', now() - interval '8 days', null),
       ('w_stopped_yesterday', 3, 'h', now() - interval '30 days', now() - interval '1 day', now() - interval '1 day'),
       ('w_running', 4, 'h', now() - interval '30 days', now(), null)`,
  );
  await registerWorker(d.db, "w_new", 5, "h");
  const ids = (await d.db.query<{ id: string }>("select id from workers order by id")).rows.map((r) => r.id);
  assert.deepEqual(ids, ["w_new", "w_running", "w_stopped_yesterday"]);
});
