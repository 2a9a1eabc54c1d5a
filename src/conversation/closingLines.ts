import type { Intent } from "./understanding/index.ts";

/** The short closing line the agent says before ending the call on a recognised intent. */
export function closingLine(intent: Intent): string {
  switch (intent.kind) {
    case "opt_out":
      return "Understood. We will not call you again. Goodbye.";
    case "wrong_contact":
      return "I am sorry for the trouble. Goodbye.";
    case "refused":
      return "I understand. Thank you for your time. Goodbye.";
    case "callback":
      return intent.at
        ? "Of course, we will call you back then. Goodbye."
        : "Of course, we will call you back later. Goodbye.";
  }
}

export const REASK_PREFIX = "Sorry, I did not catch that.";
export const UNFINISHED_LINE = "I will try you again another time. Goodbye.";
