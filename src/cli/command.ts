import type { AdapterRegistry } from "../adapter.ts";

/** What every command is handed: the platforms (from src/cli/main.ts, the CLI's one link to adapters/). */
export interface CommandContext {
  adapters: AdapterRegistry;
}

/** One subcommand of the CLI: parses its arguments, calls the library, prints. */
export interface Command {
  /** Returns the exit status; throws TwelveError for user mistakes. */
  run(args: string[], context: CommandContext): Promise<number>;
}
