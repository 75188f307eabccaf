import path from "node:path";
import { startDev } from "../dev/supervisor.ts";
import { usageError } from "../errors.ts";
import { globalFlags, parse } from "./args.ts";
import type { Command } from "./command.ts";
import { Output } from "./output.ts";

export const dev: Command = {
  async run(args, { adapters }) {
    const { values } = parse("dev", args, { target: { type: "string" }, port: { type: "string" } });
    const flags = globalFlags(values);
    const port = Number(values.port ?? 3000);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw usageError(`--port: expected a port number from 1 to 65535, got "${values.port}"`);
    const out = new Output(flags);
    const session = await startDev({ cwd: path.resolve(flags.cwd), config: flags.config, target: values.target, port, adapters, printer: out });

    // Ctrl-C (or SIGTERM): stop taking work, let in-flight work finish, exit 0. Another one a
    // second later stops at once. (One Ctrl-C under npx arrives twice: the terminal signals
    // the whole process group, and npm forwards it to its child too.)
    return new Promise<number>((resolve) => {
      let first: number | undefined;
      const onSignal = () => {
        if (first !== undefined) {
          if (Date.now() - first > 1000) resolve(130);
          return;
        }
        first = Date.now();
        void session.stop().then(() => resolve(0), () => resolve(1));
      };
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    });
  },
};
