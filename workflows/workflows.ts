// The workflow bundle's entry (bundleWorkflowCode's workflowsPath): every workflow the worker runs.

export { freezeEndWorkflow } from "./governance.workflow.ts";
export { releaseWorkflow } from "./release.workflow.ts";
export { webhookDeliveryWorkflow } from "./webhooks.workflow.ts";
