// Runs the test files under test/ with node's test runner on the database named by COBBERY_TEST_DB.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";

const files = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "helpers" ? [] : files(p);
    return e.name.endsWith(".test.ts") ? [p] : [];
  });

const only = process.argv.slice(2);
const selected = files("test").filter((f) => only.length === 0 || only.some((o) => f.includes(o)));
const r = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", ...selected], {
  stdio: "inherit",
});
process.exit(r.status ?? 1);
