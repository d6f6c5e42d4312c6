// The audit index's sizes for tests (shared by the fixture and the child processes of the tests, which
// cannot import vitest): small pieces, so a scenario of a few thousand events crosses many segments of
// the entity index, many time blocks and many chunks of every posting list, and a local numbering of
// names that starts over often.

import type { AuditLayout } from "../../services/audit/audit-index.ts";

export const TEST_LAYOUT: AuditLayout = { segmentShift: 9, blockShift: 5, chunkMax: 16 };
export const TEST_LOCAL_NAMES = 40;
