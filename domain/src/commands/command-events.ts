import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { CommandEventSchema, commandEventsSubject, REQUEST_ID_HEADER, type CommandEvent } from "@sovd/proto";
import type { Bus } from "@sovd/platform";
import { stateEventsFromRow, type CommandRow } from "./command-rows.js";

/*
 * The events of `sovd.v1.command.{id}.events` (architecture §6 "The bus"): encoded once per
 * publish, decoded once per receiving gateway. Persist first, then publish: callers publish
 * only what is committed.
 */

/** Publishes one event of a command, carrying the request id. */
export function publishCommandEvent(bus: Bus, event: CommandEvent, requestId?: string | null): void {
  bus.publish(commandEventsSubject(event.commandId), toBinary(CommandEventSchema, event), requestId ? { [REQUEST_ID_HEADER]: requestId } : {});
}

/**
 * Publishes what watchers must see when a command ended: for a failure the error event,
 * then the terminal status, the same events a watcher replays from the row.
 */
export function publishTerminalEvents(bus: Bus, row: CommandRow): void {
  for (const event of stateEventsFromRow(row)) publishCommandEvent(bus, event, row.correlation_id);
}

/** A command event off the bus; throws on bytes that are not one. */
export const decodeCommandEvent = (data: Uint8Array): CommandEvent => fromBinary(CommandEventSchema, data);
