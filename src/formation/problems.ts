import path from "node:path";
import { TwelveError } from "../errors.ts";

/** One thing wrong with the config: where (`processes.mailer.batchSize`) and what was expected. */
export interface Problem {
  path: string;
  message: string;
}

export function configError(configFile: string, problems: Problem[]): TwelveError {
  const file = path.relative(process.cwd(), configFile) || configFile;
  const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
  return new TwelveError(`Invalid formation in ${file} (${count}):`, {
    exitCode: 2,
    details: problems.map((p) => `${p.path}: ${p.message}`),
    hint: `Fix ${file} and run the command again.`,
  });
}
