import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { AuditService, AuthService, CommandService, VehicleService } from "@sovd/proto";

/**
 * The four browser-facing services of the gateway, as typed Connect clients over one
 * transport. Components get this object from context, so tests can hand
 * them clients over connect's in-memory router transport instead of the network.
 */
export interface Api {
  readonly auth: Client<typeof AuthService>;
  readonly vehicles: Client<typeof VehicleService>;
  readonly commands: Client<typeof CommandService>;
  readonly audit: Client<typeof AuditService>;
}

/** Builds the clients of every service over one transport. */
export function createApi(transport: Transport): Api {
  return {
    auth: createClient(AuthService, transport),
    vehicles: createClient(VehicleService, transport),
    commands: createClient(CommandService, transport),
    audit: createClient(AuditService, transport),
  };
}
