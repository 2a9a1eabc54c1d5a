// The embedded database's local guards: one process at a time on a data directory (its lock), and
// the CLI's calls through a running server's socket failing plainly when that server goes away.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { socketAdmin } from "../../src/cli/adminSocket.ts";

const LOCK = path.resolve("src/cli/dataDirLock.ts");

/** Starts `n` processes at once that each try to lock `dir` and hold it for a while; their outcomes. */
async function raceForLock(dir: string, n: number): Promise<string[]> {
  const script = `
    import { acquireDataDirLock } from ${JSON.stringify(LOCK)};
    const at = Number(process.argv[1]);
    while (Date.now() < at) {}
    try { acquireDataDirLock(process.argv[2]); console.log("won"); setTimeout(() => {}, 1500); }
    catch (e) { console.log(e.message.includes("in use") ? "refused" : "error: " + e.message); }
  `;
  const at = Date.now() + 1500;
  const runs = Array.from({ length: n }, () => {
    const child = spawn(process.execPath, [
      "--import",
      "tsx",
      "--input-type=module",
      "-e",
      script,
      String(at),
      dir,
    ]);
    let out = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      out += c.toString();
    });
    return new Promise<string>((resolve) => child.on("exit", () => resolve(out.trim())));
  });
  return Promise.all(runs);
}

test("a lock left by a dead process is taken over by one process only", async () => {
  for (let round = 0; round < 3; round++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "cobbery-lock-"));
    writeFileSync(path.join(dir, "cobbery.lock"), "999999");
    const outcomes = await raceForLock(dir, 5);
    assert.equal(outcomes.filter((o) => o === "won").length, 1, outcomes.join(" | "));
    assert.equal(outcomes.filter((o) => o === "refused").length, 4, outcomes.join(" | "));
  }
});

/** A server on a Unix socket that answers every call with `answer`. */
async function fakeServer(
  answer: (res: http.ServerResponse) => void,
): Promise<{ file: string; close(): void }> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), "cobbery-sock-")), "cobbery.sock");
  const server = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(file, resolve));
  return { file, close: () => server.close() };
}

test("a call through the socket fails with what happened when the server stops mid-answer or answers garbage", async () => {
  const cut = await fakeServer((res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
    res.write('{"result": ');
    setTimeout(() => res.destroy(), 50);
  });
  await assert.rejects(
    socketAdmin(cut.file).listKeys("acme"),
    /The running server stopped before it answered/,
  );
  cut.close();
  const garbage = await fakeServer((res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("<html>");
  });
  await assert.rejects(socketAdmin(garbage.file).listKeys("acme"), /not JSON/);
  garbage.close();
});
