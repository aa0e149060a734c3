import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { ParamType, type Command, type CommandType, type ParamSpec } from "@sovd/proto";
import { formatDuration } from "../lib/time.js";
import { hasBounds, initialValues, TIMEOUT_FIELD, TIMEOUT_RANGE_S, validateParams, type FormValues } from "./param-validation.js";
import { useSubmitCommand, type CommandToSend } from "./use-submit-command.js";

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

/** The validated params and timeout of a submit, kept while the user is asked to confirm. */
type Checked = Pick<CommandToSend, "params" | "timeoutSeconds">;

/**
 * The form of a diagnostic command, built from the catalog: one field per param (a select
 * for allowed values, a number field with bounds for integers, a text field with its pattern
 * otherwise), defaults filled in, validated before sending with one message per field, and
 * the gateway's `invalid_argument` shown next to the field it names. Commands that change the
 * vehicle ask for confirmation first. Sending is useSubmitCommand's.
 */
export function CommandForm({ types, vehicleId, vehicleLabel, initialCommand, canSubmit, onSubmitted }: CommandFormProps) {
  const formId = useId();
  const [name, setName] = useState(() => types.find((t) => t.name === initialCommand)?.name ?? types[0]?.name ?? "");
  const type = types.find((t) => t.name === name);
  const [values, setValues] = useState<FormValues>(() => (type ? initialValues(type) : {}));
  const [errors, setErrors] = useState<Readonly<Record<string, string>>>({});
  const [formError, setFormError] = useState<string | undefined>(undefined);
  /** Set while a command that changes the vehicle waits for "Yes, send": what was validated. */
  const [awaitingConfirmation, setAwaitingConfirmation] = useState<Checked | undefined>(undefined);
  const { sending, send, startOver } = useSubmitCommand();

  const changed = (): void => {
    startOver();
    setAwaitingConfirmation(undefined);
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

  const sendChecked = async (checked: Checked): Promise<void> => {
    if (!type || !vehicleId) return;
    setFormError(undefined);
    const outcome = await send({ vehicleId, type, ...checked });
    setAwaitingConfirmation(undefined);
    if (outcome.sent) {
      if (outcome.command) onSubmitted(outcome.command);
      return;
    }
    if (Object.keys(outcome.fieldErrors).length > 0) setErrors(outcome.fieldErrors);
    setFormError(outcome.formError);
  };

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    if (!type || !canSubmit || sending) return;
    if (!vehicleId) {
      setFormError("Pick a vehicle first.");
      return;
    }
    const { errors: invalid, ...checked } = validateParams(type, values);
    setErrors(invalid);
    const first = Object.keys(invalid)[0];
    if (first !== undefined) {
      document.getElementById(`${formId}-${first}`)?.focus();
      return;
    }
    if (type.changesVehicle) setAwaitingConfirmation(checked);
    else void sendChecked(checked);
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
        <TimeoutField id={`${formId}-${TIMEOUT_FIELD}`} type={type} value={values[TIMEOUT_FIELD] ?? ""} error={errors[TIMEOUT_FIELD]} onChange={(v) => setValue(TIMEOUT_FIELD, v)} />
      ) : null}

      {formError ? (
        <p role="alert" className="alert alert-bad">
          {formError}
        </p>
      ) : null}

      {!canSubmit ? (
        <p className="alert alert-info">Your role can look at commands but not send them. Ask an engineer to run it.</p>
      ) : awaitingConfirmation && type ? (
        <ConfirmSend
          id={`${formId}-confirm`}
          commandName={type.name}
          vehicleLabel={vehicleLabel}
          sending={sending}
          onConfirm={() => void sendChecked(awaitingConfirmation)}
          onBack={() => setAwaitingConfirmation(undefined)}
        />
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

/** The optional timeout override, with the command type's default as placeholder. */
function TimeoutField({ id, type, value, error, onChange }: { id: string; type: CommandType; value: string; error: string | undefined; onChange: (value: string) => void }) {
  return (
    <div className="field">
      <label htmlFor={id}>
        Timeout <span className="muted">(seconds, optional)</span>
      </label>
      <input
        id={id}
        type="number"
        inputMode="numeric"
        min={TIMEOUT_RANGE_S.min}
        max={TIMEOUT_RANGE_S.max}
        placeholder={`default ${formatDuration(type.defaultTimeoutMs)}`}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-hint${error ? ` ${id}-error` : ""}`}
      />
      <p className="hint" id={`${id}-hint`}>
        How long the vehicle may take to answer in full.
      </p>
      {error ? (
        <p className="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** The second step of a command that changes the vehicle: says so and takes the focus. */
function ConfirmSend({
  id,
  commandName,
  vehicleLabel,
  sending,
  onConfirm,
  onBack,
}: {
  id: string;
  commandName: string;
  vehicleLabel: string | undefined;
  sending: boolean;
  onConfirm: () => void;
  onBack: () => void;
}) {
  const confirmButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    confirmButton.current?.focus();
  }, []);
  return (
    <div role="alertdialog" aria-labelledby={`${id}-title`} aria-describedby={`${id}-text`} className="confirm">
      <p id={`${id}-title`} className="alert-title">
        Send {commandName}?
      </p>
      <p id={`${id}-text`}>
        {commandName} changes the vehicle{vehicleLabel ? ` ${vehicleLabel}` : ""} and cannot be undone.
      </p>
      <div className="actions">
        <button ref={confirmButton} type="button" className="btn btn-danger" onClick={onConfirm} disabled={sending}>
          {sending ? "Sending…" : `Yes, send ${commandName}`}
        </button>
        <button type="button" className="btn" onClick={onBack} disabled={sending}>
          Go back
        </button>
      </div>
    </div>
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
