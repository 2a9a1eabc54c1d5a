import type { RouteGroup } from "../server.ts";
import { campaignRoutes } from "./campaigns.ts";
import { jobRoutes } from "./jobs.ts";
import { optOutRoutes } from "./optOuts.ts";

/** Every /v1 route group; each is one file under api/routes (or the module that owns it). */
export const ROUTE_GROUPS: RouteGroup[] = [campaignRoutes, jobRoutes, optOutRoutes];
