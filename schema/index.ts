// The schema: every type file registers itself with the builder; this file only imports them.

import { builder } from "./builder.ts";
import "./types/roots.ts";
import "./types/scalars.ts";
import "./types/enums.ts";
import "./types/Viewer.ts";
import "./types/Project.ts";
import "./types/Segment.ts";
import "./types/Pipeline.ts";
import "./types/Phase.ts";
import "./types/PromotionWindow.ts";
import "./types/Target.ts";
import "./types/Feature.ts";
import "./types/EnvironmentState.ts";
import "./types/Definition.ts";
import "./types/Release.ts";
import "./types/ReleasePhase.ts";
import "./types/Approval.ts";
import "./types/ReleaseAction.ts";
import "./types/AuditEvent.ts";
import "./types/Evaluation.ts";
import "./types/ApiToken.ts";
import "./types/Webhook.ts";
import "./types/SdkKey.ts";

export const schema = builder.toSchema({ sortSchema: false });
