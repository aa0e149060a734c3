/** The fleet as the API shows it (VehicleService: list, get, watch presence). */
export { createVehicleService, type VehicleServiceDeps } from "./vehicle-service.js";
