import type { RouteGroup } from "../server.ts";
import { analyticsRoutes } from "./analytics.ts";
import { campaignRoutes } from "./campaigns.ts";
import { eventRoutes } from "./events.ts";
import { exportRoutes } from "./exports.ts";
import { jobRoutes } from "./jobs.ts";
import { optOutRoutes } from "./optOuts.ts";
import { usageRoutes } from "./usage.ts";
import { webhookRoutes } from "./webhooks.ts";

/** Every /v1 route group; each is one file under api/routes (or the module that owns it). */
export const ROUTE_GROUPS: RouteGroup[] = [
  campaignRoutes,
  jobRoutes,
  optOutRoutes,
  analyticsRoutes,
  eventRoutes,
  usageRoutes,
  exportRoutes,
  webhookRoutes,
];
