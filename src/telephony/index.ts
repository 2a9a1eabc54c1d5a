import { type Config, ConfigError } from "../config/index.ts";
import type { Telephony } from "./port.ts";
import { SimCarrier } from "./sim/simCarrier.ts";

export type * from "./port.ts";
export { simRoutes } from "./sim/routes.ts";
export { SimCarrier } from "./sim/simCarrier.ts";

/** The carrier the configuration names. */
export function createTelephony(config: Config): Telephony {
  switch (config.telephony) {
    case "sim":
      return new SimCarrier();
    case "twilio":
      throw new ConfigError(
        "COBBERY_TELEPHONY=twilio: the Twilio adapter is not part of this build yet; use sim.",
      );
  }
}
