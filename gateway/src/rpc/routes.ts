import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { AuditService, AuthService, CommandService, VehicleService } from "@sovd/proto";
import { withParseErrorsAsInvalidArgument } from "./parse-errors.js";

/** The implementations behind the gateway's API, built by startGateway. */
export interface RpcServices {
  readonly auth: ServiceImpl<typeof AuthService>;
  readonly audit: ServiceImpl<typeof AuditService>;
  readonly vehicles: ServiceImpl<typeof VehicleService>;
  readonly commands: ServiceImpl<typeof CommandService>;
}

/**
 * The Connect routes, as connectNodeAdapter's `routes` takes them: every service of the API
 * and nothing else, so this file is the list of what the gateway serves over Connect, gRPC
 * and gRPC-Web. A body that is not the method's message answers invalid_argument on every
 * protocol (withParseErrorsAsInvalidArgument).
 */
export const routes =
  (services: RpcServices) =>
  (router: ConnectRouter): void => {
    router.service(AuthService, services.auth);
    router.service(AuditService, services.audit);
    router.service(VehicleService, services.vehicles);
    router.service(CommandService, services.commands);
    withParseErrorsAsInvalidArgument(router);
  };
