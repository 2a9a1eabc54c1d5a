import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { test } from "node:test";
import { ConfigError, loadConfig } from "../../src/config/index.ts";

test("COBBERY_WORKER_METRICS_PORT: off by default, a port when set, --metrics-port wins, bad values named", () => {
  assert.equal(loadConfig({}).workerMetricsPort, null);
  assert.equal(loadConfig({ COBBERY_WORKER_METRICS_PORT: "" }).workerMetricsPort, null);
  assert.equal(loadConfig({ COBBERY_WORKER_METRICS_PORT: "9464" }).workerMetricsPort, 9464);
  assert.equal(loadConfig({ COBBERY_WORKER_METRICS_PORT: "0" }).workerMetricsPort, 0);
  assert.equal(
    loadConfig({ COBBERY_WORKER_METRICS_PORT: "9464" }, { workerMetricsPort: 9500 }).workerMetricsPort,
    9500,
  );
  for (const bad of ["abc", "-1", "70000", "94.5", "0x10", "1e3", " 9464"])
    assert.throws(
      () => loadConfig({ COBBERY_WORKER_METRICS_PORT: bad }),
      (e: unknown) => e instanceof ConfigError && /COBBERY_WORKER_METRICS_PORT/.test(e.message),
      bad,
    );
});

test("COBBERY_WEBHOOK_*: defaults, values, and bad values named when the configuration is read", () => {
  assert.deepEqual(loadConfig({}).webhooks, {
    retryScale: 1,
    pollMs: 250,
    timeoutMs: 10_000,
    retentionDays: 30,
  });
  assert.deepEqual(
    loadConfig({
      COBBERY_WEBHOOK_RETRY_SCALE: "0.001",
      COBBERY_WEBHOOK_POLL_MS: "20",
      COBBERY_WEBHOOK_TIMEOUT_MS: "5000",
      COBBERY_WEBHOOK_RETENTION_DAYS: "7",
    }).webhooks,
    { retryScale: 0.001, pollMs: 20, timeoutMs: 5000, retentionDays: 7 },
  );
  const bad: Array<[string, string]> = [
    ["COBBERY_WEBHOOK_RETRY_SCALE", "-1"],
    ["COBBERY_WEBHOOK_RETRY_SCALE", "1e-3"],
    ["COBBERY_WEBHOOK_RETRY_SCALE", "fast"],
    ["COBBERY_WEBHOOK_POLL_MS", "5"],
    ["COBBERY_WEBHOOK_TIMEOUT_MS", "2.5"],
    ["COBBERY_WEBHOOK_RETENTION_DAYS", "0"],
    ["COBBERY_WEBHOOK_RETENTION_DAYS", "thirty"],
  ];
  for (const [name, value] of bad)
    assert.throws(
      () => loadConfig({ [name]: value }),
      (e: unknown) => e instanceof ConfigError && e.message.startsWith(`${name} must be`),
      `${name}=${value}`,
    );
});

test("cobbery worker --metrics-port takes a port number only", () => {
  for (const bad of ["", "abc", "0x10", "1e3", "70000"]) {
    const r = spawnSync(path.resolve("bin/cobbery"), ["worker", "--metrics-port", bad], {
      encoding: "utf8",
      env: { ...process.env, DATABASE_URL: "postgres://127.0.0.1:1/none" },
    });
    assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
    assert.match(r.stderr, /--metrics-port must be a port number/);
  }
});
