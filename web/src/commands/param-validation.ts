import { ParamType, type CommandType, type ParamSpec, type SubmitCommandRequest } from "@sovd/proto";

/** The raw text of each form field, keyed by param name. */
export type FormValues = Readonly<Record<string, string>>;

/** Params as SubmitCommand takes them (`google.protobuf.Struct`, a JSON object). */
export type CommandParams = NonNullable<SubmitCommandRequest["params"]>;

/** Field name of the optional timeout override in FormValues and error maps. */
export const TIMEOUT_FIELD = "timeout";

/** SubmitCommand accepts a timeout override of 1 s .. 10 min (command.proto). */
export const TIMEOUT_RANGE_S = { min: 1, max: 600 } as const;

/** True when the catalog gives the integer param bounds (both 0 means unbounded: proto3 defaults). */
export const hasBounds = (p: ParamSpec): boolean => p.min !== 0 || p.max !== 0;

/** The values a fresh form starts with: each param's default, empty otherwise. */
export function initialValues(type: CommandType): FormValues {
  return Object.fromEntries(type.params.map((p) => [p.name, p.defaultValue]));
}

/**
 * Checks the form against the catalog entry before anything is sent: required params,
 * integers and their bounds, full-match patterns, allowed values, and the timeout override.
 * Returns the params to send (empty fields left out, so the gateway applies defaults) and
 * one message per invalid field, naming the field.
 */
export function validateParams(
  type: CommandType,
  values: FormValues,
): { params: CommandParams; timeoutSeconds: number | undefined; errors: Readonly<Record<string, string>> } {
  const params: CommandParams = {};
  const errors: Record<string, string> = {};
  for (const p of type.params) {
    const raw = (values[p.name] ?? "").trim();
    if (raw === "") {
      if (p.required) errors[p.name] = `${p.name} is required.`;
      continue;
    }
    if (p.type === ParamType.INTEGER) {
      if (!/^-?\d+$/.test(raw)) {
        errors[p.name] = `${p.name} must be a whole number.`;
        continue;
      }
      const n = Number(raw);
      if (hasBounds(p) && (n < p.min || n > p.max)) {
        errors[p.name] = `${p.name} must be between ${p.min} and ${p.max}.`;
        continue;
      }
      params[p.name] = n;
      continue;
    }
    if (p.pattern && !fullMatch(p.pattern, raw)) {
      errors[p.name] = `${p.name} must match ${p.pattern}${p.defaultValue ? ` (for example ${p.defaultValue})` : ""}.`;
      continue;
    }
    if (p.allowedValues.length > 0 && !p.allowedValues.some((a) => a.toLowerCase() === raw.toLowerCase())) {
      errors[p.name] = `${p.name} must be one of ${p.allowedValues.join(", ")}.`;
      continue;
    }
    params[p.name] = raw;
  }

  let timeoutSeconds: number | undefined;
  const timeout = (values[TIMEOUT_FIELD] ?? "").trim();
  if (timeout !== "") {
    const n = Number(timeout);
    if (!/^\d+$/.test(timeout) || n < TIMEOUT_RANGE_S.min || n > TIMEOUT_RANGE_S.max) {
      errors[TIMEOUT_FIELD] = `Timeout must be a whole number of seconds between ${TIMEOUT_RANGE_S.min} and ${TIMEOUT_RANGE_S.max}.`;
    } else {
      timeoutSeconds = n;
    }
  }
  return { params, timeoutSeconds, errors };
}

/** The catalog's patterns must match in full (ParamSpec.pattern), anchored or not. */
function fullMatch(pattern: string, value: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`).test(value);
  } catch {
    return true; // A pattern this browser cannot compile is left to the gateway to check.
  }
}
