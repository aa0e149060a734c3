/** The audit trail as admins read it (AuditService) and keyset page tokens other lists may reuse. */
export { createAuditService, AUDIT_PAGE_SIZE } from "./audit-service.js";
export { decodePageToken, encodePageToken, type KeysetPosition } from "./page-token.js";
