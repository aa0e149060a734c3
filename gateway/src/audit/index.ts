/** The audit trail as admins read it (AuditService.ListAuditLogs). */
export { createAuditService, AUDIT_PAGE_SIZE } from "./audit-service.js";
