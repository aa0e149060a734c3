import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { useUrlFilters } from "./use-url-filters.js";

afterEach(() => {
  cleanup();
  window.location.hash = "";
});

const NO_FILTERS = { vin: "", status: "" };
const href = (query?: URLSearchParams): string => (query?.toString() ? `#/things?${query.toString()}` : "#/things");

/** A filter form as the list pages build one, showing the filters in force below it. */
function ThingFilters() {
  const filters = useUrlFilters(NO_FILTERS, href);
  return (
    <>
      <form onSubmit={filters.apply} aria-label="Filter things">
        <label htmlFor="vin">VIN</label>
        <input id="vin" value={filters.draft.vin} onChange={filters.edit("vin")} />
        <label htmlFor="status">Status</label>
        <input id="status" value={filters.draft.status} onChange={filters.edit("status")} />
        <button type="submit">Apply</button>
        <a href={filters.clearHref}>Clear</a>
      </form>
      <output aria-label="In force">{JSON.stringify(filters.applied)}</output>
    </>
  );
}

const field = (label: string) => screen.getByLabelText(label) as HTMLInputElement;
const inForce = () => screen.getByLabelText("In force").textContent;

describe("useUrlFilters", () => {
  it("opens with the filters of the URL, as after a reload or from a shared link", () => {
    window.location.hash = "#/things?vin=WVW&status=failed";
    render(<ThingFilters />);
    expect(field("VIN").value).toBe("WVW");
    expect(field("Status").value).toBe("failed");
    expect(inForce()).toBe(JSON.stringify({ vin: "WVW", status: "failed" }));
  });

  it("applies only what is submitted, into the URL, trimmed and without empty fields", async () => {
    window.location.hash = "#/things";
    render(<ThingFilters />);
    fireEvent.change(field("Status"), { target: { value: " completed " } });
    expect(inForce()).toBe(JSON.stringify({ vin: "", status: "" }));
    fireEvent.click(screen.getByRole("button", { name: "Apply" }));
    expect(window.location.hash).toBe("#/things?status=completed");
    await waitFor(() => expect(inForce()).toBe(JSON.stringify({ vin: "", status: "completed" })));
    expect(field("Status").value).toBe("completed");
    expect(screen.getByRole("link", { name: "Clear" }).getAttribute("href")).toBe("#/things");
  });

  it("puts the form back to the URL's filters when the URL changes, as Back does", async () => {
    window.location.hash = "#/things?vin=WVW";
    render(<ThingFilters />);
    fireEvent.change(field("VIN"), { target: { value: "an edit not applied" } });
    act(() => {
      window.location.hash = "#/things?status=queued";
    });
    await waitFor(() => expect(field("Status").value).toBe("queued"));
    expect(field("VIN").value).toBe("");
    expect(inForce()).toBe(JSON.stringify({ vin: "", status: "queued" }));
  });
});
