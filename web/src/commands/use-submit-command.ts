import { useCallback, useRef, useState } from "react";
import type { Command, CommandType } from "@sovd/proto";
import { useApi } from "../api/api-context.js";
import { describeRpcError, fieldErrorFrom } from "../api/errors.js";
import { TIMEOUT_FIELD, type CommandParams } from "./param-validation.js";

/** A command the form has validated and the user has confirmed where needed: ready to send. */
export interface CommandToSend {
  readonly vehicleId: string;
  readonly type: CommandType;
  readonly params: CommandParams;
  /** The timeout override; undefined for the command type's default. */
  readonly timeoutSeconds: number | undefined;
}

/** How a submission ended, in the form's terms. */
export type SubmitOutcome =
  | { readonly sent: true; readonly command: Command | undefined }
  | {
      readonly sent: false;
      /** The gateway's complaint about one field of the form, keyed like the form's errors. */
      readonly fieldErrors: Readonly<Record<string, string>>;
      /** A complaint that belongs to no field of the form, in words for the user. */
      readonly formError: string | undefined;
    };

/** What the form gets from useSubmitCommand. */
export interface SubmitCommand {
  /** True while a SubmitCommand call is on its way: the form disables its buttons. */
  readonly sending: boolean;
  /** Sends the command; never rejects. */
  send(command: CommandToSend): Promise<SubmitOutcome>;
  /** Call when the user changed what would be sent, so the next send is a new command. */
  startOver(): void;
}

/** A fresh idempotency key: one per distinct submission, so a double click never sends twice. */
function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * SubmitCommand for the command form, apart from what the form shows. One idempotency key
 * covers every try of the same command: a retry after an error the browser could not read
 * (the command may be stored) returns the first command instead of sending again. The key
 * changes after a success and whenever the user changes the command (`startOver`). A
 * rejection becomes a message on the field the gateway names, or a sentence for the form.
 */
export function useSubmitCommand(): SubmitCommand {
  const api = useApi();
  const [sending, setSending] = useState(false);
  const idempotencyKey = useRef(newIdempotencyKey());

  const startOver = useCallback(() => {
    idempotencyKey.current = newIdempotencyKey();
  }, []);

  const send = async ({ vehicleId, type, params, timeoutSeconds }: CommandToSend): Promise<SubmitOutcome> => {
    setSending(true);
    try {
      const res = await api.commands.submitCommand({
        vehicleId,
        commandName: type.name,
        params,
        idempotencyKey: idempotencyKey.current,
        ...(timeoutSeconds === undefined ? {} : { timeout: { seconds: BigInt(timeoutSeconds), nanos: 0 } }),
      });
      startOver();
      return { sent: true, command: res.command };
    } catch (err) {
      return { sent: false, ...rejectionOf(err, type) };
    } finally {
      setSending(false);
    }
  };

  return { sending, send, startOver };
}

/** Where the form shows a rejection: next to the param or timeout it names, else above the buttons. */
function rejectionOf(err: unknown, type: CommandType): { fieldErrors: Readonly<Record<string, string>>; formError: string | undefined } {
  const field = fieldErrorFrom(err);
  if (!field) return { fieldErrors: {}, formError: describeRpcError(err) };
  if (field.field === TIMEOUT_FIELD || type.params.some((p) => p.name === field.field)) {
    return { fieldErrors: { [field.field]: field.message }, formError: undefined };
  }
  return { fieldErrors: {}, formError: `${field.field === "vehicle" ? "Vehicle" : "Command"}: ${field.message}` };
}
