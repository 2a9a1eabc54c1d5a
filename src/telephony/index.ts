import type { Config } from "../config/index.ts";
import type { Telephony } from "./port.ts";
import { SimCarrier } from "./sim/simCarrier.ts";

export type * from "./port.ts";
export { simRoutes } from "./sim/routes.ts";
export { SimCarrier } from "./sim/simCarrier.ts";

/** The carrier the configuration names (loadConfig refuses the ones this build lacks). */
export function createTelephony(config: Config): Telephony {
  switch (config.telephony) {
    case "sim":
      return new SimCarrier();
  }
}
