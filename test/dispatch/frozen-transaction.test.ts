// A worker frozen inside a transaction (SIGSTOP, a stalled VM) does not hold its locks for as long
// as it stays frozen: the server rolls the transaction back, so pauses, cancels and the reaper go on.
import assert from "node:assert/strict";
import { test } from "node:test";
import { openDatabase, openPostgres } from "../../src/store/index.ts";
import { CONCURRENT_TRANSACTIONS, freshDatabase, TEST_DB } from "../helpers/db.ts";

test(
  "a transaction left idle past the limit is rolled back, and its locks freed",
  CONCURRENT_TRANSACTIONS,
  async () => {
    const database = await freshDatabase("postgres");
    const url = database.url ?? "";
    const frozen = await openPostgres(url, 2, { idleInTransactionMs: 500 });
    const other = await openPostgres(url, 2);
    try {
      await other.exec("create table t (id int primary key); insert into t values (1)");
      const stuck = frozen.tx(async (q) => {
        await q.query("select id from t where id = 1 for update");
        // The process "freezes" here, inside its transaction.
        await new Promise((r) => setTimeout(r, 1_500));
        await q.query("update t set id = 2 where id = 1");
      });
      await assert.rejects(stuck, "the frozen transaction's late write went through");
      // Its lock is gone: another session takes the row at once.
      await other.tx(async (q) => {
        await q.query("set local lock_timeout = '1s'");
        assert.equal((await q.query("select id from t where id = 1 for update")).rowCount, 1);
      });
    } finally {
      await frozen.close();
      await other.close();
      await database.drop();
    }
  },
);

test("the server's database sessions get that limit: twice the lease, at least a minute", {
  skip: TEST_DB !== "postgres" ? "needs a real PostgreSQL (COBBERY_TEST_DB=postgres)" : false,
}, async () => {
  const database = await freshDatabase("postgres");
  for (const [leaseSeconds, expected] of [
    [30, "1min"],
    [45, "90s"],
  ] as const) {
    const db = await openDatabase({ databaseUrl: database.url, dataDir: "", dispatch: { leaseSeconds } });
    try {
      const r = await db.query<{ v: string }>(
        "select current_setting('idle_in_transaction_session_timeout') as v",
      );
      assert.equal(r.rows[0]?.v, expected);
    } finally {
      await db.close();
    }
  }
  await database.drop();
});
