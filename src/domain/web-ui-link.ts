/** Where the Temporal Web UI shows a run (TEMPORAL_UI_URL): printed by the CLI and sent in notifications. */
export function webUiLink(ui: { uiUrl: string; namespace: string }, workflowId: string, runId?: string): string {
  const path = `${ui.uiUrl}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${path}/${encodeURIComponent(runId)}/history` : path;
}
