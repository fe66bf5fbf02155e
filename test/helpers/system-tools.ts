/**
 * Tests that need a system package (Chromium; the classic codecs' tools) are skipped, visibly, where it is not
 * installed — a fresh machine with only Node and npm — and required where AARA_REQUIRE_SYSTEM_TOOLS=1 says they
 * must run (.ci/run sets it after installing them): there a missing tool is a failure, not a skip.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';

export const SYSTEM_TOOLS_REQUIRED = process.env.AARA_REQUIRE_SYSTEM_TOOLS === '1';

/** Registers `name` as a skipped test, and says why on a line test/run.mjs collects; or fails if the tools are required. */
export function skipWithout(name: string, reason: string): void {
  if (SYSTEM_TOOLS_REQUIRED) {
    test(name, () => assert.unreachable(`${reason}, and AARA_REQUIRE_SYSTEM_TOOLS=1 requires it`));
    return;
  }
  console.log(`skipped: ${name} (${reason})`);
  test.skip(name, () => {});
}
