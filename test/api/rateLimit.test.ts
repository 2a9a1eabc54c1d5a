// Requests per organization: a token bucket in each API process (COBBERY_RATE_LIMIT).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { RateLimiter } from "../../src/api/rateLimit.ts";
import { flowCampaign, startTestApp, type TestApp } from "../helpers/app.ts";

test("RateLimiter: a burst, then the rate; each organization apart", () => {
  const limiter = new RateLimiter(2, 4);
  const t0 = 1_000_000;
  for (let i = 0; i < 4; i++) assert.equal(limiter.take("a", 1, t0), 0, `request ${i}`);
  assert.equal(limiter.take("a", 1, t0), 500, "the fifth waits for half a second's refill");
  assert.equal(limiter.take("b", 1, t0), 0, "another organization has its own bucket");
  assert.equal(limiter.take("a", 1, t0 + 500), 0);
  assert.equal(limiter.take("a", 3, t0 + 500), 1500, "a costly request waits for its whole cost");
  assert.equal(limiter.take("a", 4, t0 + 60_000), 0, "refilled, never past the burst");
  assert.equal(limiter.take("a", 1, t0 + 60_000), 500);
  // A clock that goes back refills nothing and takes nothing away.
  assert.equal(limiter.take("a", 1, t0 + 60_500), 0);
  assert.equal(limiter.take("a", 1, t0 - 7_200_000), 500);
  assert.equal(limiter.take("a", 1, t0 + 61_000), 0);
  // A request costing more than the bucket holds waits for a full bucket, then goes.
  const small = new RateLimiter(1, 5);
  assert.equal(small.take("o", 10, t0), 0);
  assert.equal(small.take("o", 10, t0), 5000);
  assert.equal(small.take("o", 10, t0 + 5000), 0);
});

test("RateLimiter: forgetting idle organizations never gives one back more than it refilled", () => {
  const limiter = new RateLimiter(1, 1000);
  const t0 = 1_000_000;
  assert.equal(limiter.take("a", 1000, t0), 0);
  // Many other organizations arrive 61 s later: "a" has refilled 61 tokens, not 1000.
  for (let i = 0; i < 10_002; i++) limiter.take(`org${i}`, 1, t0 + 61_000);
  assert.equal(limiter.take("a", 61, t0 + 61_000), 0);
  assert.equal(limiter.take("a", 1, t0 + 61_000), 1000);
});

describe("rate limits over HTTP", () => {
  let t: TestApp;
  before(async () => {
    t = await startTestApp({ COBBERY_RATE_LIMIT: "1", COBBERY_RATE_LIMIT_BURST: "12" });
  });
  after(() => t.close());

  test("over the burst: 429 rate_limited with Retry-After; another organization is not held up", async () => {
    const created = await t.request("POST", "/v1/campaigns", flowCampaign());
    assert.equal(created.status, 201);
    // A preview counts as ten requests: with the campaign's creation, 11 of 12 are used.
    const preview = await t.request("POST", `/v1/campaigns/${created.body.Id}/preview`, { Job: {} });
    assert.equal(preview.status, 200, JSON.stringify(preview.body));
    assert.equal((await t.request("GET", "/v1/campaigns")).status, 200);
    const limited = await t.request("GET", "/v1/campaigns");
    assert.equal(limited.status, 429);
    assert.equal(limited.body.Error.Code, "rate_limited");
    assert.match(limited.body.Error.Message, /COBBERY_RATE_LIMIT/);
    assert.ok(Number(limited.headers.get("retry-after")) >= 1, String(limited.headers.get("retry-after")));
    const other = await t.newOrgKey("other");
    assert.equal((await t.request("GET", "/v1/campaigns", undefined, { key: other })).status, 200);
  });
});
