// Logs carry ids, never phone numbers: the API's request lines name the route, not the URL sent.
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config/index.ts";
import { createLogger } from "../../src/logging/index.ts";
import { createApiKey } from "../../src/usecases/keys/index.ts";
import { freshDatabase } from "../helpers/db.ts";

test("request lines name the route and status, never a phone number from the path or the query", async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const database = await freshDatabase();
  const app = await createApp(loadConfig({ LOG_LEVEL: "info" }), {
    db: database.db,
    logger: createLogger("info", sink),
  });
  try {
    await app.api.listen({ port: 0, host: "127.0.0.1" });
    const { port } = app.api.server.address() as { port: number };
    const { key } = await createApiKey(database.db, "acme");
    const send = (method: string, path: string) =>
      fetch(`http://127.0.0.1:${port}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
    assert.equal((await send("DELETE", "/v1/opt-outs/%2B14155550177")).status, 404);
    assert.equal((await send("GET", "/v1/jobs?PhoneNumber=%2B14155550178")).status, 200);
    assert.equal((await send("GET", "/v1/nothing/%2B14155550177")).status, 404);
    const requests = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === "request");
    assert.deepEqual(
      requests.map((r) => [r.method, r.route, r.status]),
      [
        ["DELETE", "/v1/opt-outs/:PhoneNumber", 404],
        ["GET", "/v1/jobs", 200],
        ["GET", "(no route)", 404],
      ],
    );
    for (const l of lines) assert.doesNotMatch(l, /1415555017[78]/, l);
  } finally {
    await app.api.close();
    await database.drop();
  }
});
