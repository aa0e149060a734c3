import { create } from "@bufbuild/protobuf";
import { COMMAND_CATALOG } from "./catalog.js";
import { CommandTypeSchema, ParamType, type CommandType } from "./gen/sovd/v1/command_pb.js";

/**
 * The catalog as `ListCommandTypes` answers it, with the configured timeouts where given.
 * The gateway serves it and the web app's tests fake the gateway with it, so both describe
 * the commands the same way.
 */
export function commandTypesOf(timeouts: Readonly<Record<string, number>> = {}): CommandType[] {
  return COMMAND_CATALOG.map((c) =>
    create(CommandTypeSchema, {
      name: c.name,
      description: c.description,
      changesVehicle: c.changesVehicle,
      defaultTimeoutMs: timeouts[c.name] ?? c.defaultTimeoutMs,
      params: c.params.map((p) => ({
        name: p.name,
        description: p.description,
        type: p.type === "integer" ? ParamType.INTEGER : ParamType.STRING,
        required: p.required,
        pattern: p.pattern ?? "",
        allowedValues: [...(p.allowedValues ?? [])],
        defaultValue: p.defaultValue === undefined ? "" : String(p.defaultValue),
        min: p.min ?? 0,
        max: p.max ?? 0,
      })),
    }),
  );
}
