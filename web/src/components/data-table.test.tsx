import { cleanup, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { DataTable, type TableList } from "./data-table.js";

afterEach(cleanup);

function renderTable(list: TableList) {
  render(
    <DataTable caption="Fruit, ripest first" columns={["Name", <span className="sr-only">Actions</span>]} list={list} empty="No fruit.">
      {list.items.map((name) => (
        <tr key={String(name)}>
          <td>{String(name)}</td>
          <td>eat</td>
        </tr>
      ))}
    </DataTable>,
  );
  return screen.getByRole("table", { name: "Fruit, ripest first" });
}

describe("DataTable", () => {
  it("shows the rows under the column headers, named by its caption", () => {
    const table = renderTable({ items: ["apple", "pear"], loading: false, error: undefined });
    expect(within(table).getAllByRole("columnheader").map((th) => th.textContent)).toEqual(["Name", "Actions"]);
    expect(within(table).getAllByRole("row").slice(1).map((tr) => tr.textContent)).toEqual(["appleeat", "peareat"]);
    expect(table.getAttribute("aria-busy")).toBe("false");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("is busy while a page loads, without claiming the list is empty", () => {
    const table = renderTable({ items: [], loading: true, error: undefined });
    expect(table.getAttribute("aria-busy")).toBe("true");
    expect(screen.queryByText("No fruit.")).toBeNull();
  });

  it("says so in one full-width row when the list is empty", () => {
    const table = renderTable({ items: [], loading: false, error: undefined });
    const cell = within(table).getByText("No fruit.");
    expect(cell.getAttribute("colspan")).toBe("2");
  });

  it("shows a failed load as an alert instead of an empty list", () => {
    renderTable({ items: [], loading: false, error: "The gateway cannot be reached." });
    expect(screen.getByRole("alert").textContent).toBe("The gateway cannot be reached.");
    expect(screen.queryByText("No fruit.")).toBeNull();
  });
});
