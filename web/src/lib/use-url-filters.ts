import { useState, type FormEvent } from "react";
import type { Api } from "../api/api.js";
import { UserFacingError } from "../api/errors.js";
import { navigate, useRouteQuery } from "./router.js";
import { timestampInit, type TimestampInit } from "./time.js";

/** The filters of a list page and its filter form, kept in the URL (see useUrlFilters). */
export interface UrlFilters<F> {
  /** The filters in force: what the URL says, so what the list shows. */
  readonly applied: F;
  /** Changes exactly when `applied` does: the `key` that restarts usePaged at page 1. */
  readonly key: string;
  /** What the form shows: the applied filters with the edits not applied yet. */
  readonly draft: F;
  /** The `onChange` of the form field that edits `field` of the draft. */
  edit(field: keyof F): (event: { target: { value: string } }) => void;
  /** The form's `onSubmit`: puts the draft into the URL as a new history entry, which applies it. */
  apply(event: FormEvent): void;
  /** Where "Clear" leads: the same list without filters. */
  readonly clearHref: string;
}

/**
 * Filters of a list page that live in the URL (`#/history?vin=…&status=failed`), so a
 * filtered view survives a reload, can be shared as a link, and Back returns to the filters
 * before. `empty` names the fields (in URL order) with their unset value "". `href` builds
 * the page's URL from a query. The form edits a draft; applying it navigates, and every
 * change of the URL (Back included) resets the draft to what the URL says.
 */
export function useUrlFilters<F extends Record<keyof F, string>>(empty: F, href: (query?: URLSearchParams) => string): UrlFilters<F> {
  const applied = readFilters(empty, useRouteQuery());
  const key = toQuery(applied).toString();
  const [draft, setDraft] = useState<F>(applied);
  const [draftKey, setDraftKey] = useState(key);
  if (draftKey !== key) {
    setDraftKey(key);
    setDraft(applied);
  }
  return {
    applied,
    key,
    draft,
    edit: (field) => (event) => setDraft((d) => ({ ...d, [field]: event.target.value })),
    apply: (event) => {
      event.preventDefault();
      navigate(href(toQuery(draft)));
    },
    clearHref: href(),
  };
}

function readFilters<F extends Record<keyof F, string>>(empty: F, query: URLSearchParams): F {
  return Object.fromEntries(Object.keys(empty).map((field) => [field, query.get(field)?.trim() ?? ""])) as F;
}

/** The fields that are set, trimmed, in field order: equal filters make equal URLs. */
function toQuery(filters: Record<string, string>): URLSearchParams {
  const query = new URLSearchParams();
  for (const [field, value] of Object.entries(filters)) if (value.trim()) query.set(field, value.trim());
  return query;
}

/** The filters that history and audit both offer: a vehicle by its VIN, and a time range. */
export interface VehicleTimeFilters {
  readonly vin: string;
  /** Lower bound as a `datetime-local` input gives it (`2026-11-20T08:00`, local time); "" for none. */
  readonly from: string;
  /** Upper bound, likewise. */
  readonly to: string;
}

/** VehicleTimeFilters as the list requests take them. */
export interface VehicleTimeScope {
  /** The vehicle the VIN names; "" for every vehicle. */
  readonly vehicleId: string;
  /** Undefined when the bound is unset or not a date, so the request leaves it out. */
  readonly after: TimestampInit | undefined;
  readonly before: TimestampInit | undefined;
}

/** Thrown when the VIN filter names no vehicle; shown instead of an empty list. */
export class UnknownVinError extends UserFacingError {
  override readonly name = "UnknownVinError";
}

/**
 * The one mapping from the vehicle and time filters to request fields, shared by the list
 * pages: the VIN is looked up (ListVehicles searches by prefix, so an exact match wins, else
 * a single hit), the dates become Timestamps. Throws UnknownVinError when no vehicle fits.
 */
export async function resolveVehicleTime(api: Api, filters: VehicleTimeFilters, signal: AbortSignal): Promise<VehicleTimeScope> {
  return {
    vehicleId: filters.vin ? await vehicleIdOfVin(api, filters.vin, signal) : "",
    after: timestampOfInput(filters.from),
    before: timestampOfInput(filters.to),
  };
}

async function vehicleIdOfVin(api: Api, vin: string, signal: AbortSignal): Promise<string> {
  const found = await api.vehicles.listVehicles({ query: vin, pageSize: 5 }, { signal });
  const vehicle = found.vehicles.find((v) => v.vin.toLowerCase() === vin.toLowerCase()) ?? (found.vehicles.length === 1 ? found.vehicles[0] : undefined);
  if (!vehicle) throw new UnknownVinError(`No vehicle has the VIN “${vin}”.`);
  return vehicle.vehicleId;
}

function timestampOfInput(value: string): TimestampInit | undefined {
  const ms = value ? new Date(value).getTime() : NaN;
  return Number.isNaN(ms) ? undefined : timestampInit(ms);
}
