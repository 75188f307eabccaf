import type { TwelveConfig } from "./types.ts";

/** Gives twelve.config.ts its types and autocomplete; returns the config unchanged. */
export function defineConfig<const C extends TwelveConfig>(config: C): C {
  return config;
}
