import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { ParamType, type Command, type CommandType, type ParamSpec } from "@sovd/proto";
import { useApi } from "../api/api-context.js";
import { describeRpcError, fieldErrorFrom } from "../api/errors.js";
import { formatDuration } from "../lib/time.js";
import { hasBounds, initialValues, TIMEOUT_FIELD, TIMEOUT_RANGE_S, validateParams, type FormValues } from "./param-validation.js";

/** A fresh idempotency key: one per distinct submission, so a double click never sends twice. */
function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Props of the command form. */
export interface CommandFormProps {
  /** The catalog (ListCommandTypes). */
  readonly types: readonly CommandType[];
  /** The vehicle to send to; the form refuses to send without one. */
  readonly vehicleId: string | undefined;
  /** What the vehicle is called in the confirmation ("WVW…0001"). */
  readonly vehicleLabel?: string;
  /** The command to preselect. */
  readonly initialCommand?: string;
  /** False for viewers: the form shows what a command takes but has no submit button. */
  readonly canSubmit: boolean;
  /** Called with the stored command after SubmitCommand succeeded. */
  readonly onSubmitted: (command: Command) => void;
}

/**
 * The form of a diagnostic command, built from the catalog: one field per param (a select
 * for allowed values, a number field with bounds for integers, a text field with its pattern
 * otherwise), defaults filled in, validated before sending with one message per field, and
 * the gateway's `invalid_argument` shown next to the field it names. Commands that change the
 * vehicle ask for confirmation first.
 */
export function CommandForm({ types, vehicleId, vehicleLabel, initialCommand, canSubmit, onSubmitted }: CommandFormProps) {
  const api = useApi();
  const formId = useId();
  const [name, setName] = useState(() => types.find((t) => t.name === initialCommand)?.name ?? types[0]?.name ?? "");
  const type = types.find((t) => t.name === name);
  const [values, setValues] = useState<FormValues>(() => (type ? initialValues(type) : {}));
  const [errors, setErrors] = useState<Readonly<Record<string, string>>>({});
  const [formError, setFormError] = useState<string | undefined>(undefined);
  const [confirming, setConfirming] = useState(false);
  const [sending, setSending] = useState(false);
  const idempotencyKey = useRef(newIdempotencyKey());
  const confirmButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (confirming) confirmButton.current?.focus();
  }, [confirming]);

  const changed = (): void => {
    idempotencyKey.current = newIdempotencyKey();
    setConfirming(false);
    setFormError(undefined);
  };

  const selectCommand = (next: string): void => {
    setName(next);
    const t = types.find((c) => c.name === next);
    setValues(t ? initialValues(t) : {});
    setErrors({});
    changed();
  };

  const setValue = (field: string, value: string): void => {
    setValues((v) => ({ ...v, [field]: value }));
    setErrors((e) => {
      if (!(field in e)) return e;
      const rest = { ...e };
      delete rest[field];
      return rest;
    });
    changed();
  };

  const send = async (): Promise<void> => {
    if (!type || !vehicleId) return;
    const { params, timeoutSeconds } = validateParams(type, values);
    setSending(true);
    setFormError(undefined);
    try {
      const res = await api.commands.submitCommand({
        vehicleId,
        commandName: type.name,
        params,
        idempotencyKey: idempotencyKey.current,
        ...(timeoutSeconds === undefined ? {} : { timeout: { seconds: BigInt(timeoutSeconds), nanos: 0 } }),
      });
      idempotencyKey.current = newIdempotencyKey();
      setConfirming(false);
      if (res.command) onSubmitted(res.command);
    } catch (err) {
      setConfirming(false);
      const field = fieldErrorFrom(err);
      if (field && (field.field === TIMEOUT_FIELD || type.params.some((p) => p.name === field.field))) {
        setErrors({ [field.field]: field.message });
      } else {
        setFormError(field ? `${field.field === "vehicle" ? "Vehicle" : "Command"}: ${field.message}` : describeRpcError(err));
      }
    } finally {
      setSending(false);
    }
  };

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    if (!type || !canSubmit || sending) return;
    if (!vehicleId) {
      setFormError("Pick a vehicle first.");
      return;
    }
    const result = validateParams(type, values);
    setErrors(result.errors);
    if (Object.keys(result.errors).length > 0) {
      const first = Object.keys(result.errors)[0];
      if (first) document.getElementById(`${formId}-${first}`)?.focus();
      return;
    }
    if (type.changesVehicle) {
      setConfirming(true);
      return;
    }
    void send();
  };

  if (types.length === 0) return <p className="muted">No commands available.</p>;

  return (
    <form className="form" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor={`${formId}-command`}>Command</label>
        <select id={`${formId}-command`} value={name} onChange={(e) => selectCommand(e.target.value)}>
          {types.map((t) => (
            <option key={t.name} value={t.name}>
              {t.name}
            </option>
          ))}
        </select>
        {type ? (
          <p className="hint">
            {type.description}
            {type.changesVehicle ? <strong className="tag tag-warn">changes the vehicle</strong> : null}
          </p>
        ) : null}
      </div>

      {type?.params.map((p) => (
        <ParamField key={`${type.name}.${p.name}`} id={`${formId}-${p.name}`} spec={p} value={values[p.name] ?? ""} error={errors[p.name]} onChange={(v) => setValue(p.name, v)} />
      ))}

      {type ? (
        <div className="field">
          <label htmlFor={`${formId}-${TIMEOUT_FIELD}`}>
            Timeout <span className="muted">(seconds, optional)</span>
          </label>
          <input
            id={`${formId}-${TIMEOUT_FIELD}`}
            type="number"
            inputMode="numeric"
            min={TIMEOUT_RANGE_S.min}
            max={TIMEOUT_RANGE_S.max}
            placeholder={`default ${formatDuration(type.defaultTimeoutMs)}`}
            value={values[TIMEOUT_FIELD] ?? ""}
            onChange={(e) => setValue(TIMEOUT_FIELD, e.target.value)}
            aria-invalid={errors[TIMEOUT_FIELD] ? true : undefined}
            aria-describedby={`${formId}-${TIMEOUT_FIELD}-hint${errors[TIMEOUT_FIELD] ? ` ${formId}-${TIMEOUT_FIELD}-error` : ""}`}
          />
          <p className="hint" id={`${formId}-${TIMEOUT_FIELD}-hint`}>
            How long the vehicle may take to answer in full.
          </p>
          {errors[TIMEOUT_FIELD] ? (
            <p className="field-error" id={`${formId}-${TIMEOUT_FIELD}-error`}>
              {errors[TIMEOUT_FIELD]}
            </p>
          ) : null}
        </div>
      ) : null}

      {formError ? (
        <p role="alert" className="alert alert-bad">
          {formError}
        </p>
      ) : null}

      {!canSubmit ? (
        <p className="alert alert-info">Your role can look at commands but not send them. Ask an engineer to run it.</p>
      ) : confirming && type ? (
        <div role="alertdialog" aria-labelledby={`${formId}-confirm-title`} aria-describedby={`${formId}-confirm-text`} className="confirm">
          <p id={`${formId}-confirm-title`} className="alert-title">
            Send {type.name}?
          </p>
          <p id={`${formId}-confirm-text`}>
            {type.name} changes the vehicle{vehicleLabel ? ` ${vehicleLabel}` : ""} and cannot be undone.
          </p>
          <div className="actions">
            <button ref={confirmButton} type="button" className="btn btn-danger" onClick={() => void send()} disabled={sending}>
              {sending ? "Sending…" : `Yes, send ${type.name}`}
            </button>
            <button type="button" className="btn" onClick={() => setConfirming(false)} disabled={sending}>
              Go back
            </button>
          </div>
        </div>
      ) : (
        <div className="actions">
          <button type="submit" className="btn btn-primary" disabled={sending || !type}>
            {sending ? "Sending…" : "Send command"}
          </button>
        </div>
      )}
    </form>
  );
}

