/** Whether this runs in CI: `CI` set to anything but "false", as CI services and tools agree. */
export function inCI(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.CI) && env.CI !== "false";
}
