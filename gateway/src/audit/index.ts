/** The audit trail as admins read it (AuditService.ListAuditLogs). */
export { createAuditService } from "./audit-service.js";
