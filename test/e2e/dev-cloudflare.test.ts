import { devSuite } from "./dev-suite.ts";

devSuite("cloudflare");
