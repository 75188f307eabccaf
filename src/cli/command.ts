/** One subcommand of the CLI: parses its arguments, calls the library, prints. */
export interface Command {
  /** Returns the exit status; throws TwelveError for user mistakes. */
  run(args: string[]): Promise<number>;
}