/** One param of the catalog as a labelled field, with its hint and error tied to it. */
function ParamField({ id, spec, value, error, onChange }: { id: string; spec: ParamSpec; value: string; error: string | undefined; onChange: (value: string) => void }) {
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = error ? `${hintId} ${errorId}` : hintId;
  const common = {
    id,
    name: spec.name,
    value,
    required: spec.required,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy,
  } as const;
  const hint = [spec.description, spec.pattern && spec.allowedValues.length === 0 ? `Format: ${spec.pattern}` : "", hasBounds(spec) ? `${spec.min} to ${spec.max}` : ""]
    .filter(Boolean)
    .join(" · ");

  let control;
  if (spec.allowedValues.length > 0) {
    control = (
      <select {...common} onChange={(e) => onChange(e.target.value)}>
        {!spec.required && !spec.defaultValue ? <option value="">(none)</option> : null}
        {spec.required && !spec.defaultValue ? (
          <option value="" disabled>
            Choose…
          </option>
        ) : null}
        {spec.allowedValues.map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    );
  } else if (spec.type === ParamType.INTEGER) {
    control = (
      <input
        {...common}
        type="number"
        inputMode="numeric"
        step={1}
        {...(hasBounds(spec) ? { min: spec.min, max: spec.max } : {})}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  } else {
    control = <input {...common} type="text" autoComplete="off" spellCheck={false} onChange={(e) => onChange(e.target.value)} />;
  }

  return (
    <div className={error ? "field field-invalid" : "field"}>
      <label htmlFor={id}>
        {spec.name}
        {spec.required ? <span aria-hidden="true"> *</span> : <span className="muted"> (optional)</span>}
      </label>
      {control}
      <p className="hint" id={hintId}>
        {hint}
      </p>
      {error ? (
        <p className="field-error" id={errorId}>
          {error}
        </p>
      ) : null}
    </div>
  );
}
