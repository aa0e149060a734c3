/**
 * The one set of secrets every test stack runs with. Tests forge tokens with them (an expired
 * access token, a vehicle token of another fleet), so they are constants, not random.
 */

/** JWT key of test gateways; long enough for loadAuthConfig. */
export const TEST_JWT_SECRET = "test-jwt-secret-0123456789-abcdefghijklmnopqrstuvwxyz";

/** The fleet key test connectors verify vehicle tokens with and simulated vehicles sign with. */
export const TEST_VEHICLE_SECRET = "test-vehicle-secret-0123456789abcdef";

/** The password of every seeded test user; the log tests check it never reaches a log line. */
export const TEST_PASSWORD = "correct horse battery staple 42";
